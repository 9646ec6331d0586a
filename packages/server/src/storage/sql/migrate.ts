import { Migrator, sql, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import type { Database } from './database.js';
import * as initial from './migrations/2026-11-22-0001-initial.js';
import * as signingKeys from './migrations/2026-11-23-0001-signing-keys.js';
import * as oauthClients from './migrations/2026-11-23-0002-oauth-clients.js';
import * as users from './migrations/2026-11-23-0003-users.js';
import * as oauthGrants from './migrations/2026-11-23-0004-oauth-grants.js';
import * as detection from './migrations/2026-11-24-0001-detection.js';
import * as webhooks from './migrations/2026-11-24-0002-webhooks.js';
import * as certificateAuthority from './migrations/2026-11-24-0003-certificate-authority.js';
import * as mtlsClients from './migrations/2026-11-24-0004-mtls-clients.js';
import * as retention from './migrations/2026-11-25-0001-retention.js';
import * as pkceChallengeOnce from './migrations/2026-12-06-0001-pkce-challenge-once.js';
import * as changedSinceIndexes from './migrations/2026-12-06-0002-changed-since-indexes.js';
import * as clientAllowedOrigins from './migrations/2026-12-06-0010-client-allowed-origins.js';
import * as idTokenSignedResponseAlg from './migrations/2026-12-06-0020-id-token-signed-response-alg.js';
import * as userDisabledSessionIds from './migrations/2026-12-06-0030-user-disabled-session-ids.js';
import * as postLogoutRedirectUris from './migrations/2026-12-06-0031-post-logout-redirect-uris.js';
import * as usage from './migrations/2026-12-06-0040-usage.js';
import * as userAdminScopes from './migrations/2026-12-06-0050-user-admin-scopes.js';
import * as auditEventSubjects from './migrations/2026-12-06-0090-audit-event-subjects.js';
import * as dynamicClientRegistration from './migrations/2026-12-06-0110-dynamic-client-registration.js';
import * as resources from './migrations/2026-12-06-0100-resources.js';

/** Every migration, by dated name. Listed statically so the built server needs no directory scan. */
const MIGRATIONS: Record<string, Migration> = {
  '2026-11-22-0001-initial': initial,
  '2026-11-23-0001-signing-keys': signingKeys,
  '2026-11-23-0002-oauth-clients': oauthClients,
  '2026-11-23-0003-users': users,
  '2026-11-23-0004-oauth-grants': oauthGrants,
  '2026-11-24-0001-detection': detection,
  '2026-11-24-0002-webhooks': webhooks,
  '2026-11-24-0003-certificate-authority': certificateAuthority,
  '2026-11-24-0004-mtls-clients': mtlsClients,
  '2026-11-25-0001-retention': retention,
  '2026-12-06-0001-pkce-challenge-once': pkceChallengeOnce,
  '2026-12-06-0002-changed-since-indexes': changedSinceIndexes,
  '2026-12-06-0010-client-allowed-origins': clientAllowedOrigins,
  '2026-12-06-0020-id-token-signed-response-alg': idTokenSignedResponseAlg,
  '2026-12-06-0030-user-disabled-session-ids': userDisabledSessionIds,
  '2026-12-06-0031-post-logout-redirect-uris': postLogoutRedirectUris,
  '2026-12-06-0040-usage': usage,
  '2026-12-06-0050-user-admin-scopes': userAdminScopes,
  '2026-12-06-0090-audit-event-subjects': auditEventSubjects,
  '2026-12-06-0110-dynamic-client-registration': dynamicClientRegistration,
  '2026-12-06-0100-resources': resources,
};

/**
 * Brings the schema up to date. Safe to run from several processes at once (Kysely takes a lock).
 * On PostgreSQL the bookkeeping tables are pinned to the connection's own schema: Kysely otherwise takes a
 * `kysely_migration` table in any schema of the database (another application's, say) for its own.
 */
export async function migrateToLatest(database: Pick<Database, 'db' | 'dialect'>): Promise<string[]> {
  const db = database.db as Kysely<any>;
  const migrationTableSchema =
    database.dialect === 'postgres'
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
      : undefined;
  const migrator = new Migrator({ db, migrationTableSchema, provider: { getMigrations: async () => MIGRATIONS } });
  for (let attempt = 1; ; attempt++) {
    const result: MigrationResultSet = await migrator.migrateToLatest();
    if (!result.error) return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    if (attempt < 5 && isOtherSchemaDropped(result.error, migrationTableSchema)) continue;
    throw new Error('Database migration failed', { cause: result.error });
  }
}

/**
 * Kysely's introspection (run before any migration, to find its bookkeeping tables) calls
 * has_schema_privilege() on every schema of the database; a schema another client drops meanwhile makes it fail
 * with 3F000 ("schema ... does not exist"). Nothing was done yet, so trying again is safe. Seen when several
 * test runs share one PostgreSQL database.
 */
function isOtherSchemaDropped(error: unknown, ownSchema: string | undefined): boolean {
  const e = error as { code?: unknown; message?: unknown };
  return e.code === '3F000' && ownSchema !== undefined && typeof e.message === 'string' && !e.message.includes(`"${ownSchema}"`);
}
