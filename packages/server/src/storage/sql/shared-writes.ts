import type { ExpressionBuilder, Transaction } from 'kysely';
import type { AuditEvent } from '../../core/audit/audit-event.js';
import type { PageCursor } from '../stores.js';
import { auditEventToRow } from './rows.js';
import type { Schema } from './schema.js';

/** Writes lifecycle audit events inside the transaction of the change they describe. */
export async function insertAuditEvents(trx: Transaction<Schema>, events: readonly AuditEvent[]): Promise<void> {
  if (events.length > 0) await trx.insertInto('audit_events').values(events.map(auditEventToRow)).execute();
}

/** Keyset pagination, newest first: the rows strictly after `after` in (created_at desc, id desc) order. */
export function createdBefore<T extends keyof Schema>(
  eb: ExpressionBuilder<Schema, T>,
  after: PageCursor,
) {
  const e = eb as unknown as ExpressionBuilder<Record<string, { created_at: number; id: string }>, string>;
  return e.or([e('created_at', '<', after.at), e.and([e('created_at', '=', after.at), e('id', '<', after.id)])]);
}
