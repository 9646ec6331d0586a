import { sql, type Kysely } from 'kysely';
import type { AuditEvent } from '../../core/audit/audit-event.js';
import type { IpBlockRecord, IpBlockStore } from '../stores.js';
import type { IpBlocksTable, Schema } from './schema.js';
import { insertAuditEvents } from './shared-writes.js';

const toRecord = (row: IpBlocksTable): IpBlockRecord => ({
  ip: row.ip,
  reason: row.reason,
  failures: row.failures,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
});

export class SqlIpBlockStore implements IpBlockStore {
  constructor(private readonly db: Kysely<Schema>) {}

  async upsert(block: IpBlockRecord, events: AuditEvent[]): Promise<IpBlockRecord> {
    return this.db.transaction().execute(async (trx) => {
      // An ended block is replaced whole; one in force keeps its start and is only ever extended.
      await trx.deleteFrom('ip_blocks').where('ip', '=', block.ip).where('expires_at', '<=', block.createdAt).execute();
      const row = await trx
        .insertInto('ip_blocks')
        .values({ ip: block.ip, reason: block.reason, failures: block.failures, created_at: block.createdAt, expires_at: block.expiresAt })
        .onConflict((oc) =>
          oc.column('ip').doUpdateSet({
            reason: (eb) => eb.ref('excluded.reason'),
            failures: (eb) => eb.ref('excluded.failures'),
            expires_at: sql<number>`case when excluded.expires_at > ip_blocks.expires_at then excluded.expires_at else ip_blocks.expires_at end`,
          }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      await insertAuditEvents(trx, events);
      return toRecord(row);
    });
  }

  async remove(ip: string, now: number, events: AuditEvent[]): Promise<IpBlockRecord | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx.deleteFrom('ip_blocks').where('ip', '=', ip).returningAll().executeTakeFirst();
      if (!row || row.expires_at <= now) return undefined;
      await insertAuditEvents(trx, events);
      return toRecord(row);
    });
  }

  async listActive(now: number): Promise<IpBlockRecord[]> {
    const rows = await this.db.selectFrom('ip_blocks').selectAll().where('expires_at', '>', now).orderBy('expires_at').orderBy('ip').execute();
    return rows.map(toRecord);
  }
}
