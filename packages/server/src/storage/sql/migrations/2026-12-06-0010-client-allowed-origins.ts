// Frozen in time: never edit a migration that has shipped, and never import application code here.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The web origins (JSON array of scheme://host[:port]) whose pages may call the token, revocation and userinfo
  // endpoints (CORS). Existing clients get none: no browser origin is allowed until an admin registers one.
  await db.schema.alterTable('oauth_clients').addColumn('allowed_origins', 'text', (c) => c.notNull().defaultTo('[]')).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('oauth_clients').dropColumn('allowed_origins').execute();
}
