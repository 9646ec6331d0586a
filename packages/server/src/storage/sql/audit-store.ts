import { sql, type Kysely } from 'kysely';
import type { AuditEvent } from '../../core/audit/audit-event.js';
import type { AuditEventQuery, AuditStore } from '../stores.js';
import { auditEventToRow, rowToAuditEvent } from './rows.js';
import { insertAuditEvents } from './shared-writes.js';
import type { Database } from './database.js';
import type { Schema } from './schema.js';

export class SqlAuditStore implements AuditStore {
  private readonly db: Kysely<Schema>;

  constructor(private readonly database: Database) {
    this.db = database.db;
  }

  /**
   * The write-behind path, thousands of rows a second under load, so it does not go through a query builder:
   * SQLite batches go to the background writer (prepared statements, off the event loop); PostgreSQL gets one
   * statement whose single JSON parameter the server expands into rows. Either way a batch retried after a
   * partial failure skips the events already written.
   */
  async insertMany(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    if (this.database.backgroundWriter) return this.database.backgroundWriter.insertAuditEvents(events);
    const rows = events.map(auditEventToRow);
    await sql`insert into audit_events
      select * from json_populate_recordset(null::audit_events, ${JSON.stringify(rows)}::json)
      on conflict (id) do nothing`.execute(this.db);
  }

  async insertNow(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db.transaction().execute((trx) => insertAuditEvents(trx, events));
  }

  async purgeOlderThan(cutoff: number, limit: number): Promise<number> {
    // SQLite: in the background writer, so a large purge never holds the event loop.
    if (this.database.backgroundWriter) return this.database.backgroundWriter.purgeAuditEvents(cutoff, limit);
    const result = await this.db
      .deleteFrom('audit_events')
      .where('id', 'in', (eb) => eb.selectFrom('audit_events').select('id').where('occurred_at', '<', cutoff).orderBy('occurred_at').orderBy('id').limit(limit))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async list(query: AuditEventQuery): Promise<AuditEvent[]> {
    let q = this.db.selectFrom('audit_events').selectAll();
    if (query.type !== undefined) q = q.where('type', '=', query.type);
    if (query.typePrefix !== undefined) {
      // Compared exactly (LIKE would make _ a wildcard, and ignores case in SQLite).
      q = q.where(sql<boolean>`substr(type, 1, ${query.typePrefix.length}) = ${query.typePrefix}`);
    }
    if (query.keyId !== undefined) q = q.where('key_id', '=', query.keyId);
    if (query.tenantId !== undefined) q = q.where('tenant_id', '=', query.tenantId);
    if (query.outcome !== undefined) q = q.where('outcome', '=', query.outcome);
    if (query.clientId !== undefined) q = q.where('client_id', '=', query.clientId);
    const userId = query.userId;
    if (userId !== undefined) q = q.where((eb) => eb.or([eb('user_id', '=', userId), eb('actor_user_id', '=', userId)]));
    if (query.actorKeyId !== undefined) q = q.where('actor_key_id', '=', query.actorKeyId);
    if (query.since !== undefined) q = q.where('occurred_at', '>=', query.since);
    if (query.until !== undefined) q = q.where('occurred_at', '<', query.until);
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
