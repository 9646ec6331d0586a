import { UsageError, type CommandGroup, type OptionSpec } from '../command.js';
import { defined, emit, emitList, emitWithSecret, nonEmpty, oneOf, optionalInteger, record } from '../output.js';
import type { Column } from '../print-table.js';

/** `gatehouse webhooks ...`: webhook endpoints (/v1/webhook-endpoints) and their deliveries. */

const columns: Column<any>[] = [
  ['ID', (w) => w.id],
  ['URL', (w) => w.url],
  ['EVENTS', (w) => w.events],
  ['SCHEME', (w) => w.scheme],
  ['STATUS', (w) => w.status],
  ['TENANT', (w) => w.tenantId],
  ['CREATED', (w) => w.createdAt],
];

const deliveryColumns: Column<any>[] = [
  ['ID', (d) => d.id],
  ['EVENT', (d) => d.eventType],
  ['EVENT ID', (d) => d.eventId],
  ['STATUS', (d) => d.status],
  ['ATTEMPTS', (d) => d.attempts],
  ['LAST STATUS', (d) => d.lastStatusCode],
  ['NEXT ATTEMPT', (d) => d.nextAttemptAt],
  ['CREATED', (d) => d.createdAt],
];

const SCHEMES = ['standard', 'stripe'] as const;
const endpointOptions = (creating: boolean): Record<string, OptionSpec> => ({
  url: { type: 'string', arg: 'URL', required: creating, help: 'Where events are POSTed (https)' },
  event: { type: 'string', arg: 'TYPE', multiple: true, required: creating, help: 'An event type to receive: *, key.*, key.revoked, ...' },
  scheme: { type: 'string', arg: 'SCHEME', help: 'standard (Standard Webhooks, default) | stripe' },
  description: { type: 'string', arg: 'TEXT', help: `A note for people${creating ? '' : ' ("" removes it)'}` },
});

const path = (id: string) => `/v1/webhook-endpoints/${encodeURIComponent(id)}`;

export const webhooksGroup: CommandGroup = {
  name: 'webhooks',
  summary: 'Webhook endpoints and their deliveries.',
  commands: [
    {
      name: 'create',
      summary: 'Create a webhook endpoint; its signing secret is printed once',
      options: { ...endpointOptions(true), tenant: { type: 'string', arg: 'TENANT', help: "Only this tenant's events" } },
      examples: ['gatehouse webhooks create --url https://hooks.example.com/gatehouse --event "key.*" --event "alert.*"'],
      async run(context) {
        const o = context.options;
        const body = defined({ url: o.url, events: o.event, scheme: oneOf(o.scheme, SCHEMES, '--scheme'), tenantId: o.tenant, description: o.description });
        emitWithSecret(context, await context.api.call('POST', '/v1/webhook-endpoints', { body }), 'secret', 'webhook signing secret');
      },
    },
    {
      name: 'list',
      summary: 'List webhook endpoints, newest first',
      paginated: true,
      options: { tenant: { type: 'string', arg: 'TENANT', help: "Only this tenant's endpoints" } },
      async run(context) {
        await emitList(context, '/v1/webhook-endpoints', { tenantId: context.options.tenant }, columns);
      },
    },
    {
      name: 'get',
      summary: 'Show one webhook endpoint',
      args: ['ID'],
      async run(context) {
        const endpoint = await context.api.call('GET', path(context.args[0]!));
        emit(context, endpoint, () => record(endpoint));
      },
    },
    {
      name: 'update',
      summary: 'Change a webhook endpoint, or disable / enable it',
      args: ['ID'],
      options: {
        ...endpointOptions(false),
        disable: { type: 'boolean', help: 'Stop delivering to it' },
        enable: { type: 'boolean', help: 'Deliver to it again' },
      },
      async run(context) {
        const o = context.options;
        if (o.disable && o.enable) throw new UsageError('give --enable or --disable, not both');
        const body = nonEmpty(
          defined({
            url: o.url,
            events: o.event,
            scheme: oneOf(o.scheme, SCHEMES, '--scheme'),
            description: o.description === '' ? null : o.description,
            enabled: o.disable ? false : o.enable ? true : undefined,
          }),
          'webhooks update',
        );
        const endpoint = await context.api.call('PATCH', path(context.args[0]!), { body });
        emit(context, endpoint, () => record(endpoint));
      },
    },
    {
      name: 'delete',
      summary: 'Delete a webhook endpoint',
      args: ['ID'],
      async run(context) {
        await context.api.call('DELETE', path(context.args[0]!));
        if (!context.json) process.stdout.write(`Deleted ${context.args[0]}\n`);
      },
    },
    {
      name: 'rotate-secret',
      summary: 'Give an endpoint a new signing secret (printed once); the old one also signs for the grace period',
      args: ['ID'],
      options: { 'grace-period': { type: 'string', arg: 'SECONDS', help: 'How long the old secret still signs (server default when absent)' } },
      async run(context) {
        const body = defined({ gracePeriodSeconds: optionalInteger(context.options['grace-period'], '--grace-period') });
        const endpoint = await context.api.call('POST', `${path(context.args[0]!)}/secret/rotate`, { body });
        emitWithSecret(context, endpoint, 'secret', 'webhook signing secret');
      },
    },
    {
      name: 'test',
      summary: 'Send a test event (webhook.test) to this endpoint only',
      args: ['ID'],
      async run(context) {
        const delivery = await context.api.call('POST', `${path(context.args[0]!)}/test`);
        emit(context, delivery, () => record(delivery, ['attemptLog']));
      },
    },
    {
      name: 'deliveries list',
      summary: "List an endpoint's deliveries, newest first",
      args: ['ENDPOINT_ID'],
      paginated: true,
      options: { status: { type: 'string', arg: 'STATUS', help: 'pending | delivered | failed' } },
      async run(context) {
        const status = oneOf(context.options.status, ['pending', 'delivered', 'failed'] as const, '--status');
        await emitList(context, `${path(context.args[0]!)}/deliveries`, { status }, deliveryColumns);
      },
    },
    {
      name: 'deliveries retry',
      summary: 'Attempt a delivery again now',
      args: ['ENDPOINT_ID', 'DELIVERY_ID'],
      async run(context) {
        const delivery = await context.api.call('POST', `${path(context.args[0]!)}/deliveries/${encodeURIComponent(context.args[1]!)}/retry`);
        emit(context, delivery, () => record(delivery, ['attemptLog']));
      },
    },
  ],
};
