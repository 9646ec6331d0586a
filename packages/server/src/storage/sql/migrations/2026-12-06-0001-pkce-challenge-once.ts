import { sql, type Kysely } from 'kysely';

// PKCE challenges are single-use per client (RFC 9700 sections 2.1.1 and 4.8): a second authorization code for the
// same client and code_challenge is refused by this unique index, whichever process issues it. Codes issued before
// this migration may repeat a challenge: all but the newest of each (client, challenge) are deleted first (a code
// lives 60 seconds, so this loses nothing but the replay record of old, redeemed duplicates).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    delete from oauth_codes
    where exists (
      select 1 from oauth_codes newer
      where newer.client_id = oauth_codes.client_id
        and newer.code_challenge = oauth_codes.code_challenge
        and (newer.created_at > oauth_codes.created_at or (newer.created_at = oauth_codes.created_at and newer.hash > oauth_codes.hash))
    )`.execute(db);
  await db.schema.createIndex('oauth_codes_client_challenge_idx').on('oauth_codes').columns(['client_id', 'code_challenge']).unique().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('oauth_codes_client_challenge_idx').execute();
}
