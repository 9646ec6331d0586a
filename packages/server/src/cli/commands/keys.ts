import { apiKeyPrefixProblem, DEFAULT_API_KEY_PREFIX, generateApiKey } from '../../core/api-keys/key-format.js';
import { UsageError, type CommandGroup, type OptionSpec } from '../command.js';
import { defined, emit, emitList, emitWithSecret, metadata, nonEmpty, oneOf, optionalInteger, rateLimit, record, timestamp } from '../output.js';
import type { Column } from '../print-table.js';

/** `gatehouse keys ...`: API keys (/v1/keys). */

const columns: Column<any>[] = [
  ['ID', (k) => k.id],
  ['NAME', (k) => k.name],
  ['PREFIX', (k) => k.prefix],
  ['ENV', (k) => k.environment],
  ['STATUS', (k) => k.status],
  ['SCOPES', (k) => k.scopes],
  ['TENANT', (k) => k.tenantId],
  ['CREATED', (k) => k.createdAt],
  ['EXPIRES', (k) => k.expiresAt],
  ['LAST USED', (k) => k.lastUsedAt],
];

const ANOMALY_ACTIONS = ['notify', 'revoke'] as const;
const keyOptions = (required: boolean): Record<string, OptionSpec> => ({
  name: { type: 'string', arg: 'NAME', required, help: 'A name for people (1 to 128 characters)' },
  scope: { type: 'string', arg: 'SCOPE', multiple: true, help: 'A scope the key holds' },
  'expires-at': { type: 'string', arg: 'TIME', help: `When the key stops working (ISO 8601${required ? '' : ', or "never"'})` },
  'rate-limit': { type: 'string', arg: 'N/S', help: `At most N verifications per S seconds${required ? '' : ' ("none" removes the limit)'}` },
  metadata: { type: 'string', arg: 'KEY=VALUE', multiple: true, help: `Your own data${required ? '' : ' (replaces the whole metadata)'}` },
  'anomaly-action': { type: 'string', arg: 'ACTION', help: 'notify | revoke: what a compromise-looking use does' },
});

export const keysGroup: CommandGroup = {
  name: 'keys',
  summary: 'API keys: create, list, inspect, change, rotate, revoke and verify them.',
  commands: [
    {
      name: 'generate',
      summary: 'Print a new, well-formed key (for GATEHOUSE_BOOTSTRAP_ADMIN_KEY); stores nothing, needs no server',
      remote: false,
      options: {
        test: { type: 'boolean', help: 'A test-environment key (<prefix>_test_...)' },
        'key-prefix': { type: 'string', arg: 'PREFIX', help: "The key's prefix (default: GATEHOUSE_KEY_PREFIX, else sk)" },
      },
      run(context) {
        const prefix = context.options['key-prefix'] ?? (process.env.GATEHOUSE_KEY_PREFIX?.trim() || DEFAULT_API_KEY_PREFIX);
        const problem = apiKeyPrefixProblem(prefix);
        if (problem !== undefined) throw new UsageError(`--key-prefix (or GATEHOUSE_KEY_PREFIX): ${problem}`);
        const key = generateApiKey(context.options.test ? 'test' : 'live', prefix).key;
        process.stdout.write(context.json ? `${JSON.stringify({ key }, null, 2)}\n` : `${key}\n`);
      },
    },
    {
      name: 'create',
      summary: 'Create an API key; its plaintext is printed once',
      options: {
        ...keyOptions(true),
        environment: { type: 'string', arg: 'ENV', help: 'live (default) | test' },
        tenant: { type: 'string', arg: 'TENANT', help: 'The tenant the key belongs to' },
      },
      examples: ['gatehouse keys create --name billing --scope invoices:read --scope invoices:write --rate-limit 100/60 --metadata team=billing'],
      async run(context) {
        const o = context.options;
        const body = defined({
          name: o.name,
          scopes: o.scope,
          environment: oneOf(o.environment, ['live', 'test'] as const, '--environment'),
          tenantId: o.tenant,
          expiresAt: o['expires-at'] === undefined ? undefined : timestamp(o['expires-at'], '--expires-at'),
          rateLimit: o['rate-limit'] === undefined ? undefined : rateLimit(o['rate-limit']),
          metadata: metadata(o.metadata),
          anomalyAction: oneOf(o['anomaly-action'], ANOMALY_ACTIONS, '--anomaly-action'),
        });
        emitWithSecret(context, await context.api.call('POST', '/v1/keys', { body }), 'key', 'API key');
      },
    },
    {
      name: 'list',
      summary: 'List API keys, newest first',
      paginated: true,
      options: {
        tenant: { type: 'string', arg: 'TENANT', help: "Only this tenant's keys" },
        environment: { type: 'string', arg: 'ENV', help: 'live | test' },
        status: { type: 'string', arg: 'STATUS', help: 'active | expired | revoked' },
      },
      examples: ['gatehouse keys list --status active --environment live --all'],
      async run(context) {
        const o = context.options;
        await emitList(
          context,
          '/v1/keys',
          {
            tenantId: o.tenant,
            environment: oneOf(o.environment, ['live', 'test'] as const, '--environment'),
            status: oneOf(o.status, ['active', 'expired', 'revoked'] as const, '--status'),
          },
          columns,
        );
      },
    },
    {
      name: 'get',
      summary: 'Show one API key',
      args: ['ID'],
      async run(context) {
        const key = await context.api.call('GET', `/v1/keys/${encodeURIComponent(context.args[0]!)}`);
        emit(context, key, () => record(key));
      },
    },
    {
      name: 'update',
      summary: "Change a key's name, scopes, expiry, rate limit, metadata or anomaly action",
      args: ['ID'],
      options: { ...keyOptions(false), 'clear-scopes': { type: 'boolean', help: 'Remove every scope' } },
      examples: ['gatehouse keys update key_123 --scope invoices:read --rate-limit none --expires-at never'],
      async run(context) {
        const o = context.options;
        if (o['clear-scopes'] && o.scope) throw new UsageError('give --scope or --clear-scopes, not both');
        const body = nonEmpty(
          defined({
            name: o.name,
            scopes: o['clear-scopes'] ? [] : o.scope,
            expiresAt: o['expires-at'] === undefined ? undefined : o['expires-at'] === 'never' ? null : timestamp(o['expires-at'], '--expires-at'),
            rateLimit: o['rate-limit'] === undefined ? undefined : o['rate-limit'] === 'none' ? null : rateLimit(o['rate-limit']),
            metadata: metadata(o.metadata),
            anomalyAction: oneOf(o['anomaly-action'], ANOMALY_ACTIONS, '--anomaly-action'),
          }),
          'keys update',
        );
        const key = await context.api.call('PATCH', `/v1/keys/${encodeURIComponent(context.args[0]!)}`, { body });
        emit(context, key, () => record(key));
      },
    },
    {
      name: 'rotate',
      summary: 'Replace a key by a new one (printed once); the old one keeps working for the grace period',
      args: ['ID'],
      options: { 'grace-period': { type: 'string', arg: 'SECONDS', help: 'How long the old key keeps working (server default when absent)' } },
      async run(context) {
        const body = defined({ gracePeriodSeconds: optionalInteger(context.options['grace-period'], '--grace-period') });
        const rotated = await context.api.call('POST', `/v1/keys/${encodeURIComponent(context.args[0]!)}/rotate`, { body });
        const view = { ...rotated, previous: `${rotated.previous.id} (${rotated.previous.status}, expires ${rotated.previous.expiresAt ?? 'never'})` };
        if (context.json) emitWithSecret(context, rotated, 'key', 'API key');
        else emitWithSecret(context, view, 'key', 'API key');
      },
    },
    {
      name: 'revoke',
      summary: 'Revoke a key at once, on every server process',
      args: ['ID'],
      async run(context) {
        const key = await context.api.call('POST', `/v1/keys/${encodeURIComponent(context.args[0]!)}/revoke`);
        emit(context, key, () => record(key));
      },
    },
    {
      name: 'verify',
      summary: 'Verify a key read from stdin (never a flag), as an API server would',
      options: {
        scope: { type: 'string', arg: 'SCOPE', multiple: true, help: 'A scope the key must hold' },
        'client-ip': { type: 'string', arg: 'IP', help: 'The address of the client that presented the key' },
      },
      examples: ['printf %s "$KEY" | gatehouse keys verify --scope invoices:read'],
      async run(context) {
        const key = (await context.readStdin()).trim();
        if (!key) throw new UsageError('keys verify reads the key to verify from stdin; none was given');
        const body = defined({ key, scopes: context.options.scope, clientIp: context.options['client-ip'] });
        const result = await context.api.call('POST', '/v1/keys/verify', { body });
        emit(context, result, () => record(result));
        if (!result.valid) process.exitCode = 1;
      },
    },
  ],
};
