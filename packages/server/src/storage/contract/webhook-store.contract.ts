import { describe, expect, it } from 'vitest';
import { createAuditEvent, type AuditEvent } from '../../core/audit/audit-event.js';
import { newId, newSortableId } from '../../core/random.js';
import { endpointReceives } from '../../core/webhooks/webhook-dispatcher.js';
import type { AttemptResult, FanOutInput, WebhookEndpointRecord } from '../stores.js';
import { useFreshStores, type OpenStores } from './fresh-stores.js';

const T0 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;

function makeEndpoint(overrides: Partial<WebhookEndpointRecord> = {}): WebhookEndpointRecord {
  return {
    id: newId('whe'),
    url: 'https://hooks.example.com/in',
    events: ['*'],
    scheme: 'standard',
    tenantId: null,
    description: null,
    sealedSecret: 'v1.sealed',
    sealedPreviousSecret: null,
    previousSecretExpiresAt: null,
    disabledAt: null,
    disabledReason: null,
    failingSince: null,
    version: 1,
    createdBy: null,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

const keyEvent = (type: 'key.created' | 'key.revoked' | 'key.updated' | 'key.rotated', at: number, tenantId: string | null = null): AuditEvent =>
  createAuditEvent(at, { type, outcome: 'success', keyId: 'key_1', keyPrefix: 'sk_live_Ab12Cd', tenantId });

const fanOutInput = (now: number, limit = 100): FanOutInput => ({
  now,
  limit,
  receives: endpointReceives,
  newDeliveryId: () => newSortableId('whd', now),
  retryWindowMs: DAY,
});

export function webhookStoreContract(name: string, open: OpenStores): void {
  describe(`WebhookStore contract (${name})`, () => {
    const stores = useFreshStores(open);
    const webhooks = () => stores().webhooks;
    /** Writes events the way every change does: through a store transaction (here, the audit store's). */
    const commit = (events: AuditEvent[]) => stores().audit.insertNow(events);

    it('round-trips an endpoint and applies patches conditionally on the version', async () => {
      const endpoint = makeEndpoint({ events: ['key.*', 'alert.*'], tenantId: 'acme', description: 'ünï ✓', sealedPreviousSecret: 'v1.old', previousSecretExpiresAt: T0 + 5 });
      await webhooks().insertEndpoint(endpoint, []);
      expect(await webhooks().findEndpoint(endpoint.id)).toStrictEqual(endpoint);
      const updated = await webhooks().updateEndpoint(endpoint.id, 1, { url: 'https://x.example.com', description: null }, T0 + 1, []);
      expect(updated).toStrictEqual({ ok: true, value: { ...endpoint, url: 'https://x.example.com', description: null, version: 2, updatedAt: T0 + 1 } });
      expect(await webhooks().updateEndpoint(endpoint.id, 1, { url: 'https://y.example.com' }, T0 + 2, [])).toStrictEqual({ ok: false, reason: 'conflict' });
      expect(await webhooks().updateEndpoint('whe_missing', 1, {}, T0, [])).toStrictEqual({ ok: false, reason: 'not_found' });
      const racing = await Promise.all(
        Array.from({ length: 5 }, (_, i) => webhooks().updateEndpoint(endpoint.id, 2, { description: `d${i}` }, T0 + 3, [])),
      );
      expect(racing.filter((r) => r.ok)).toHaveLength(1);
    });

    it('writes outbox events only for webhook types, only when the transaction commits, once per id', async () => {
      const endpoint = makeEndpoint();
      await webhooks().insertEndpoint(endpoint, []);
      const created = keyEvent('key.created', T0 + 1);
      await commit([created, keyEvent('key.updated', T0 + 1)]);
      await commit([created]); // the same event again: skipped
      // A change that fails writes neither its row nor its events.
      const duplicate = makeEndpoint({ id: endpoint.id });
      await expect(webhooks().insertEndpoint(duplicate, [keyEvent('key.revoked', T0 + 2)])).rejects.toThrow();
      expect(await webhooks().fanOut(fanOutInput(T0 + 3))).toBe(1);
      const deliveries = await webhooks().listDeliveries({ endpointId: endpoint.id, limit: 10 });
      expect(deliveries.map((d) => [d.eventId, d.eventType, d.status, d.attempts, d.deadlineAt])).toStrictEqual([
        [created.id, 'key.created', 'pending', 0, T0 + 1 + DAY],
      ]);
      expect(await webhooks().fanOut(fanOutInput(T0 + 4))).toBe(0);
    });

    it('fans out by filter, by tenant, to enabled endpoints that existed when the event happened', async () => {
      const all = makeEndpoint();
      const acme = makeEndpoint({ tenantId: 'acme' });
      const revoked = makeEndpoint({ events: ['key.revoked'] });
      const disabled = makeEndpoint({ disabledAt: T0, disabledReason: 'manual' });
      const later = makeEndpoint({ createdAt: T0 + 10 });
      for (const e of [all, acme, revoked, disabled, later]) await webhooks().insertEndpoint(e, []);
      await commit([keyEvent('key.created', T0 + 1, 'acme'), keyEvent('key.revoked', T0 + 2, 'globex')]);
      expect(await webhooks().fanOut(fanOutInput(T0 + 20))).toBe(2);
      const count = async (e: WebhookEndpointRecord) => (await webhooks().listDeliveries({ endpointId: e.id, limit: 10 })).map((d) => d.eventType);
      expect(await count(all)).toStrictEqual(expect.arrayContaining(['key.created', 'key.revoked']));
      expect(await count(acme)).toStrictEqual(['key.created']);
      expect(await count(revoked)).toStrictEqual(['key.revoked']);
      expect(await count(disabled)).toStrictEqual([]);
      expect(await count(later)).toStrictEqual([]);
    });

    it('of concurrent fan-outs and claims, each event is fanned out once and each delivery leased to one owner', async () => {
      const endpoint = makeEndpoint();
      await webhooks().insertEndpoint(endpoint, []);
      await commit(Array.from({ length: 30 }, (_, i) => keyEvent('key.created', T0 + i)));
      const fanned = await Promise.all(Array.from({ length: 4 }, () => webhooks().fanOut(fanOutInput(T0 + 100, 10))));
      const more = await webhooks().fanOut(fanOutInput(T0 + 100));
      expect(fanned.reduce((a, b) => a + b, 0) + more).toBe(30);
      const claims = await Promise.all(
        Array.from({ length: 4 }, (_, i) => webhooks().claimDue(T0 + 100, `owner_${i}`, T0 + 200, 12)),
      );
      const ids = claims.flat().map((c) => c.delivery.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(30);
      for (const claim of claims.flat()) expect(JSON.parse(claim.payload)).toMatchObject({ id: claim.delivery.eventId, type: 'key.created' });
      // Leased: nobody else gets them until the lease ends.
      expect(await webhooks().claimDue(T0 + 199, 'owner_x', T0 + 300, 100)).toStrictEqual([]);
      expect(await webhooks().claimDue(T0 + 200, 'owner_x', T0 + 300, 100)).toHaveLength(30);
    });

    it('writes outcomes only for the lease holder, tracks failing endpoints, disables on gone and after the limit', async () => {
      const endpoint = makeEndpoint();
      const gone = makeEndpoint();
      for (const e of [endpoint, gone]) await webhooks().insertEndpoint(e, []);
      await commit([keyEvent('key.created', T0), keyEvent('key.revoked', T0)]);
      await webhooks().fanOut(fanOutInput(T0));
      const claimed = await webhooks().claimDue(T0, 'me', T0 + 1000, 10);
      expect(claimed).toHaveLength(4);
      const result = (c: (typeof claimed)[number], health: AttemptResult['endpointHealth'], statusCode: number): AttemptResult => ({
        deliveryId: c.delivery.id,
        endpointId: c.delivery.endpointId,
        attempt: { deliveryId: c.delivery.id, attempt: 1, attemptedAt: T0, outcome: health === 'healthy' ? 'success' : 'failure', statusCode, latencyMs: 3, error: null },
        status: health === 'healthy' ? 'delivered' : health === 'gone' ? 'failed' : 'pending',
        nextAttemptAt: T0 + 10_000,
        endpointHealth: health,
      });
      const mine = claimed.filter((c) => c.delivery.endpointId === endpoint.id);
      const theirs = claimed.filter((c) => c.delivery.endpointId === gone.id);
      const disabledEvent = (e: WebhookEndpointRecord, reason: string) =>
        createAuditEvent(T0, { type: 'webhook_endpoint.disabled', outcome: 'success', reason, details: { endpointId: e.id } });
      const complete = (results: AttemptResult[], leaseOwner = 'me', now = T0, failingSinceLimit = T0 - DAY) =>
        webhooks().completeAttempts({ results, leaseOwner, now, failingSinceLimit, disabledEvent });

      await complete([result(mine[0]!, 'failing', 500)], 'someone else');
      expect((await webhooks().findDelivery(mine[0]!.delivery.id))!.attempts).toBe(0);

      await complete([result(mine[0]!, 'failing', 500), result(theirs[0]!, 'gone', 410)]);
      expect(await webhooks().findDelivery(mine[0]!.delivery.id)).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 500, nextAttemptAt: T0 + 10_000 });
      expect(await webhooks().findEndpoint(endpoint.id)).toMatchObject({ failingSince: T0, disabledAt: null });
      expect(await webhooks().findEndpoint(gone.id)).toMatchObject({ disabledAt: T0, disabledReason: 'gone', version: 2 });
      // The other pending delivery of the disabled endpoint is failed (it was leased, now released).
      await complete([result(theirs[1]!, 'failing', 500)]);
      expect(await webhooks().findDelivery(theirs[1]!.delivery.id)).toMatchObject({ status: 'failed' });
      expect(await webhooks().listAttempts([mine[0]!.delivery.id])).toStrictEqual([result(mine[0]!, 'failing', 500).attempt]);

      // A success clears the failure; failing past the limit disables.
      await complete([result(mine[1]!, 'healthy', 200)]);
      expect(await webhooks().findEndpoint(endpoint.id)).toMatchObject({ failingSince: null });
      const [again] = await webhooks().claimDue(T0 + 10_000, 'me', T0 + 20_000, 10);
      await complete([{ ...result(again!, 'failing', 500), attempt: { ...result(again!, 'failing', 500).attempt!, attempt: 2 } }], 'me', T0 + 10_000, T0 + 10_000);
      expect(await webhooks().findEndpoint(endpoint.id)).toMatchObject({ disabledReason: 'failing', disabledAt: T0 + 10_000 });
      const events = await stores().audit.list({ type: 'webhook_endpoint.disabled', limit: 10 });
      expect(events.map((e) => e.details?.endpointId).sort()).toStrictEqual([endpoint.id, gone.id].sort());
    });

    it('requeues a delivery unless it is being attempted; deletes an endpoint with its deliveries', async () => {
      const endpoint = makeEndpoint();
      await webhooks().insertEndpoint(endpoint, []);
      await commit([keyEvent('key.created', T0)]);
      await webhooks().fanOut(fanOutInput(T0));
      const [claimed] = await webhooks().claimDue(T0, 'me', T0 + 1000, 10);
      const id = claimed!.delivery.id;
      expect(await webhooks().requeueDelivery(id, endpoint.id, T0 + 1, [])).toStrictEqual({ ok: false, reason: 'in_flight' });
      expect(await webhooks().requeueDelivery(id, 'whe_other', T0 + 1, [])).toStrictEqual({ ok: false, reason: 'not_found' });
      // Still pending (its lease ran out): due now, and it keeps the rest of its retry window.
      const requeued = await webhooks().requeueDelivery(id, endpoint.id, T0 + 1000, []);
      expect(requeued).toMatchObject({ ok: true, delivery: { status: 'pending', nextAttemptAt: T0 + 1000, deadlineAt: T0 + DAY } });
      // Finished: one more attempt, and no automatic retry after it.
      await webhooks().claimDue(T0 + 1000, 'me', T0 + 2000, 10);
      const attempt = { deliveryId: id, attempt: 1, attemptedAt: T0 + 1000, outcome: 'success' as const, statusCode: 200, latencyMs: 1, error: null };
      await webhooks().completeAttempts({
        results: [{ deliveryId: id, endpointId: endpoint.id, attempt, status: 'delivered', nextAttemptAt: T0 + 1000, endpointHealth: 'healthy' }],
        leaseOwner: 'me',
        now: T0 + 1000,
        failingSinceLimit: T0 - DAY,
        disabledEvent: () => {
          throw new Error('not disabled');
        },
      });
      const again = await webhooks().requeueDelivery(id, endpoint.id, T0 + 3000, []);
      expect(again).toMatchObject({ ok: true, delivery: { status: 'pending', nextAttemptAt: T0 + 3000, deadlineAt: T0 + 3000 } });
      expect(await webhooks().deleteEndpoint(endpoint.id, [])).toBe(true);
      expect(await webhooks().deleteEndpoint(endpoint.id, [])).toBe(false);
      expect(await webhooks().findDelivery(id)).toBeUndefined();
    });

    it('queues a test delivery to one endpoint only, fanned out already, with its audit event; refuses a disabled or missing endpoint', async () => {
      const endpoint = makeEndpoint({ events: ['key.revoked'], tenantId: 'acme' });
      const other = makeEndpoint();
      await webhooks().insertEndpoint(endpoint, []);
      await webhooks().insertEndpoint(other, []);
      const eventId = newSortableId('evt', T0 + 5);
      const payload = JSON.stringify({ id: eventId, type: 'webhook.test', data: { endpointId: endpoint.id } });
      const input = (endpointId: string, id = eventId) => ({
        endpointId,
        event: { id, type: 'webhook.test', tenantId: 'acme', payload },
        deliveryId: newSortableId('whd', T0 + 5),
        now: T0 + 5,
        deadlineAt: T0 + 5 + DAY,
      });
      const audit = createAuditEvent(T0 + 5, { type: 'webhook_delivery.test_sent', outcome: 'success', tenantId: 'acme', details: { endpointId: endpoint.id } });
      const queued = await webhooks().queueTestDelivery(input(endpoint.id), [audit]);
      expect(queued).toStrictEqual({
        ok: true,
        delivery: {
          id: expect.stringMatching(/^whd_/),
          endpointId: endpoint.id,
          eventId,
          eventType: 'webhook.test',
          status: 'pending',
          attempts: 0,
          nextAttemptAt: T0 + 5,
          deadlineAt: T0 + 5 + DAY,
          lastStatusCode: null,
          lastError: null,
          createdAt: T0 + 5,
          updatedAt: T0 + 5,
          deliveredAt: null,
        },
      });
      if (!queued.ok) throw new Error('not queued');
      expect(await webhooks().findDelivery(queued.delivery.id)).toStrictEqual(queued.delivery);
      expect((await stores().audit.list({ type: 'webhook_delivery.test_sent', limit: 10 })).map((e) => e.id)).toStrictEqual([audit.id]);
      // Marked fanned out: the other endpoint (receiving everything) never gets it.
      expect(await webhooks().fanOut(fanOutInput(T0 + 6))).toBe(0);
      expect(await webhooks().listDeliveries({ endpointId: other.id, limit: 10 })).toStrictEqual([]);
      // Claimed and sent like any delivery, with the exact body.
      const claimed = await webhooks().claimDue(T0 + 6, 'me', T0 + 1000, 10);
      expect(claimed).toStrictEqual([{ delivery: { ...queued.delivery }, payload }]);

      // Refused, nothing written: a missing endpoint, a disabled one.
      expect(await webhooks().queueTestDelivery(input('whe_missing', newSortableId('evt', T0)), [])).toStrictEqual({ ok: false, reason: 'not_found' });
      await webhooks().updateEndpoint(other.id, 1, { disabledAt: T0 + 7, disabledReason: 'manual' }, T0 + 7, []);
      const refusedAudit = createAuditEvent(T0 + 8, { type: 'webhook_delivery.test_sent', outcome: 'success', details: { endpointId: other.id } });
      expect(await webhooks().queueTestDelivery(input(other.id, newSortableId('evt', T0 + 8)), [refusedAudit])).toStrictEqual({ ok: false, reason: 'disabled' });
      expect(await webhooks().listDeliveries({ endpointId: other.id, limit: 10 })).toStrictEqual([]);
      expect((await stores().audit.list({ type: 'webhook_delivery.test_sent', limit: 10 })).map((e) => e.id)).toStrictEqual([audit.id]);
    });

    it('purges finished deliveries with their attempts and unreferenced outbox events by age, never pending ones', async () => {
      const endpoint = makeEndpoint({ events: ['key.created', 'key.revoked'] });
      await webhooks().insertEndpoint(endpoint, []);
      // Three old events delivered to the endpoint, one old event it does not receive, one recent event.
      await commit([keyEvent('key.created', T0), keyEvent('key.revoked', T0), keyEvent('key.created', T0 + 1), keyEvent('key.rotated', T0)]);
      expect(await webhooks().fanOut(fanOutInput(T0))).toBe(4);
      const old = await webhooks().claimDue(T0, 'me', T0 + 1000, 10);
      expect(old).toHaveLength(3);
      const [delivered, failed, pending] = old.map((c) => c.delivery);
      const attempt = (deliveryId: string, at: number, ok: boolean) => ({
        deliveryId,
        attempt: 1,
        attemptedAt: at,
        outcome: ok ? ('success' as const) : ('failure' as const),
        statusCode: ok ? 200 : 500,
        latencyMs: 1,
        error: null,
      });
      const complete = (results: AttemptResult[], now: number) =>
        webhooks().completeAttempts({
          results,
          leaseOwner: 'me',
          now,
          failingSinceLimit: T0 - DAY,
          disabledEvent: () => {
            throw new Error('not disabled');
          },
        });
      await complete(
        [
          { deliveryId: delivered!.id, endpointId: endpoint.id, attempt: attempt(delivered!.id, T0, true), status: 'delivered', nextAttemptAt: T0, endpointHealth: 'healthy' },
          { deliveryId: failed!.id, endpointId: endpoint.id, attempt: attempt(failed!.id, T0, false), status: 'failed', nextAttemptAt: T0, endpointHealth: 'healthy' },
          { deliveryId: pending!.id, endpointId: endpoint.id, attempt: attempt(pending!.id, T0, false), status: 'pending', nextAttemptAt: T0 + 20 * DAY, endpointHealth: 'healthy' },
        ],
        T0,
      );
      await commit([keyEvent('key.created', T0 + 10 * DAY)]);
      await webhooks().fanOut(fanOutInput(T0 + 10 * DAY));
      const [recent] = await webhooks().claimDue(T0 + 10 * DAY, 'me', T0 + 10 * DAY + 1000, 10);
      expect(recent!.delivery.id).not.toBe(pending!.id);
      await complete(
        [{ deliveryId: recent!.delivery.id, endpointId: endpoint.id, attempt: attempt(recent!.delivery.id, T0 + 10 * DAY, true), status: 'delivered', nextAttemptAt: T0 + 10 * DAY, endpointHealth: 'healthy' }],
        T0 + 10 * DAY,
      );

      const cutoff = T0 + 5 * DAY;
      // At most `limit` deliveries and `limit` events a call: one delivery, one event.
      expect(await webhooks().purgeOlderThan(cutoff, 1)).toBe(2);
      // The other finished delivery, its event and the other one's; the unreceived event.
      expect(await webhooks().purgeOlderThan(cutoff, 100)).toBe(3);
      expect(await webhooks().purgeOlderThan(cutoff, 100)).toBe(0);

      expect(await webhooks().findDelivery(delivered!.id)).toBeUndefined();
      expect(await webhooks().findDelivery(failed!.id)).toBeUndefined();
      expect(await webhooks().listAttempts([delivered!.id, failed!.id])).toStrictEqual([]);
      expect(await webhooks().requeueDelivery(delivered!.id, endpoint.id, T0 + 11 * DAY, [])).toStrictEqual({ ok: false, reason: 'not_found' });
      // The pending delivery keeps its attempts and its event: it is still delivered when due.
      expect(await webhooks().listAttempts([pending!.id])).toHaveLength(1);
      const due = await webhooks().claimDue(T0 + 20 * DAY, 'me', T0 + 21 * DAY, 10);
      expect(due.map((c) => c.delivery.id)).toStrictEqual([pending!.id]);
      expect(JSON.parse(due[0]!.payload)).toMatchObject({ id: pending!.eventId });
      // Recent history stays.
      expect(await webhooks().findDelivery(recent!.delivery.id)).toMatchObject({ status: 'delivered' });
      expect(await webhooks().listAttempts([recent!.delivery.id])).toHaveLength(1);
    });
  });
}
