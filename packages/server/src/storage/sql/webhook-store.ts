import { sql, type Kysely, type Transaction } from 'kysely';
import type { AuditEvent } from '../../core/audit/audit-event.js';
import type {
  AttemptResult,
  ClaimedDelivery,
  CompleteAttemptsInput,
  FanOutInput,
  PageCursor,
  TestDeliveryInput,
  WebhookAttemptRecord,
  WebhookDeliveryListQuery,
  WebhookDeliveryRecord,
  WebhookEndpointPatch,
  WebhookEndpointRecord,
  WebhookStore,
  WriteOutcome,
} from '../stores.js';
import type { Database } from './database.js';
import {
  rowToWebhookAttempt,
  rowToWebhookDelivery,
  rowToWebhookEndpoint,
  webhookAttemptToRow,
  webhookEndpointPatchToRow,
  webhookEndpointToRow,
} from './rows.js';
import type { Schema, WebhookDeliveriesTable } from './schema.js';
import { createdBefore, insertAuditEvents } from './shared-writes.js';

const ENDPOINT_DISABLED = 'endpoint disabled';

export class SqlWebhookStore implements WebhookStore {
  private readonly db: Kysely<Schema>;

  constructor(private readonly database: Database) {
    this.db = database.db;
  }

  async insertEndpoint(endpoint: WebhookEndpointRecord, events: AuditEvent[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('webhook_endpoints').values(webhookEndpointToRow(endpoint)).execute();
      await insertAuditEvents(trx, events);
    });
  }

  async findEndpoint(id: string): Promise<WebhookEndpointRecord | undefined> {
    const row = await this.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    return row && rowToWebhookEndpoint(row);
  }

  async findEndpoints(ids: readonly string[]): Promise<WebhookEndpointRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('webhook_endpoints').selectAll().where('id', 'in', [...ids]).execute();
    return rows.map(rowToWebhookEndpoint);
  }

  async listEndpoints(query: { tenantId?: string; limit: number; after?: PageCursor }): Promise<WebhookEndpointRecord[]> {
    let q = this.db.selectFrom('webhook_endpoints').selectAll();
    if (query.tenantId !== undefined) q = q.where('tenant_id', '=', query.tenantId);
    const after = query.after;
    if (after) q = q.where((eb) => createdBefore(eb, after));
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map(rowToWebhookEndpoint);
  }

  async updateEndpoint(
    id: string,
    expectedVersion: number,
    patch: WebhookEndpointPatch,
    now: number,
    events: AuditEvent[],
  ): Promise<WriteOutcome<WebhookEndpointRecord>> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('webhook_endpoints')
        .set({ ...webhookEndpointPatchToRow(patch), version: expectedVersion + 1, updated_at: now })
        .where('id', '=', id)
        .where('version', '=', expectedVersion)
        .returningAll()
        .executeTakeFirst();
      if (!row) {
        const exists = await trx.selectFrom('webhook_endpoints').select('id').where('id', '=', id).executeTakeFirst();
        return { ok: false, reason: exists ? 'conflict' : 'not_found' };
      }
      if (row.disabled_at !== null) await failPendingDeliveries(trx, [id], now);
      await insertAuditEvents(trx, events);
      return { ok: true, value: rowToWebhookEndpoint(row) };
    });
  }

  async deleteEndpoint(id: string, events: AuditEvent[]): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const deleted = await trx.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) return false;
      await trx
        .deleteFrom('webhook_attempts')
        .where('delivery_id', 'in', (eb) => eb.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', id))
        .execute();
      await trx.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
      await insertAuditEvents(trx, events);
      return true;
    });
  }

  async purgeOlderThan(cutoff: number, limit: number): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const finished = await trx
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('status', '<>', 'pending')
        .where('updated_at', '<', cutoff)
        .orderBy('updated_at')
        .orderBy('id')
        .limit(limit)
        .execute();
      const ids = finished.map((row) => row.id);
      let deleted = 0;
      if (ids.length > 0) {
        // Conditional again: a delivery requeued since it was selected is pending, and stays with its attempts.
        const gone = await trx.deleteFrom('webhook_deliveries').where('id', 'in', ids).where('status', '<>', 'pending').returning('id').execute();
        if (gone.length > 0) {
          await trx.deleteFrom('webhook_attempts').where('delivery_id', 'in', gone.map((row) => row.id)).execute();
        }
        deleted += gone.length;
      }
      const events = await trx
        .deleteFrom('webhook_events')
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('webhook_events as e')
            .select('e.id')
            .where('e.fanned_out_at', 'is not', null)
            .where('e.created_at', '<', cutoff)
            .where((inner) => inner.not(inner.exists(inner.selectFrom('webhook_deliveries as d').select('d.id').whereRef('d.event_id', '=', 'e.id'))))
            .orderBy('e.created_at')
            .orderBy('e.id')
            .limit(limit),
        )
        .executeTakeFirst();
      return deleted + Number(events.numDeletedRows);
    });
  }

  async fanOut(input: FanOutInput): Promise<number> {
    const { now } = input;
    return this.db.transaction().execute(async (trx) => {
      let pick = trx
        .selectFrom('webhook_events')
        .select(['id', 'type', 'tenant_id', 'created_at'])
        .where('fanned_out_at', 'is', null)
        .orderBy('id')
        .limit(input.limit);
      // Several processes fanning out at once each take different events, never waiting on each other.
      if (this.database.dialect === 'postgres') pick = pick.forUpdate().skipLocked();
      const events = await pick.execute();
      if (events.length === 0) return 0;
      const marked = await trx
        .updateTable('webhook_events')
        .set({ fanned_out_at: now })
        .where('id', 'in', events.map((event) => event.id))
        .where('fanned_out_at', 'is', null)
        .returning('id')
        .execute();
      const mine = new Set(marked.map((row) => row.id));
      const endpoints = (
        await trx
          .selectFrom('webhook_endpoints')
          .select(['id', 'events', 'tenant_id', 'created_at'])
          .where('disabled_at', 'is', null)
          .execute()
      ).map((row) => ({ id: row.id, events: JSON.parse(row.events) as string[], tenantId: row.tenant_id, createdAt: row.created_at }));
      const deliveries: WebhookDeliveriesTable[] = [];
      for (const event of events) {
        if (!mine.has(event.id)) continue;
        for (const endpoint of endpoints) {
          if (endpoint.createdAt > event.created_at) continue;
          if (!input.receives(endpoint, { type: event.type, tenantId: event.tenant_id })) continue;
          deliveries.push(newDeliveryRow(input.newDeliveryId(), endpoint.id, event, now, event.created_at + input.retryWindowMs));
        }
      }
      for (let i = 0; i < deliveries.length; i += 500) {
        await trx
          .insertInto('webhook_deliveries')
          .values(deliveries.slice(i, i + 500))
          .onConflict((oc) => oc.columns(['endpoint_id', 'event_id']).doNothing())
          .execute();
      }
      return mine.size;
    });
  }

  async claimDue(now: number, leaseOwner: string, leaseUntil: number, limit: number): Promise<ClaimedDelivery[]> {
    return this.db.transaction().execute((trx) => this.#claim(trx, now, leaseOwner, leaseUntil, limit));
  }

  async #claim(trx: Transaction<Schema>, now: number, leaseOwner: string, leaseUntil: number, limit: number): Promise<ClaimedDelivery[]> {
    {
      let due = trx
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(limit);
      if (this.database.dialect === 'postgres') due = due.forUpdate().skipLocked();
      const ids = (await due.execute()).map((row) => row.id);
      if (ids.length === 0) return [];
      // Conditional on the lease still being free: of two claims racing for a row, one matches it.
      const rows = await trx
        .updateTable('webhook_deliveries')
        .set({ lease_owner: leaseOwner, lease_until: leaseUntil })
        .where('id', 'in', ids)
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
        .returningAll()
        .execute();
      if (rows.length === 0) return [];
      const payloads = new Map(
        (
          await trx
            .selectFrom('webhook_events')
            .select(['id', 'payload'])
            .where('id', 'in', [...new Set(rows.map((row) => row.event_id))])
            .execute()
        ).map((row) => [row.id, row.payload]),
      );
      return rows
        .sort((a, b) => a.next_attempt_at - b.next_attempt_at || (a.id < b.id ? -1 : 1))
        .map((row) => ({ delivery: rowToWebhookDelivery(row), payload: payloads.get(row.event_id)! }));
    }
  }

  async completeAttempts(input: CompleteAttemptsInput): Promise<ClaimedDelivery[]> {
    const { now, leaseOwner } = input;
    return this.db.transaction().execute(async (trx) => {
      const written = await this.#writeOutcomes(trx, input.results, leaseOwner, now);
      const attempts = input.results.filter((result) => result.attempt && written.has(result.deliveryId)).map((r) => webhookAttemptToRow(r.attempt!));
      for (let i = 0; i < attempts.length; i += 500) {
        await trx
          .insertInto('webhook_attempts')
          .values(attempts.slice(i, i + 500))
          .onConflict((oc) => oc.columns(['delivery_id', 'attempt']).doNothing())
          .execute();
      }
      // The last word on each endpoint's health in this batch.
      const health = new Map<string, { state: 'healthy' | 'failing' | 'gone'; at: number }>();
      for (const result of input.results) {
        if (!result.attempt || result.endpointHealth === 'unknown' || !written.has(result.deliveryId)) continue;
        health.set(result.endpointId, { state: result.endpointHealth, at: result.attempt.attemptedAt });
      }
      const disabled: string[] = [];
      for (const [endpointId, { state, at }] of health) {
        if (state === 'healthy') {
          await trx
            .updateTable('webhook_endpoints')
            .set({ failing_since: null })
            .where('id', '=', endpointId)
            .where('failing_since', 'is not', null)
            .execute();
          continue;
        }
        await trx
          .updateTable('webhook_endpoints')
          .set({ failing_since: at })
          .where('id', '=', endpointId)
          .where('failing_since', 'is', null)
          .execute();
        let disable = trx
          .updateTable('webhook_endpoints')
          .set((eb) => ({
            disabled_at: now,
            disabled_reason: state === 'gone' ? 'gone' : 'failing',
            version: eb('version', '+', 1),
            updated_at: now,
          }))
          .where('id', '=', endpointId)
          .where('disabled_at', 'is', null);
        if (state === 'failing') disable = disable.where('failing_since', '<=', input.failingSinceLimit);
        const row = await disable.returningAll().executeTakeFirst();
        if (!row) continue;
        disabled.push(endpointId);
        await insertAuditEvents(trx, [input.disabledEvent(rowToWebhookEndpoint(row), state === 'gone' ? 'gone' : 'failing')]);
      }
      // Pending deliveries of endpoints disabled here, or by an admin while these attempts were under way.
      const touched = [...new Set(input.results.map((result) => result.endpointId))];
      const off =
        touched.length === 0
          ? []
          : await trx.selectFrom('webhook_endpoints').select('id').where('id', 'in', touched).where('disabled_at', 'is not', null).execute();
      await failPendingDeliveries(trx, [...new Set([...disabled, ...off.map((row) => row.id)])], now);
      return input.claim ? this.#claim(trx, now, leaseOwner, input.claim.leaseUntil, input.claim.limit) : [];
    });
  }

  /**
   * The new state of every delivery of a batch in one statement (a batch is up to the dispatcher's concurrency),
   * for those `leaseOwner` still holds. Returns the ids written.
   */
  async #writeOutcomes(trx: Transaction<Schema>, results: readonly AttemptResult[], leaseOwner: string, now: number): Promise<Set<string>> {
    const json = JSON.stringify(
      results.map((r) => ({
        id: r.deliveryId,
        status: r.status,
        attempt: r.attempt?.attempt ?? null,
        next_attempt_at: r.nextAttemptAt,
        status_code: r.attempt?.statusCode ?? null,
        error: r.attempt ? r.attempt.error : ENDPOINT_DISABLED,
      })),
    );
    const source =
      this.database.dialect === 'postgres'
        ? sql`json_to_recordset(${json}::json) as v(id text, status text, attempt int, next_attempt_at bigint, status_code int, error text)`
        : sql`(select value ->> 'id' as id, value ->> 'status' as status, value ->> 'attempt' as attempt,
              value ->> 'next_attempt_at' as next_attempt_at, value ->> 'status_code' as status_code, value ->> 'error' as error
              from json_each(${json})) as v`;
    const { rows } = await sql<{ id: string }>`update webhook_deliveries as d set
        status = v.status,
        attempts = coalesce(v.attempt, d.attempts),
        next_attempt_at = v.next_attempt_at,
        last_status_code = case when v.attempt is null then d.last_status_code else v.status_code end,
        last_error = v.error,
        delivered_at = case when v.status = 'delivered' then ${now} else d.delivered_at end,
        lease_owner = null,
        lease_until = null,
        updated_at = ${now}
      from ${source}
      where d.id = v.id and d.lease_owner = ${leaseOwner}
      returning ${sql.raw(this.database.dialect === 'postgres' ? 'd.id' : 'id')}`.execute(trx);
    return new Set(rows.map((row) => row.id));
  }

  async findDelivery(id: string): Promise<WebhookDeliveryRecord | undefined> {
    const row = await this.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    return row && rowToWebhookDelivery(row);
  }

  async listDeliveries(query: WebhookDeliveryListQuery): Promise<WebhookDeliveryRecord[]> {
    let q = this.db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', query.endpointId);
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    const after = query.after;
    if (after) q = q.where((eb) => createdBefore(eb, after));
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map(rowToWebhookDelivery);
  }

  async listAttempts(deliveryIds: readonly string[]): Promise<WebhookAttemptRecord[]> {
    if (deliveryIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('webhook_attempts')
      .selectAll()
      .where('delivery_id', 'in', [...deliveryIds])
      .orderBy('delivery_id')
      .orderBy('attempt')
      .execute();
    return rows.map(rowToWebhookAttempt);
  }

  async queueTestDelivery(
    input: TestDeliveryInput,
    events: AuditEvent[],
  ): Promise<{ ok: true; delivery: WebhookDeliveryRecord } | { ok: false; reason: 'not_found' | 'disabled' }> {
    const { now } = input;
    return this.db.transaction().execute(async (trx) => {
      let find = trx.selectFrom('webhook_endpoints').select(['id', 'disabled_at']).where('id', '=', input.endpointId);
      // Waits for a disable under way (it updates this row): the test delivery never outlives a disable as pending.
      if (this.database.dialect === 'postgres') find = find.forUpdate();
      const endpoint = await find.executeTakeFirst();
      if (!endpoint) return { ok: false, reason: 'not_found' };
      if (endpoint.disabled_at !== null) return { ok: false, reason: 'disabled' };
      await trx
        .insertInto('webhook_events')
        .values({ id: input.event.id, type: input.event.type, tenant_id: input.event.tenantId, created_at: now, payload: input.event.payload, fanned_out_at: now })
        .execute();
      const row = await trx
        .insertInto('webhook_deliveries')
        .values(newDeliveryRow(input.deliveryId, input.endpointId, input.event, now, input.deadlineAt))
        .returningAll()
        .executeTakeFirstOrThrow();
      await insertAuditEvents(trx, events);
      return { ok: true, delivery: rowToWebhookDelivery(row) };
    });
  }

  async requeueDelivery(
    id: string,
    endpointId: string,
    now: number,
    events: AuditEvent[],
  ): Promise<{ ok: true; delivery: WebhookDeliveryRecord } | { ok: false; reason: 'not_found' | 'in_flight' }> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('webhook_deliveries')
        .set((eb) => ({
          status: 'pending',
          next_attempt_at: now,
          // A finished delivery gets this one attempt; a pending one keeps the rest of its retry window.
          deadline_at: eb.case().when('status', '=', 'pending').then(eb.ref('deadline_at')).else(now).end(),
          lease_owner: null,
          lease_until: null,
          updated_at: now,
        }))
        .where('id', '=', id)
        .where('endpoint_id', '=', endpointId)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
        .returningAll()
        .executeTakeFirst();
      if (!row) {
        const exists = await trx
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('id', '=', id)
          .where('endpoint_id', '=', endpointId)
          .executeTakeFirst();
        return { ok: false, reason: exists ? 'in_flight' : 'not_found' };
      }
      await insertAuditEvents(trx, events);
      return { ok: true, delivery: rowToWebhookDelivery(row) };
    });
  }
}

/** A new delivery of an event to an endpoint: pending, due at `now`. */
function newDeliveryRow(id: string, endpointId: string, event: { id: string; type: string }, now: number, deadlineAt: number): WebhookDeliveriesTable {
  return {
    id,
    endpoint_id: endpointId,
    event_id: event.id,
    event_type: event.type,
    status: 'pending',
    attempts: 0,
    next_attempt_at: now,
    deadline_at: deadlineAt,
    lease_owner: null,
    lease_until: null,
    last_status_code: null,
    last_error: null,
    created_at: now,
    updated_at: now,
    delivered_at: null,
  };
}

/** Fails the pending deliveries of disabled endpoints, except those being attempted right now. */
async function failPendingDeliveries(trx: Transaction<Schema>, endpointIds: readonly string[], now: number): Promise<void> {
  if (endpointIds.length === 0) return;
  await trx
    .updateTable('webhook_deliveries')
    .set({ status: 'failed', last_error: ENDPOINT_DISABLED, updated_at: now })
    .where('endpoint_id', 'in', [...endpointIds])
    .where('status', '=', 'pending')
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
    .execute();
}
