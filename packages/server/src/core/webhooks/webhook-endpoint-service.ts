import { generateWebhookSecret } from 'gatehouse-sdk/webhooks';
import type {
  PageCursor,
  WebhookAttemptRecord,
  WebhookDeliveryRecord,
  WebhookDeliveryStatus,
  WebhookEndpointPatch,
  WebhookEndpointRecord,
  WebhookScheme,
  WebhookStore,
  WriteOutcome,
} from '../../storage/stores.js';
import { actorId, type Actor } from '../api-keys/api-key-service.js';
import { actorFields, createAuditEvent, type AuditEvent, type AuditEventType } from '../audit/audit-event.js';
import type { Clock } from '../clock.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { GatehouseError } from '../errors.js';
import { newId, newSortableId } from '../random.js';
import { endpointUrlProblem } from './endpoint-url.js';
import { eventFilterProblem, testWebhookEvent } from './webhook-events.js';

export interface CreateEndpointInput {
  url: string;
  events: string[];
  scheme?: WebhookScheme | undefined;
  tenantId?: string | undefined;
  description?: string | undefined;
}

export interface UpdateEndpointInput {
  url?: string | undefined;
  events?: string[] | undefined;
  scheme?: WebhookScheme | undefined;
  description?: string | null | undefined;
  /** false disables the endpoint (its pending deliveries fail); true enables it again and clears its failure. */
  enabled?: boolean | undefined;
}

export interface WebhookEndpointServiceDeps {
  store: WebhookStore;
  secretBox: SecretBox;
  clock: Clock;
  allowInsecure: boolean;
  /** A test delivery is retried (as every delivery) for this long. */
  retryWindowMs: number;
  /** Tells the dispatcher there is work (a delivery queued for retry). */
  wake(): void;
}

export const DEFAULT_WEBHOOK_SECRET_GRACE_SECONDS = 86_400;
export const MAX_WEBHOOK_SECRET_GRACE_SECONDS = 30 * 86_400;
const ENDPOINT_ID = /^whe_[0-9A-Za-z]{22}$/;

/**
 * Webhook endpoints: registration, changes, secret rotation with a grace period (every delivery is signed with
 * both secrets meanwhile), the delivery log and manual retries. Tenant isolation lives here, as for keys and
 * clients: an admin key bound to a tenant sees and touches only that tenant's endpoints.
 */
export class WebhookEndpointService {
  constructor(private readonly deps: WebhookEndpointServiceDeps) {}

  async create(actor: Actor, input: CreateEndpointInput): Promise<{ endpoint: WebhookEndpointRecord; secret: string }> {
    const now = this.deps.clock.now();
    const tenantId = tenantFor(actor, input.tenantId);
    this.#assertUrl(input.url);
    const events = normaliseEvents(input.events);
    const id = newId('whe');
    const secret = generateWebhookSecret();
    const endpoint: WebhookEndpointRecord = {
      id,
      url: input.url,
      events,
      scheme: input.scheme ?? 'standard',
      tenantId,
      description: input.description ?? null,
      sealedSecret: this.deps.secretBox.encrypt(secret, id),
      sealedPreviousSecret: null,
      previousSecretExpiresAt: null,
      disabledAt: null,
      disabledReason: null,
      failingSince: null,
      version: 1,
      createdBy: actorId(actor),
      createdAt: now,
      updatedAt: now,
    };
    await this.deps.store.insertEndpoint(endpoint, [this.#event(actor, 'webhook_endpoint.created', endpoint, { url: endpoint.url, events })]);
    return { endpoint, secret };
  }

  async list(actor: Actor, input: { tenantId?: string | undefined; limit: number; after?: PageCursor | undefined }): Promise<WebhookEndpointRecord[]> {
    if (actor.tenantId !== null && input.tenantId !== undefined && input.tenantId !== actor.tenantId) return [];
    const tenantId = actor.tenantId ?? input.tenantId;
    return this.deps.store.listEndpoints({ limit: input.limit, ...(tenantId !== undefined ? { tenantId } : {}), ...(input.after ? { after: input.after } : {}) });
  }

  /** The endpoint, or not_found when it does not exist or belongs to another tenant. */
  async get(actor: Actor, id: string): Promise<WebhookEndpointRecord> {
    const endpoint = ENDPOINT_ID.test(id) ? await this.deps.store.findEndpoint(id) : undefined;
    if (!endpoint || (actor.tenantId !== null && endpoint.tenantId !== actor.tenantId)) throw notFound();
    return endpoint;
  }

  async update(actor: Actor, id: string, input: UpdateEndpointInput): Promise<WebhookEndpointRecord> {
    const current = await this.get(actor, id);
    const now = this.deps.clock.now();
    const patch: WebhookEndpointPatch = {};
    if (input.url !== undefined) {
      this.#assertUrl(input.url);
      patch.url = input.url;
    }
    if (input.events !== undefined) patch.events = normaliseEvents(input.events);
    if (input.scheme !== undefined) patch.scheme = input.scheme;
    if (input.description !== undefined) patch.description = input.description;
    const events: AuditEvent[] = [this.#event(actor, 'webhook_endpoint.updated', current, { fields: Object.keys(input).sort() })];
    if (input.enabled === false && current.disabledAt === null) {
      Object.assign(patch, { disabledAt: now, disabledReason: 'manual' });
      events.push(this.#event(actor, 'webhook_endpoint.disabled', current, { url: current.url }, 'manual'));
    }
    if (input.enabled === true && current.disabledAt !== null) {
      Object.assign(patch, { disabledAt: null, disabledReason: null, failingSince: null });
    }
    return unwrap(await this.deps.store.updateEndpoint(id, current.version, patch, now, events));
  }

  async delete(actor: Actor, id: string): Promise<void> {
    const current = await this.get(actor, id);
    const deleted = await this.deps.store.deleteEndpoint(id, [this.#event(actor, 'webhook_endpoint.deleted', current, { url: current.url })]);
    if (!deleted) throw notFound();
  }

  /**
   * A new signing secret (returned once). Until the grace period ends every delivery carries signatures under
   * both; 0 drops the old secret at once. Only the secret just replaced is kept.
   */
  async rotateSecret(
    actor: Actor,
    id: string,
    gracePeriodSeconds = DEFAULT_WEBHOOK_SECRET_GRACE_SECONDS,
  ): Promise<{ endpoint: WebhookEndpointRecord; secret: string }> {
    const current = await this.get(actor, id);
    const now = this.deps.clock.now();
    const secret = generateWebhookSecret();
    const patch: WebhookEndpointPatch = {
      sealedSecret: this.deps.secretBox.encrypt(secret, id),
      sealedPreviousSecret: gracePeriodSeconds === 0 ? null : current.sealedSecret,
      previousSecretExpiresAt: gracePeriodSeconds === 0 ? null : now + gracePeriodSeconds * 1000,
    };
    const event = this.#event(actor, 'webhook_endpoint.secret_rotated', current, { gracePeriodSeconds });
    const endpoint = unwrap(await this.deps.store.updateEndpoint(id, current.version, patch, now, [event]));
    return { endpoint, secret };
  }

  /** The endpoint's deliveries, newest first, each with its attempts. */
  async listDeliveries(
    actor: Actor,
    id: string,
    query: { status?: WebhookDeliveryStatus | undefined; limit: number; after?: PageCursor | undefined },
  ): Promise<Array<WebhookDeliveryRecord & { attemptLog: WebhookAttemptRecord[] }>> {
    await this.get(actor, id);
    const deliveries = await this.deps.store.listDeliveries({
      endpointId: id,
      limit: query.limit,
      ...(query.status ? { status: query.status } : {}),
      ...(query.after ? { after: query.after } : {}),
    });
    const attempts = await this.deps.store.listAttempts(deliveries.map((d) => d.id));
    return deliveries.map((delivery) => ({ ...delivery, attemptLog: attempts.filter((a) => a.deliveryId === delivery.id) }));
  }

  /** Queues one more attempt of a delivery, now (a delivered one is sent again). */
  async retryDelivery(actor: Actor, id: string, deliveryId: string): Promise<WebhookDeliveryRecord> {
    const endpoint = await this.get(actor, id);
    if (endpoint.disabledAt !== null) throw new GatehouseError('conflict', 'The endpoint is disabled; enable it first.');
    const now = this.deps.clock.now();
    const event = this.#event(actor, 'webhook_delivery.retried', endpoint, { deliveryId });
    const result = await this.deps.store.requeueDelivery(deliveryId, id, now, [event]);
    if (!result.ok && result.reason === 'not_found') throw new GatehouseError('not_found', 'No delivery with that id.');
    if (!result.ok) throw new GatehouseError('conflict', 'An attempt of this delivery is under way; retry later.');
    this.deps.wake();
    return result.delivery;
  }

  /**
   * Sends a `webhook.test` event to this endpoint only (whatever its filters): one new delivery, due now, signed
   * and retried like any other. 409 endpoint_disabled for a disabled endpoint (nothing would be sent).
   */
  async sendTestEvent(actor: Actor, id: string): Promise<WebhookDeliveryRecord> {
    const endpoint = await this.get(actor, id);
    if (endpoint.disabledAt !== null) throw endpointDisabled();
    const now = this.deps.clock.now();
    const event = testWebhookEvent(newSortableId('evt', now), now, endpoint);
    const deliveryId = newSortableId('whd', now);
    const audit = this.#event(actor, 'webhook_delivery.test_sent', endpoint, { deliveryId, eventId: event.id });
    const result = await this.deps.store.queueTestDelivery(
      {
        endpointId: id,
        event: { id: event.id, type: event.type, tenantId: endpoint.tenantId, payload: JSON.stringify(event) },
        deliveryId,
        now,
        deadlineAt: now + this.deps.retryWindowMs,
      },
      [audit],
    );
    if (!result.ok) throw result.reason === 'disabled' ? endpointDisabled() : notFound();
    this.deps.wake();
    return result.delivery;
  }

  #assertUrl(url: string): void {
    const problem = endpointUrlProblem(url, this.deps.allowInsecure);
    if (problem) throw new GatehouseError('invalid_request', problem);
  }

  #event(actor: Actor, type: AuditEventType, endpoint: WebhookEndpointRecord, details: Record<string, unknown>, reason?: string): AuditEvent {
    return createAuditEvent(
      this.deps.clock.now(),
      { type, outcome: 'success', reason: reason ?? null, tenantId: endpoint.tenantId, ...actorFields(actor), details: { endpointId: endpoint.id, ...details } },
      actor.origin,
    );
  }
}

function tenantFor(actor: Actor, requested: string | undefined): string | null {
  if (actor.tenantId === null) return requested ?? null;
  if (requested !== undefined && requested !== actor.tenantId) {
    throw new GatehouseError('insufficient_scope', "This key can only manage its own tenant's webhook endpoints.");
  }
  return actor.tenantId;
}

function normaliseEvents(events: readonly string[]): string[] {
  const unique = [...new Set(events)];
  if (unique.length === 0) throw new GatehouseError('invalid_request', 'events must name at least one event type.');
  for (const filter of unique) {
    const problem = eventFilterProblem(filter);
    if (problem) throw new GatehouseError('invalid_request', problem);
  }
  return unique;
}

const endpointDisabled = () => new GatehouseError('endpoint_disabled', 'The endpoint is disabled: no test event was sent. Enable it first.');
const notFound = () => new GatehouseError('not_found', 'No webhook endpoint with that id.');

function unwrap(outcome: WriteOutcome<WebhookEndpointRecord>): WebhookEndpointRecord {
  if (outcome.ok) return outcome.value;
  if (outcome.reason === 'not_found') throw notFound();
  throw new GatehouseError('conflict', 'The endpoint changed while this request was processed; fetch it and retry.');
}
