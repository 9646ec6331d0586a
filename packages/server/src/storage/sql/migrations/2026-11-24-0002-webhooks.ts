// Frozen in time: never edit a migration that has shipped, and never import application code here.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('events', 'text', (c) => c.notNull()) // JSON array of event types and wildcards
    .addColumn('scheme', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text')
    .addColumn('description', 'text')
    .addColumn('secret', 'text', (c) => c.notNull()) // SecretBox ciphertext, associated data = id
    .addColumn('previous_secret', 'text') // SecretBox ciphertext, associated data = id
    .addColumn('previous_secret_expires_at', 'bigint')
    .addColumn('disabled_at', 'bigint')
    .addColumn('disabled_reason', 'text')
    .addColumn('failing_since', 'bigint')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('webhook_endpoints_tenant_created_idx')
    .on('webhook_endpoints')
    .columns(['tenant_id', 'created_at', 'id'])
    .execute();
  await db.schema.createIndex('webhook_endpoints_created_idx').on('webhook_endpoints').columns(['created_at', 'id']).execute();

  // The outbox: one row per event, written in the transaction of the change it describes.
  await db.schema
    .createTable('webhook_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull()) // the JSON body sent, byte for byte
    .addColumn('fanned_out_at', 'bigint') // when its deliveries were created
    .execute();
  await db.schema
    .createIndex('webhook_events_unfanned_idx')
    .on('webhook_events')
    .column('id')
    .where(sql.ref('fanned_out_at'), 'is', null)
    .execute();

  // One row per (endpoint, event).
  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('endpoint_id', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull()) // pending | delivered | failed
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('deadline_at', 'bigint', (c) => c.notNull()) // no automatic retry after this time
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'bigint')
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .addUniqueConstraint('webhook_deliveries_endpoint_event_key', ['endpoint_id', 'event_id'])
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_due_idx')
    .on('webhook_deliveries')
    .columns(['next_attempt_at', 'id'])
    .where(sql.ref('status'), '=', 'pending')
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_endpoint_created_idx')
    .on('webhook_deliveries')
    .columns(['endpoint_id', 'created_at', 'id'])
    .execute();

  await db.schema
    .createTable('webhook_attempts')
    .addColumn('delivery_id', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('attempted_at', 'bigint', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('latency_ms', 'integer', (c) => c.notNull())
    .addColumn('error', 'text')
    .addPrimaryKeyConstraint('webhook_attempts_pkey', ['delivery_id', 'attempt'])
    .execute();

  // key.expired is emitted once per key by a sweep; this marks the keys it has announced. Keys already expired
  // when this migration runs are marked as announced: no flood of old expiries on the first sweep.
  await db.schema.alterTable('api_keys').addColumn('expiry_announced_at', 'bigint').execute();
  await db
    .updateTable('api_keys')
    .set({ expiry_announced_at: sql.ref('expires_at') })
    .where('expires_at', '<=', Date.now())
    .execute();
  await db.schema
    .createIndex('api_keys_unannounced_expiry_idx')
    .on('api_keys')
    .column('expires_at')
    .where(sql<boolean>`expiry_announced_at is null and expires_at is not null`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('api_keys').dropColumn('expiry_announced_at').execute();
  await db.schema.dropTable('webhook_attempts').execute();
  await db.schema.dropTable('webhook_deliveries').execute();
  await db.schema.dropTable('webhook_events').execute();
  await db.schema.dropTable('webhook_endpoints').execute();
}
