import { GRANT_TYPES, TOKEN_ENDPOINT_AUTH_METHODS } from '../../core/oauth/client-metadata.js';
import { UsageError, type CommandGroup, type OptionSpec } from '../command.js';
import { defined, emit, emitList, emitWithSecret, nonEmpty, oneOf, optionalInteger, record } from '../output.js';
import type { Column } from '../print-table.js';

/** `gatehouse clients ...`: OAuth clients (/v1/clients). */

const columns: Column<any>[] = [
  ['CLIENT ID', (c) => c.clientId],
  ['NAME', (c) => c.name],
  ['AUTH METHOD', (c) => c.tokenEndpointAuthMethod],
  ['GRANT TYPES', (c) => c.grantTypes],
  ['SCOPES', (c) => c.scopes],
  ['TENANT', (c) => c.tenantId],
  ['REGISTRATION', (c) => c.registration],
  ['CREATED', (c) => c.createdAt],
];

/** RFC 8705 tls_client_auth: the one certificate field a client is matched on. */
const TLS_OPTIONS = {
  'tls-subject-dn': 'tlsClientAuthSubjectDn',
  'tls-san-dns': 'tlsClientAuthSanDns',
  'tls-san-uri': 'tlsClientAuthSanUri',
  'tls-san-ip': 'tlsClientAuthSanIp',
  'tls-san-email': 'tlsClientAuthSanEmail',
} as const;

const clientOptions = (creating: boolean): Record<string, OptionSpec> => ({
  name: { type: 'string', arg: 'NAME', required: creating, help: 'A name shown on the consent page' },
  'grant-type': { type: 'string', arg: 'GRANT', multiple: true, required: creating, help: GRANT_TYPES.join(' | ') },
  'auth-method': { type: 'string', arg: 'METHOD', required: creating, help: TOKEN_ENDPOINT_AUTH_METHODS.join(' | ') },
  'redirect-uri': { type: 'string', arg: 'URI', multiple: true, help: 'A redirect URI, registered exactly' },
  scope: { type: 'string', arg: 'SCOPE', multiple: true, help: 'A scope the client may request' },
  audience: { type: 'string', arg: 'AUDIENCE', multiple: true, help: 'An audience (resource indicator) the client may obtain tokens for' },
  'default-audience': { type: 'string', arg: 'AUDIENCE', help: `The audience of tokens that name none${creating ? '' : ' ("none" removes it)'}` },
  'access-token-ttl': { type: 'string', arg: 'SECONDS', help: `Access-token lifetime${creating ? '' : ' ("default" returns to the server default)'}` },
  ...Object.fromEntries(
    Object.keys(TLS_OPTIONS).map((flag) => [flag, { type: 'string', arg: 'VALUE', help: `tls_client_auth: the certificate's ${flag.slice(4).replace('-', ' ')}` } satisfies OptionSpec]),
  ),
});

function clientBody(o: Record<string, any>, creating: boolean): Record<string, unknown> {
  const tls = Object.entries(TLS_OPTIONS).filter(([flag]) => o[flag] !== undefined);
  if (tls.length > 1) throw new UsageError(`give one --tls-* option, not ${tls.map(([flag]) => `--${flag}`).join(' and ')}`);
  return defined({
    name: o.name,
    grantTypes: o['grant-type']?.map((g: string) => oneOf(g, GRANT_TYPES, '--grant-type')),
    tokenEndpointAuthMethod: oneOf(o['auth-method'], TOKEN_ENDPOINT_AUTH_METHODS, '--auth-method'),
    redirectUris: o['redirect-uri'],
    scopes: o.scope,
    audiences: o.audience,
    defaultAudience: !creating && o['default-audience'] === 'none' ? null : o['default-audience'],
    accessTokenTtlSeconds:
      !creating && o['access-token-ttl'] === 'default' ? null : optionalInteger(o['access-token-ttl'], '--access-token-ttl'),
    ...(tls[0] ? { [tls[0][1]]: o[tls[0][0]] } : {}),
  });
}

const path = (id: string) => `/v1/clients/${encodeURIComponent(id)}`;

export const clientsGroup: CommandGroup = {
  name: 'clients',
  summary: 'OAuth clients: register, list, inspect, change, rotate their secret and delete them.',
  commands: [
    {
      name: 'create',
      summary: 'Register an OAuth client; a confidential client\'s secret is printed once',
      options: { ...clientOptions(true), tenant: { type: 'string', arg: 'TENANT', help: 'The tenant the client belongs to' } },
      examples: [
        'gatehouse clients create --name reports --grant-type client_credentials --auth-method client_secret_basic --scope reports:read',
        'gatehouse clients create --name web --grant-type authorization_code --grant-type refresh_token --auth-method none --redirect-uri https://app.example.com/callback',
      ],
      async run(context) {
        const body = { ...clientBody(context.options, true), ...defined({ tenantId: context.options.tenant }) };
        emitWithSecret(context, await context.api.call('POST', '/v1/clients', { body }), 'clientSecret', 'client secret');
      },
    },
    {
      name: 'list',
      summary: 'List OAuth clients, newest first',
      paginated: true,
      options: {
        tenant: { type: 'string', arg: 'TENANT', help: "Only this tenant's clients" },
        registration: { type: 'string', arg: 'HOW', help: 'admin | dynamic: only clients registered this way' },
      },
      async run(context) {
        await emitList(context, '/v1/clients', { tenantId: context.options.tenant, registration: context.options.registration }, columns);
      },
    },
    {
      name: 'get',
      summary: 'Show one OAuth client',
      args: ['CLIENT_ID'],
      async run(context) {
        const client = await context.api.call('GET', path(context.args[0]!));
        emit(context, client, () => record(client));
      },
    },
    {
      name: 'update',
      summary: 'Change an OAuth client (lists given replace the registered ones)',
      args: ['CLIENT_ID'],
      options: clientOptions(false),
      async run(context) {
        const body = nonEmpty(clientBody(context.options, false), 'clients update');
        const client = await context.api.call('PATCH', path(context.args[0]!), { body });
        emit(context, client, () => record(client));
      },
    },
    {
      name: 'rotate-secret',
      summary: 'Give a confidential client a new secret (printed once); the old one works for the grace period',
      args: ['CLIENT_ID'],
      options: { 'grace-period': { type: 'string', arg: 'SECONDS', help: 'How long the old secret keeps working (server default when absent)' } },
      async run(context) {
        const body = defined({ gracePeriodSeconds: optionalInteger(context.options['grace-period'], '--grace-period') });
        const client = await context.api.call('POST', `${path(context.args[0]!)}/secret/rotate`, { body });
        emitWithSecret(context, client, 'clientSecret', 'client secret');
      },
    },
    {
      name: 'delete',
      summary: 'Delete an OAuth client',
      args: ['CLIENT_ID'],
      async run(context) {
        await context.api.call('DELETE', path(context.args[0]!));
        if (!context.json) process.stdout.write(`Deleted ${context.args[0]}\n`);
      },
    },
  ],
};
