import type { ExpressionBuilder, Transaction } from 'kysely';
import type { AuditEvent } from '../../core/audit/audit-event.js';
import { toWebhookEvent } from '../../core/webhooks/webhook-events.js';
import type { PageCursor } from '../stores.js';
import { auditEventToRow } from './rows.js';
import type { DialectName } from './database.js';
import type { Schema } from './schema.js';

/**
 * Writes lifecycle audit events inside the transaction of the change they describe, and the webhook events among
 * them to the outbox (the transactional outbox: committed with the change, or not at all). An event already
 * written (same id) is skipped, so a deterministic id makes an event idempotent.
 */
export async function insertAuditEvents(trx: Transaction<Schema>, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await trx
    .insertInto('audit_events')
    .values(events.map(auditEventToRow))
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  const outbox = [];
  for (const event of events) {
    const webhook = toWebhookEvent(event);
    if (webhook) {
      outbox.push({
        id: webhook.id,
        type: webhook.type,
        tenant_id: event.tenantId,
        created_at: event.occurredAt,
        payload: JSON.stringify(webhook),
        fanned_out_at: null,
      });
    }
  }
  if (outbox.length > 0) {
    await trx.insertInto('webhook_events').values(outbox).onConflict((oc) => oc.column('id').doNothing()).execute();
  }
}

/**
 * Inserts the meta row `name` inside `trx` unless it exists: true for the one transaction, of every process, that
 * claims it first (the first signing key, the first certificate authority).
 */
export async function claimOnce(trx: Transaction<Schema>, name: string, value: string): Promise<boolean> {
  const marker = await trx.insertInto('meta').values({ name, value }).onConflict((oc) => oc.column('name').doNothing()).executeTakeFirst();
  return Number(marker.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/**
 * Serializes the transactions that call it with the same `lock` across processes. SQLite needs nothing: one
 * process per file, and Kysely runs its transactions one at a time on one connection. PostgreSQL: a row lock
 * (on a meta row made for it), held until `trx` ends.
 */
export async function serializeOn(trx: Transaction<Schema>, dialect: DialectName, lock: string): Promise<void> {
  if (dialect !== 'postgres') return;
  await trx.insertInto('meta').values({ name: lock, value: '' }).onConflict((oc) => oc.column('name').doNothing()).execute();
  await trx.selectFrom('meta').select('name').where('name', '=', lock).forUpdate().execute();
}

/** Keyset pagination, newest first: the rows strictly after `after` in (created_at desc, id desc) order. */
export function createdBefore<T extends keyof Schema>(
  eb: ExpressionBuilder<Schema, T>,
  after: PageCursor,
) {
  const e = eb as unknown as ExpressionBuilder<Record<string, { created_at: number; id: string }>, string>;
  return e.or([e('created_at', '<', after.at), e.and([e('created_at', '=', after.at), e('id', '<', after.id)])]);
}
