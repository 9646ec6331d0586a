// Frozen in time: never edit a migration that has shipped, and never import application code here.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Client addresses blocked after too many failed authentications (the source of truth; Redis only counts).
  await db.schema
    .createTable('ip_blocks')
    .addColumn('ip', 'text', (c) => c.primaryKey())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('failures', 'integer')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();

  // What is normal for a credential (an API key `key_...` or an OAuth client `cli_...`), learned as it is used.
  await db.schema
    .createTable('credential_profiles')
    .addColumn('credential_id', 'text', (c) => c.primaryKey())
    .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('baseline_per_minute', 'double precision', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // One row per network a credential was used from: processes add what they learn, none overwrites another.
  await db.schema
    .createTable('credential_networks')
    .addColumn('credential_id', 'text', (c) => c.notNull())
    .addColumn('network', 'text', (c) => c.notNull())
    .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('credential_networks_pk', ['credential_id', 'network'])
    .execute();

  // What happens when a key looks compromised: 'notify' (an alert) or 'revoke' (an alert, and the key revoked).
  await db.schema.alterTable('api_keys').addColumn('anomaly_action', 'text', (c) => c.notNull().defaultTo('notify')).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('api_keys').dropColumn('anomaly_action').execute();
  await db.schema.dropTable('credential_networks').execute();
  await db.schema.dropTable('credential_profiles').execute();
  await db.schema.dropTable('ip_blocks').execute();
}
