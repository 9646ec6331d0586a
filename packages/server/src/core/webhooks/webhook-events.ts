import { AUDIT_EVENT_TYPES, type AuditEvent } from '../audit/audit-event.js';

/**
 * The events Gatehouse sends to webhook endpoints: a fixed list of lifecycle events, and every audit event
 * type starting with `alert.`. Each is the webhook form of an audit event written in the transaction of the
 * change (storage/sql/shared-writes.ts writes the outbox row beside the audit row), and keeps its id.
 */
export const LISTED_WEBHOOK_EVENT_TYPES = [
  'key.created',
  'key.rotated',
  'key.revoked',
  'key.expired',
  'client.created',
  'client.secret_rotated',
  'grant.revoked',
  'token.reuse_detected',
  'webhook_endpoint.disabled',
] as const;

const LISTED: ReadonlySet<string> = new Set(LISTED_WEBHOOK_EVENT_TYPES);

export function isWebhookEventType(type: string): boolean {
  return LISTED.has(type) || type.startsWith('alert.');
}

/** Every event type an endpoint can name today (the alert types come from the audit catalogue). */
export function webhookEventTypes(): string[] {
  return [...LISTED_WEBHOOK_EVENT_TYPES, ...AUDIT_EVENT_TYPES.filter((type) => type.startsWith('alert.'))];
}

/** What an endpoint's `events` may hold: an event type, `*` (everything), or `<prefix>.*` (e.g. `key.*`). */
export function eventFilterProblem(filter: string): string | undefined {
  if (filter === '*') return undefined;
  if (filter.endsWith('.*')) {
    const prefix = filter.slice(0, -1);
    return prefix === 'alert.' || LISTED_WEBHOOK_EVENT_TYPES.some((type) => type.startsWith(prefix))
      ? undefined
      : `No webhook event type matches ${filter}.`;
  }
  return webhookEventTypes().includes(filter) ? undefined : `${filter} is not a webhook event type.`;
}

/** Whether an event type matches one of an endpoint's filters. */
export function matchesEventFilter(filters: readonly string[], type: string): boolean {
  for (const filter of filters) {
    if (filter === '*' || filter === type) return true;
    if (filter.endsWith('.*') && type.startsWith(filter.slice(0, -1))) return true;
  }
  return false;
}

/**
 * The event `POST /v1/webhook-endpoints/{id}/test` sends (as GitHub's `ping`): to that one endpoint only, whatever
 * its filters, signed and delivered like any other. It is not an audit event type and no filter names it.
 */
const TEST_WEBHOOK_EVENT_TYPE = 'webhook.test';

/** The test event's body: it names the endpoint and says it is a test, nothing more (never a secret). Pure. */
export function testWebhookEvent(id: string, now: number, endpoint: { id: string; url: string; tenantId: string | null }): WebhookEvent {
  return {
    id,
    type: TEST_WEBHOOK_EVENT_TYPE,
    createdAt: new Date(now).toISOString(),
    ...(endpoint.tenantId !== null ? { tenantId: endpoint.tenantId } : {}),
    data: { endpointId: endpoint.id, url: endpoint.url, test: true, message: 'A test event sent from Gatehouse to this endpoint. No action is needed.' },
  };
}

/** The body of a webhook: `{id, type, createdAt, tenantId?, data}`. */
export interface WebhookEvent {
  id: string;
  type: string;
  createdAt: string;
  tenantId?: string;
  data: Record<string, unknown>;
}

/**
 * The webhook form of an audit event, or undefined when its type is not a webhook event. Pure. `data` holds what
 * the audit event says of the change (ids, display prefixes, scopes, reasons) and never anything secret: audit
 * events hold no secret to begin with, and the caller's network details (IP, user agent) are left out.
 */
export function toWebhookEvent(event: AuditEvent): WebhookEvent | undefined {
  if (!isWebhookEventType(event.type)) return undefined;
  const data: Record<string, unknown> = {};
  if (event.keyId !== null) data.keyId = event.keyId;
  if (event.keyPrefix !== null) data.keyPrefix = event.keyPrefix;
  if (event.reason !== null) data.reason = event.reason;
  if (event.actorKeyId !== null) data.actorKeyId = event.actorKeyId;
  if (event.actorUserId !== null) data.actorUserId = event.actorUserId;
  if (event.details) Object.assign(data, event.details);
  return {
    id: event.id,
    type: event.type,
    createdAt: new Date(event.occurredAt).toISOString(),
    ...(event.tenantId !== null ? { tenantId: event.tenantId } : {}),
    data,
  };
}
