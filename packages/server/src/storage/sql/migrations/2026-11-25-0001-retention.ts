import { sql, type Kysely } from 'kysely';

// Retention: finished webhook deliveries and fanned-out outbox events are purged by age. These indexes let the
// purge find them without scanning; they cover only rows that can be purged, so the write path of pending
// deliveries does not pay for them. (Audit events are purged through audit_events_time_idx.)
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('webhook_deliveries_finished_idx')
    .on('webhook_deliveries')
    .columns(['updated_at', 'id'])
    .where(sql.ref('status'), '<>', 'pending')
    .execute();
  await db.schema
    .createIndex('webhook_events_fanned_out_idx')
    .on('webhook_events')
    .columns(['created_at', 'id'])
    .where(sql.ref('fanned_out_at'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('webhook_events_fanned_out_idx').execute();
  await db.schema.dropIndex('webhook_deliveries_finished_idx').execute();
}
