import { type CommandGroup, type OptionSpec } from '../command.js';
import { defined, emit, emitList, nonEmpty, oneOf, optionalInteger, record } from '../output.js';
import type { Column } from '../print-table.js';

/** `gatehouse resources ...`: RFC 8707 resources, the APIs tokens are for (/v1/resources). */

const columns: Column<any>[] = [
  ['ID', (r) => r.id],
  ['IDENTIFIER', (r) => r.identifier],
  ['NAME', (r) => r.name],
  ['SCOPES', (r) => r.scopes],
  ['DYNAMIC CLIENTS', (r) => String(r.dynamicClients)],
  ['TENANT', (r) => r.tenantId],
  ['CREATED', (r) => r.createdAt],
];

const resourceOptions = (creating: boolean): Record<string, OptionSpec> => ({
  identifier: { type: 'string', arg: 'URI', required: creating, help: 'The resource indicator (absolute URI, no fragment), e.g. the MCP server URL' },
  name: { type: 'string', arg: 'NAME', required: creating, help: 'A name shown on the consent page and in the metadata' },
  scope: { type: 'string', arg: 'SCOPE', multiple: true, help: "A scope the API defines" },
  'dynamic-clients': { type: 'string', arg: 'true|false', help: 'Whether self-registered clients (DCR, metadata documents) may ask for it' },
  'access-token-ttl': { type: 'string', arg: 'SECONDS', help: `Caps its tokens' lifetime${creating ? '' : ' ("default" removes the cap)'}` },
});

function resourceBody(o: Record<string, any>, creating: boolean): Record<string, unknown> {
  const dynamic = oneOf(o['dynamic-clients'], ['true', 'false'] as const, '--dynamic-clients');
  return defined({
    identifier: o.identifier,
    name: o.name,
    scopes: o.scope,
    dynamicClients: dynamic === undefined ? undefined : dynamic === 'true',
    accessTokenTtlSeconds:
      !creating && o['access-token-ttl'] === 'default' ? null : optionalInteger(o['access-token-ttl'], '--access-token-ttl'),
  });
}

const path = (id: string) => `/v1/resources/${encodeURIComponent(id)}`;

export const resourcesGroup: CommandGroup = {
  name: 'resources',
  summary: 'Resources (RFC 8707): the APIs tokens are for, with their scopes: register, list, inspect, change and delete them.',
  commands: [
    {
      name: 'create',
      summary: 'Register a resource',
      options: { ...resourceOptions(true), tenant: { type: 'string', arg: 'TENANT', help: 'The tenant the resource belongs to' } },
      examples: ['gatehouse resources create --identifier https://mcp.example.com/mcp --name "MCP tools" --scope tools:call --dynamic-clients true'],
      async run(context) {
        const body = { ...resourceBody(context.options, true), ...defined({ tenantId: context.options.tenant }) };
        const resource = await context.api.call('POST', '/v1/resources', { body });
        emit(context, resource, () => record(resource));
      },
    },
    {
      name: 'list',
      summary: 'List resources, newest first',
      paginated: true,
      options: { tenant: { type: 'string', arg: 'TENANT', help: "Only this tenant's resources" } },
      async run(context) {
        await emitList(context, '/v1/resources', { tenantId: context.options.tenant }, columns);
      },
    },
    {
      name: 'get',
      summary: 'Show one resource',
      args: ['RESOURCE_ID'],
      async run(context) {
        const resource = await context.api.call('GET', path(context.args[0]!));
        emit(context, resource, () => record(resource));
      },
    },
    {
      name: 'update',
      summary: 'Change a resource (scopes given replace the registered ones)',
      args: ['RESOURCE_ID'],
      options: resourceOptions(false),
      async run(context) {
        const body = nonEmpty(resourceBody(context.options, false), 'resources update');
        const resource = await context.api.call('PATCH', path(context.args[0]!), { body });
        emit(context, resource, () => record(resource));
      },
    },
    {
      name: 'delete',
      summary: 'Delete a resource',
      args: ['RESOURCE_ID'],
      async run(context) {
        await context.api.call('DELETE', path(context.args[0]!));
        if (!context.json) process.stdout.write(`Deleted ${context.args[0]}\n`);
      },
    },
  ],
};
