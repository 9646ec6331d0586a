import { signWebhook } from 'gatehouse-sdk/webhooks';
import type { AttemptResult, ClaimedDelivery, WebhookEndpointRecord, WebhookStore } from '../../storage/stores.js';
import { createAuditEvent } from '../audit/audit-event.js';
import type { Clock } from '../clock.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { newSortableId, randomBase62 } from '../random.js';
import { classifyResponse, responseError } from './classify-response.js';
import { nextAttemptAt, parseRetryAfter, type RetryPolicy } from './retry-schedule.js';
import type { WebhookRequest, WebhookResponse } from './webhook-sender.js';
import { matchesEventFilter } from './webhook-events.js';

export interface AttemptObservation {
  outcome: 'delivered' | 'failed' | 'gone';
  statusCode: number | null;
  latencyMs: number;
}

export interface WebhookDispatcherOptions {
  store: WebhookStore;
  secretBox: SecretBox;
  clock: Clock;
  send(request: WebhookRequest): Promise<WebhookResponse>;
  /** Automatic retries stop this long after the event. */
  retryWindowMs: number;
  /** An endpoint whose attempts have all failed for this long is disabled. */
  disableAfterMs: number;
  /** Attempts under way at once (per process). */
  concurrency: number;
  /** How long a claim holds a delivery; must exceed the request timeout. */
  leaseMs: number;
  /** How often to look for work when not woken (other processes' events, retries coming due). */
  pollIntervalMs: number;
  retryPolicy?: RetryPolicy;
  random?: () => number;
  /** Called after every attempt (metrics). */
  onAttempt?(observation: AttemptObservation): void;
  onError(message: string, error: unknown): void;
}

const FAN_OUT_BATCH = 500;
const USER_AGENT = 'Gatehouse-Webhooks/1';

/** Whether an endpoint receives an event: its filters match, and it is not scoped to another tenant. */
export function endpointReceives(
  endpoint: Pick<WebhookEndpointRecord, 'events' | 'tenantId'>,
  event: { type: string; tenantId: string | null },
): boolean {
  if (endpoint.tenantId !== null && endpoint.tenantId !== event.tenantId) return false;
  return matchesEventFilter(endpoint.events, event.type);
}

/**
 * Delivers the outbox: fans committed events out into deliveries, claims due deliveries under a lease (so one
 * process at a time attempts each), signs and sends them with bounded concurrency, and writes the outcomes in
 * batches (each batch one transaction, while the next attempts are under way). Woken when this process
 * commits events; polls for the rest.
 */
export class WebhookDispatcher {
  readonly #leaseOwner = `lease_${randomBase62(16)}`;
  readonly #random: () => number;
  #timer: NodeJS.Timeout | undefined;
  #pumping: Promise<void> | undefined;
  #again = false;
  /** Set when there may be events to fan out (a commit, a poll); slot-free wake-ups only claim. */
  #fanOutDue = true;
  #stopped = false;
  #inFlight = 0;
  /** Slots promised to a claim under way. */
  #reserved = 0;
  readonly #attempts = new Set<Promise<void>>();
  #results: AttemptResult[] = [];
  #flushing: Promise<void> | undefined;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.#random = options.random ?? Math.random;
  }

  start(): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = setInterval(() => this.wake(), this.options.pollIntervalMs);
    this.#timer.unref();
    this.wake();
  }

  /** Looks for work now: new events (after a commit that wrote some) and due deliveries (a manual retry). */
  wake(): void {
    this.#fanOutDue = true;
    this.#kick();
  }

  #kick(): void {
    if (this.#stopped || !this.#timer) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = this.#pump()
      .catch((error: unknown) => this.options.onError('webhook dispatch failed', error))
      .finally(() => {
        this.#pumping = undefined;
        if (this.#again) {
          this.#again = false;
          this.#kick();
        }
      });
  }

  /** Does every piece of work due now, waits for it to finish and be written (tests and tools). */
  async drain(): Promise<void> {
    for (;;) {
      this.#fanOutDue = true;
      const worked = await this.#step();
      await this.#settle();
      if (!worked) return;
    }
  }

  /** Graceful: claims nothing more, lets the attempts under way finish, writes their outcomes. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#pumping;
    await this.#settle();
  }

  async #pump(): Promise<void> {
    while (!this.#stopped && (await this.#step())) {
      // Keep going while there is work and room for it; a finished attempt wakes the pump again.
    }
  }

  /** One round: fan out new events, claim what fits. Returns whether it found anything. */
  async #step(): Promise<boolean> {
    const now = this.options.clock.now();
    let fanned = 0;
    if (this.#fanOutDue) {
      this.#fanOutDue = false;
      fanned = await this.options.store.fanOut({
        now,
        limit: FAN_OUT_BATCH,
        receives: endpointReceives,
        newDeliveryId: () => newSortableId('whd', now),
        retryWindowMs: this.options.retryWindowMs,
      });
      if (fanned === FAN_OUT_BATCH) this.#fanOutDue = true;
    }
    const room = this.#reserve();
    if (room === 0) return fanned > 0;
    let claimed: ClaimedDelivery[] = [];
    try {
      claimed = await this.options.store.claimDue(now, this.#leaseOwner, now + this.options.leaseMs, room);
    } finally {
      this.#reserved -= room;
    }
    await this.#startAll(claimed);
    return fanned > 0 || claimed.length > 0;
  }

  /**
   * Reserves the free slots for a claim: none while fewer than a quarter are free (claims are write
   * transactions: work is taken in batches, not one by one) unless nothing is under way.
   */
  #reserve(): number {
    if (this.#stopped) return 0;
    const busy = this.#inFlight + this.#reserved;
    const room = this.options.concurrency - busy;
    if (room <= 0 || (busy > 0 && room < Math.ceil(this.options.concurrency / 4))) return 0;
    this.#reserved += room;
    return room;
  }

  async #startAll(claimed: readonly ClaimedDelivery[]): Promise<void> {
    if (claimed.length === 0) return;
    this.#inFlight += claimed.length;
    let endpoints: Map<string, WebhookEndpointRecord>;
    try {
      const ids = [...new Set(claimed.map((c) => c.delivery.endpointId))];
      endpoints = new Map((await this.options.store.findEndpoints(ids)).map((e) => [e.id, e]));
    } finally {
      this.#inFlight -= claimed.length;
    }
    for (const item of claimed) this.#start(item, endpoints.get(item.delivery.endpointId));
  }

  #start(claimed: ClaimedDelivery, endpoint: WebhookEndpointRecord | undefined): void {
    this.#inFlight++;
    const attempt = this.#attempt(claimed, endpoint)
      // The slot is free once the answer is in; the outcome is written with the next batch.
      .then((result) => this.#record(result))
      .catch((error: unknown) => this.options.onError('webhook attempt failed', error))
      .finally(() => {
        this.#inFlight--;
        this.#attempts.delete(attempt);
        this.#kick();
      });
    this.#attempts.add(attempt);
  }

  async #attempt({ delivery, payload }: ClaimedDelivery, endpoint: WebhookEndpointRecord | undefined): Promise<AttemptResult> {
    if (!endpoint || endpoint.disabledAt !== null) {
      return { deliveryId: delivery.id, endpointId: delivery.endpointId, attempt: null, status: 'failed', nextAttemptAt: delivery.nextAttemptAt, endpointHealth: 'unknown' };
    }
    const now = this.options.clock.now();
    let signature: Record<string, string>;
    try {
      signature = this.#sign(endpoint, delivery.eventId, payload, now);
    } catch (error) {
      // Our failure, not the endpoint's (a secret that does not decrypt): logged, retried, not held against it.
      this.options.onError(`webhook ${delivery.id} could not be signed`, error);
      const attempt = { deliveryId: delivery.id, attempt: delivery.attempts + 1, attemptedAt: now, outcome: 'failure' as const, statusCode: null, latencyMs: 0, error: 'not sent: signing failed' };
      const next = nextAttemptAt({ now, failedAttempts: attempt.attempt, deadlineAt: delivery.deadlineAt, random: this.#random, policy: this.options.retryPolicy });
      return { deliveryId: delivery.id, endpointId: endpoint.id, attempt, status: next === undefined ? 'failed' : 'pending', nextAttemptAt: next ?? now, endpointHealth: 'unknown' };
    }
    const response = await this.options.send({
      url: endpoint.url,
      headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...signature },
      body: payload,
    });
    const attemptedAt = now;
    const verdict = classifyResponse(response.statusCode);
    this.options.onAttempt?.({ outcome: verdict, statusCode: response.statusCode, latencyMs: response.latencyMs });
    const attemptNumber = delivery.attempts + 1;
    const attempt = {
      deliveryId: delivery.id,
      attempt: attemptNumber,
      attemptedAt,
      outcome: verdict === 'delivered' ? ('success' as const) : ('failure' as const),
      statusCode: response.statusCode,
      latencyMs: response.latencyMs,
      error: response.error ?? (verdict === 'delivered' ? null : responseError(response.statusCode!)),
    };
    const base = { deliveryId: delivery.id, endpointId: endpoint.id, attempt };
    if (verdict === 'delivered') return { ...base, status: 'delivered', nextAttemptAt: attemptedAt, endpointHealth: 'healthy' };
    if (verdict === 'gone') return { ...base, status: 'failed', nextAttemptAt: attemptedAt, endpointHealth: 'gone' };
    const next = nextAttemptAt({
      now: this.options.clock.now(),
      failedAttempts: attemptNumber,
      deadlineAt: delivery.deadlineAt,
      retryAfterMs: parseRetryAfter(response.retryAfter, this.options.clock.now()),
      random: this.#random,
      policy: this.options.retryPolicy,
    });
    return { ...base, status: next === undefined ? 'failed' : 'pending', nextAttemptAt: next ?? attemptedAt, endpointHealth: 'failing' };
  }

  /** The same webhook-id on every attempt (the receiver's idempotency key); a fresh timestamp and signature. */
  #sign(endpoint: WebhookEndpointRecord, id: string, payload: string, now: number): Record<string, string> {
    const { secretBox } = this.options;
    const secrets = [secretBox.decrypt(endpoint.sealedSecret, endpoint.id).toString('utf8')];
    if (endpoint.sealedPreviousSecret && endpoint.previousSecretExpiresAt !== null && endpoint.previousSecretExpiresAt > now) {
      secrets.push(secretBox.decrypt(endpoint.sealedPreviousSecret, endpoint.id).toString('utf8'));
    }
    return signWebhook({ payload, scheme: endpoint.scheme, secrets, id, timestamp: Math.floor(now / 1000) });
  }

  /** Buffers a result; one write at a time takes everything buffered (group commit). */
  #record(result: AttemptResult): void {
    this.#results.push(result);
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = undefined;
    });
  }

  async #flush(): Promise<void> {
    while (this.#results.length > 0) {
      const results = this.#results;
      this.#results = [];
      const now = this.options.clock.now();
      // The next work is claimed in the same transaction: one commit per round, not two.
      const room = this.#reserve();
      let claimed: ClaimedDelivery[] = [];
      try {
        claimed = await this.options.store.completeAttempts({
          ...(room > 0 ? { claim: { limit: room, leaseUntil: now + this.options.leaseMs } } : {}),
          results,
          leaseOwner: this.#leaseOwner,
          now,
          failingSinceLimit: now - this.options.disableAfterMs,
          disabledEvent: (endpoint, reason) =>
            createAuditEvent(now, {
              type: 'webhook_endpoint.disabled',
              outcome: 'success',
              reason,
              tenantId: endpoint.tenantId,
              details: { endpointId: endpoint.id, url: endpoint.url, failingSince: endpoint.failingSince && new Date(endpoint.failingSince).toISOString() },
            }),
        });
      } catch (error) {
        // Not written: the leases run out and the deliveries are attempted again (at least once).
        this.options.onError(`webhook attempt outcomes could not be written (${results.length})`, error);
      } finally {
        this.#reserved -= room;
      }
      await this.#startAll(claimed).catch((error: unknown) => this.options.onError('webhook dispatch failed', error));
    }
  }

  async #settle(): Promise<void> {
    while (this.#attempts.size > 0 || this.#flushing) {
      await Promise.all([...this.#attempts]);
      await this.#flushing;
    }
  }
}
