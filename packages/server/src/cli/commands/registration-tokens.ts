import type { CommandGroup } from '../command.js';
import { defined, emit, emitList, emitWithSecret, optionalInteger, record } from '../output.js';
import type { Column } from '../print-table.js';

/** `gatehouse registration-tokens ...`: initial access tokens for Dynamic Client Registration (/v1/registration-tokens). */

const columns: Column<any>[] = [
  ['ID', (t) => t.id],
  ['NAME', (t) => t.name],
  ['PREFIX', (t) => t.prefix],
  ['STATUS', (t) => t.status],
  ['USES', (t) => (t.maxUses === null ? `${t.uses}` : `${t.uses}/${t.maxUses}`)],
  ['TENANT', (t) => t.tenantId],
  ['EXPIRES', (t) => t.expiresAt],
  ['CREATED', (t) => t.createdAt],
];

export const registrationTokensGroup: CommandGroup = {
  name: 'registration-tokens',
  summary: 'Initial access tokens for Dynamic Client Registration (GATEHOUSE_CLIENT_REGISTRATION=token): issue, list, revoke.',
  commands: [
    {
      name: 'create',
      summary: 'Issue an initial access token; it is printed once',
      options: {
        name: { type: 'string', arg: 'NAME', required: true, help: 'What the token is for' },
        tenant: { type: 'string', arg: 'TENANT', help: 'Clients registered with it belong to this tenant' },
        'expires-in': { type: 'string', arg: 'SECONDS', help: 'Lifetime (60 to 31536000); never expires when absent' },
        'max-uses': { type: 'string', arg: 'N', help: 'How many registrations it admits; no limit when absent' },
      },
      examples: ['gatehouse registration-tokens create --name "partner onboarding" --max-uses 5 --expires-in 86400'],
      async run(context) {
        const o = context.options;
        const body = defined({
          name: o.name,
          tenantId: o.tenant,
          expiresInSeconds: optionalInteger(o['expires-in'], '--expires-in'),
          maxUses: optionalInteger(o['max-uses'], '--max-uses'),
        });
        emitWithSecret(context, await context.api.call('POST', '/v1/registration-tokens', { body }), 'token', 'initial access token');
      },
    },
    {
      name: 'list',
      summary: 'List initial access tokens, newest first',
      paginated: true,
      options: { tenant: { type: 'string', arg: 'TENANT', help: "Only this tenant's tokens" } },
      async run(context) {
        await emitList(context, '/v1/registration-tokens', { tenantId: context.options.tenant }, columns);
      },
    },
    {
      name: 'revoke',
      summary: 'Revoke an initial access token (clients it registered stay)',
      args: ['ID'],
      async run(context) {
        const token = await context.api.call('DELETE', `/v1/registration-tokens/${encodeURIComponent(context.args[0]!)}`);
        emit(context, token, () => record(token));
      },
    },
  ],
};
