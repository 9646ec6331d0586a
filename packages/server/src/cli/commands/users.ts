import { UsageError, type CommandGroup } from '../command.js';
import { defined, emit, emitList, record } from '../output.js';
import type { Column } from '../print-table.js';

/** `gatehouse users ...`: users who sign in on the login page (/v1/users). */

const columns: Column<any>[] = [
  ['ID', (u) => u.id],
  ['EMAIL', (u) => u.email],
  ['NAME', (u) => u.name],
  ['TENANT', (u) => u.tenantId],
  ['CREATED', (u) => u.createdAt],
];

const path = (id: string) => `/v1/users/${encodeURIComponent(id)}`;

export const usersGroup: CommandGroup = {
  name: 'users',
  summary: 'Users of the login page: create, list, inspect and delete them.',
  commands: [
    {
      name: 'create',
      summary: 'Create a user; the password is read from stdin (--password-stdin) or GATEHOUSE_USER_PASSWORD, never a flag',
      options: {
        email: { type: 'string', arg: 'EMAIL', required: true, help: 'The sign-in e-mail address (unique)' },
        name: { type: 'string', arg: 'NAME', help: 'A display name' },
        tenant: { type: 'string', arg: 'TENANT', help: 'The tenant the user belongs to' },
        'password-stdin': { type: 'boolean', help: 'Read the password from stdin (its first line)' },
      },
      examples: ['printf %s "$PASSWORD" | gatehouse users create --email ada@example.com --name Ada --password-stdin'],
      async run(context) {
        const o = context.options;
        const password = o['password-stdin'] ? (await context.readStdin()).split(/\r?\n/)[0] : process.env.GATEHOUSE_USER_PASSWORD;
        if (!password) throw new UsageError('users create needs a password: --password-stdin, or GATEHOUSE_USER_PASSWORD');
        const user = await context.api.call('POST', '/v1/users', { body: defined({ email: o.email, password, name: o.name, tenantId: o.tenant }) });
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
