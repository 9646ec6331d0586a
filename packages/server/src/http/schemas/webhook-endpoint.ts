import { Type } from '@sinclair/typebox';
import { MAX_ENDPOINT_URL_LENGTH } from '../../core/webhooks/endpoint-url.js';
import type { WebhookAttemptRecord, WebhookDeliveryRecord, WebhookEndpointRecord } from '../../storage/stores.js';
import { Nullable, TenantId, Text, Timestamp, toIso } from './common.js';

const EndpointUrl = Type.String({
  minLength: 1,
  maxLength: MAX_ENDPOINT_URL_LENGTH,
  description: 'Where events are POSTed: https (http only when GATEHOUSE_WEBHOOKS_ALLOW_INSECURE is set).',
});
const EventFilters = Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
  minItems: 1,
  maxItems: 64,
  description: 'Event types to receive; `*` for every event, `<prefix>.*` (e.g. `key.*`, `alert.*`) for a family.',
});
export const WebhookSchemeSchema = Type.Union([Type.Literal('standard'), Type.Literal('stripe')], {
  description: '`standard`: Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature); `stripe`: Gatehouse-Signature.',
});
const Description = Text({ maxLength: 512 });

export const CreateWebhookEndpointBody = Type.Object(
  {
    url: EndpointUrl,
    events: EventFilters,
    scheme: Type.Optional(WebhookSchemeSchema),
    tenantId: Type.Optional(TenantId),
    description: Type.Optional(Description),
  },
  { additionalProperties: false },
);

export const UpdateWebhookEndpointBody = Type.Object(
  {
    url: Type.Optional(EndpointUrl),
    events: Type.Optional(EventFilters),
    scheme: Type.Optional(WebhookSchemeSchema),
    description: Type.Optional(Nullable(Description)),
    enabled: Type.Optional(Type.Boolean({ description: 'false disables the endpoint; true enables it again.' })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const WebhookEndpointIdParams = Type.Object({ id: Type.String({ pattern: '^whe_[0-9A-Za-z]{1,64}$' }) });
export const WebhookDeliveryParams = Type.Object({
  id: Type.String({ pattern: '^whe_[0-9A-Za-z]{1,64}$' }),
  deliveryId: Type.String({ pattern: '^whd_[0-9A-Za-z]{1,64}$' }),
});

export const WebhookEndpointSchema = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('webhook_endpoint'),
    url: Type.String(),
    events: Type.Array(Type.String()),
    scheme: WebhookSchemeSchema,
    tenantId: Nullable(Type.String()),
    description: Nullable(Type.String()),
    status: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]),
    disabledAt: Nullable(Timestamp),
    disabledReason: Nullable(Type.String({ description: '`manual`, `failing` (every attempt failed for days) or `gone` (HTTP 410).' })),
    failingSince: Nullable(Timestamp),
    previousSecretExpiresAt: Nullable(Timestamp),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { description: 'A webhook endpoint. Never includes the signing secret.' },
);

export const WebhookEndpointWithSecret = Type.Composite([
  WebhookEndpointSchema,
  Type.Object({ secret: Type.String({ description: 'The signing secret (`whsec_...`). Shown this once; store it now.' }) }),
]);

export function webhookEndpointView(endpoint: WebhookEndpointRecord, now: number) {
  const previousLive = endpoint.previousSecretExpiresAt !== null && endpoint.previousSecretExpiresAt > now;
  return {
    id: endpoint.id,
    object: 'webhook_endpoint' as const,
    url: endpoint.url,
    events: endpoint.events,
    scheme: endpoint.scheme,
    tenantId: endpoint.tenantId,
    description: endpoint.description,
    status: endpoint.disabledAt === null ? ('enabled' as const) : ('disabled' as const),
    disabledAt: toIso(endpoint.disabledAt),
    disabledReason: endpoint.disabledReason,
    failingSince: toIso(endpoint.failingSince),
    previousSecretExpiresAt: previousLive ? toIso(endpoint.previousSecretExpiresAt) : null,
    createdAt: toIso(endpoint.createdAt)!,
    updatedAt: toIso(endpoint.updatedAt)!,
  };
}

export const WebhookDeliveryStatusSchema = Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]);

export const WebhookDeliverySchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('webhook_delivery'),
  endpointId: Type.String(),
  eventId: Type.String({ description: 'The event id, sent as webhook-id on every attempt.' }),
  eventType: Type.String(),
  status: WebhookDeliveryStatusSchema,
  attempts: Type.Integer(),
  nextAttemptAt: Nullable(Timestamp),
  lastStatusCode: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  createdAt: Timestamp,
  deliveredAt: Nullable(Timestamp),
  attemptLog: Type.Array(
    Type.Object({
      attempt: Type.Integer({ description: '1 for the first attempt.' }),
      attemptedAt: Timestamp,
      outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')]),
      statusCode: Nullable(Type.Integer()),
      latencyMs: Type.Integer(),
      error: Nullable(Type.String()),
    }),
  ),
});

export function webhookDeliveryView(delivery: WebhookDeliveryRecord & { attemptLog?: WebhookAttemptRecord[] }) {
  return {
    id: delivery.id,
    object: 'webhook_delivery' as const,
    endpointId: delivery.endpointId,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    status: delivery.status,
    attempts: delivery.attempts,
    nextAttemptAt: delivery.status === 'pending' ? toIso(delivery.nextAttemptAt) : null,
    lastStatusCode: delivery.lastStatusCode,
    lastError: delivery.lastError,
    createdAt: toIso(delivery.createdAt)!,
    deliveredAt: toIso(delivery.deliveredAt),
    attemptLog: (delivery.attemptLog ?? []).map((a) => ({
      attempt: a.attempt,
      attemptedAt: toIso(a.attemptedAt)!,
      outcome: a.outcome,
      statusCode: a.statusCode,
      latencyMs: a.latencyMs,
      error: a.error,
    })),
  };
}
