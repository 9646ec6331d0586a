// Frozen in time: never edit a migration that has shipped, and never import application code here.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('certificate_authorities')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('certificate_pem', 'text', (c) => c.notNull())
    // The CA's private key (PKCS#8) sealed with AES-256-GCM under the master key, associated data = id.
    .addColumn('private_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('not_after', 'bigint', (c) => c.notNull())
    .addColumn('retired_at', 'bigint')
    .addColumn('trusted_until', 'bigint')
    .execute();

  // Certificates issued to clients and services; never their private keys.
  await db.schema
    .createTable('issued_certificates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('serial_number', 'text', (c) => c.notNull().unique())
    .addColumn('authority_id', 'text', (c) => c.notNull())
    .addColumn('common_name', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text')
    .addColumn('service', 'text')
    .addColumn('san_uri', 'text', (c) => c.notNull())
    .addColumn('thumbprint', 'text', (c) => c.notNull())
    .addColumn('certificate_pem', 'text', (c) => c.notNull())
    .addColumn('not_before', 'bigint', (c) => c.notNull())
    .addColumn('not_after', 'bigint', (c) => c.notNull())
    .addColumn('key_generated', 'integer', (c) => c.notNull())
    .addColumn('tenant_id', 'text')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .addColumn('revoked_reason', 'text')
    .execute();
  await db.schema.createIndex('issued_certificates_created_idx').on('issued_certificates').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('issued_certificates_revoked_idx').on('issued_certificates').columns(['revoked_at', 'not_after']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('issued_certificates').execute();
  await db.schema.dropTable('certificate_authorities').execute();
}
