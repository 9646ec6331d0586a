// Frozen in time: never edit a migration that has shipped, and never import application code here.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    // The public JWK (JSON text), as published in the JWKS.
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    // The private key (PKCS#8) sealed with AES-256-GCM under the master key, associated data = kid.
    .addColumn('private_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('activates_at', 'bigint', (c) => c.notNull())
    .addColumn('retired_at', 'bigint')
    .addColumn('publish_until', 'bigint')
    .execute();
  await db.schema.createIndex('signing_keys_activates_idx').on('signing_keys').columns(['activates_at', 'kid']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('signing_keys').execute();
}
