// Frozen in time: never edit a migration that has shipped, and never import application code here.
import { sql, type Kysely } from 'kysely';

// RFC 8707 resources (APIs) as registered objects: their identifier, scopes and token policy.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('resources')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('identifier', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull()) // JSON array
    .addColumn('dynamic_clients', 'integer', (c) => c.notNull()) // 0 or 1
    .addColumn('access_token_ttl_seconds', 'integer')
    .addColumn('tenant_id', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();
  // One live resource per identifier; a deleted one frees its identifier.
  await db.schema
    .createIndex('resources_identifier_live_idx')
    .on('resources')
    .column('identifier')
    .unique()
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();
  await db.schema.createIndex('resources_created_idx').on('resources').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('resources_tenant_created_idx').on('resources').columns(['tenant_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('resources_updated_at_idx').on('resources').column('updated_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('resources').execute();
}
