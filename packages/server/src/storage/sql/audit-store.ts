import type { Kysely } from 'kysely';
import type { AuditEvent } from '../../core/audit/audit-event.js';
import type { AuditEventQuery, AuditStore } from '../stores.js';
import { auditEventToRow, rowToAuditEvent } from './rows.js';
import type { Schema } from './schema.js';

/** 14 columns x 500 rows stays well under both SQLite's and PostgreSQL's bound-parameter limits. */
const ROWS_PER_INSERT = 500;

export class SqlAuditStore implements AuditStore {
  constructor(private readonly db: Kysely<Schema>) {}

  async insertMany(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < events.length; i += ROWS_PER_INSERT) {
        const rows = events.slice(i, i + ROWS_PER_INSERT).map(auditEventToRow);
        // A batch retried after a partial failure must not duplicate or fail on events already written.
        await trx.insertInto('audit_events').values(rows).onConflict((oc) => oc.column('id').doNothing()).execute();
      }
    });
  }

  async list(query: AuditEventQuery): Promise<AuditEvent[]> {
    let q = this.db.selectFrom('audit_events').selectAll();
    if (query.type !== undefined) q = q.where('type', '=', query.type);
    if (query.keyId !== undefined) q = q.where('key_id', '=', query.keyId);
    if (query.tenantId !== undefined) q = q.where('tenant_id', '=', query.tenantId);
    if (query.since !== undefined) q = q.where('occurred_at', '>=', query.since);
    const after = query.after;
    if (after) {
      q = q.where((eb) =>
        eb.or([eb('occurred_at', '<', after.at), eb.and([eb('occurred_at', '=', after.at), eb('id', '<', after.id)])]),
      );
    }
    const rows = await q.orderBy('occurred_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map(rowToAuditEvent);
  }
}
