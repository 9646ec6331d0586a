import type { Kysely } from 'kysely';

// OpenID Connect Dynamic Client Registration 1.0 section 2: each client's id_token_signed_response_alg. Existing
// clients get the specification's default, RS256 (every OpenID Provider must sign ID tokens with it).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('oauth_clients')
    .addColumn('id_token_signed_response_alg', 'text', (c) => c.notNull().defaultTo('RS256'))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('oauth_clients').dropColumn('id_token_signed_response_alg').execute();
}
