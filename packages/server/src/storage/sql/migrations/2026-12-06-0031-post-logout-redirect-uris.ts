import type { Kysely } from 'kysely';

// OpenID Connect RP-Initiated Logout 1.0: the URIs a client may be sent back to after logout, as a JSON array.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('oauth_clients').addColumn('post_logout_redirect_uris', 'text', (c) => c.notNull().defaultTo('[]')).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('oauth_clients').dropColumn('post_logout_redirect_uris').execute();
}
