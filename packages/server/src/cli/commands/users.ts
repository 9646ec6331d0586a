import { UsageError, type CommandContext, type CommandGroup } from '../command.js';
import { promptPassword } from '../prompt-password.js';
import { defined, emit, emitList, record } from '../output.js';
import type { Column } from '../print-table.js';

/** `gatehouse users ...`: users who sign in on the login page (/v1/users), administrators of the console among them. */

const columns: Column<any>[] = [
  ['ID', (u) => u.id],
  ['EMAIL', (u) => u.email],
  ['NAME', (u) => u.name],
  ['TENANT', (u) => u.tenantId],
  ['ROLES', (u) => u.adminScopes],
  ['CREATED', (u) => u.createdAt],
];

const path = (id: string) => `/v1/users/${encodeURIComponent(id)}`;

/** The new user's password: stdin (--password-stdin), GATEHOUSE_USER_PASSWORD, or asked on the terminal; never a flag. */
async function readPassword(context: CommandContext): Promise<string> {
  if (context.options['password-stdin']) {
    const line = (await context.readStdin()).split(/\r?\n/)[0];
    if (line) return line;
  } else {
    const password = process.env.GATEHOUSE_USER_PASSWORD || (await promptPassword('Password for the new user: '));
    if (password) return password;
  }
  throw new UsageError('users create needs a password: typed at the prompt, --password-stdin, or GATEHOUSE_USER_PASSWORD');
}

export const usersGroup: CommandGroup = {
  name: 'users',
  summary: 'Users of the login page: create, list, inspect and delete them.',
  commands: [
    {
      name: 'create',
      summary:
        'Create a user; the password is prompted for, or read from stdin (--password-stdin) or GATEHOUSE_USER_PASSWORD, never a flag',
      options: {
        email: { type: 'string', arg: 'EMAIL', required: true, help: 'The sign-in e-mail address (unique)' },
        name: { type: 'string', arg: 'NAME', help: 'A display name' },
        tenant: { type: 'string', arg: 'TENANT', help: 'The tenant the user belongs to' },
        admin: { type: 'boolean', help: 'An administrator of the console: the admin role (every management scope, within its tenant)' },
        role: { type: 'string', arg: 'SCOPE', multiple: true, help: 'An admin role: a management scope the user holds in the console (e.g. keys:read)' },
        'password-stdin': { type: 'boolean', help: 'Read the password from stdin (its first line)' },
      },
      examples: [
        'gatehouse users create --admin --email admin@example.com   # prompts for the password',
        'printf %s "$PASSWORD" | gatehouse users create --email ada@example.com --name Ada --password-stdin',
      ],
      async run(context) {
        const o = context.options;
        const password = await readPassword(context);
        const roles: string[] = [...(o.admin ? ['admin'] : []), ...(o.role ?? [])];
        const body = defined({ email: o.email, password, name: o.name, tenantId: o.tenant, adminScopes: roles.length > 0 ? roles : undefined });
        const user = await context.api.call('POST', '/v1/users', { body });
        emit(context, user, () => record(user));
      },
    },
    {
      name: 'roles',
      summary: "Set a user's admin roles (the management scopes it holds in the console), replacing the ones it has",
      args: ['ID'],
      options: {
        admin: { type: 'boolean', help: 'The admin role (every management scope, within its tenant)' },
        role: { type: 'string', arg: 'SCOPE', multiple: true, help: 'An admin role: a management scope (e.g. keys:read)' },
        none: { type: 'boolean', help: 'No admin role: the user is no longer an administrator' },
      },
      examples: ['gatehouse users roles usr_... --role keys:read --role audit:read', 'gatehouse users roles usr_... --none'],
      async run(context) {
        const o = context.options;
        const roles: string[] = [...(o.admin ? ['admin'] : []), ...(o.role ?? [])];
        if (o.none ? roles.length > 0 : roles.length === 0) throw new UsageError('give --admin and/or --role, or --none');
        const user = await context.api.call('PATCH', path(context.args[0]!), { body: { adminScopes: roles } });
        emit(context, user, () => record(user));
      },
    },
    {
      name: 'list',
      summary: 'List users, newest first',
      paginated: true,
      options: { tenant: { type: 'string', arg: 'TENANT', help: "Only this tenant's users" } },
      async run(context) {
        await emitList(context, '/v1/users', { tenantId: context.options.tenant }, columns);
      },
    },
    {
      name: 'get',
      summary: 'Show one user',
      args: ['ID'],
      async run(context) {
        const user = await context.api.call('GET', path(context.args[0]!));
        emit(context, user, () => record(user));
      },
    },
    {
      name: 'delete',
      summary: 'Delete a user',
      args: ['ID'],
      async run(context) {
        await context.api.call('DELETE', path(context.args[0]!));
        if (!context.json) process.stdout.write(`Deleted ${context.args[0]}\n`);
      },
    },
  ],
};
