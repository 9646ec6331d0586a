import type { SigningAlg } from '../../core/tokens/signing-alg.js';
import type { Kysely, Transaction } from 'kysely';
import type { AuditEvent } from '../../core/audit/audit-event.js';
import type { ClientJwks, GrantType, TlsClientAuthSubject, TokenEndpointAuthMethod } from '../../core/oauth/client-metadata.js';
import type {
  ChangedRecord,
  ClientStore,
  ClientWriteOutcome,
  OAuthClientListQuery,
  OAuthClientPatch,
  OAuthClientRecord,
  RegistrationMetadata,
  RotateClientSecretInput,
} from '../stores.js';
import type { Database } from './database.js';
import type { OAuthClientsTable, Schema } from './schema.js';
import { createdBefore, insertAuditEvents } from './shared-writes.js';

export function clientToRow(client: OAuthClientRecord): OAuthClientsTable {
  return {
    id: client.id,
    name: client.name,
    redirect_uris: JSON.stringify(client.redirectUris),
    allowed_origins: JSON.stringify(client.allowedOrigins),
    post_logout_redirect_uris: JSON.stringify(client.postLogoutRedirectUris),
    grant_types: JSON.stringify(client.grantTypes),
    scopes: JSON.stringify(client.scopes),
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    audiences: JSON.stringify(client.audiences),
    default_audience: client.defaultAudience,
    tenant_id: client.tenantId,
    access_token_ttl_seconds: client.accessTokenTtlSeconds,
    id_token_signed_response_alg: client.idTokenSignedResponseAlg,
    tls_client_auth: client.tlsClientAuth && JSON.stringify(client.tlsClientAuth),
    jwks: client.jwks && JSON.stringify(client.jwks),
    secret_hash: client.secretHash,
    secret_prefix: client.secretPrefix,
    previous_secret_hash: client.previousSecretHash,
    previous_secret_expires_at: client.previousSecretExpiresAt,
    version: client.version,
    created_by: client.createdBy,
    created_at: client.createdAt,
    updated_at: client.updatedAt,
    deleted_at: client.deletedAt,
    registration: client.registration,
    registration_access_token_hash: client.registrationAccessTokenHash,
    registered_address: client.registeredAddress,
    registration_metadata: client.registrationMetadata && JSON.stringify(client.registrationMetadata),
    last_used_at: client.lastUsedAt,
  };
}

export function rowToClient(row: OAuthClientsTable): OAuthClientRecord {
  return {
    id: row.id,
    name: row.name,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    allowedOrigins: JSON.parse(row.allowed_origins) as string[],
    postLogoutRedirectUris: JSON.parse(row.post_logout_redirect_uris ?? '[]') as string[],
    grantTypes: JSON.parse(row.grant_types) as GrantType[],
    scopes: JSON.parse(row.scopes) as string[],
    tokenEndpointAuthMethod: row.token_endpoint_auth_method as TokenEndpointAuthMethod,
    audiences: JSON.parse(row.audiences) as string[],
    defaultAudience: row.default_audience,
    tenantId: row.tenant_id,
    accessTokenTtlSeconds: row.access_token_ttl_seconds,
    idTokenSignedResponseAlg: row.id_token_signed_response_alg as SigningAlg,
    tlsClientAuth: row.tls_client_auth === null ? null : (JSON.parse(row.tls_client_auth) as TlsClientAuthSubject),
    jwks: row.jwks === null ? null : (JSON.parse(row.jwks) as ClientJwks),
    registration: row.registration === 'dynamic' ? 'dynamic' : 'admin',
    registrationAccessTokenHash: row.registration_access_token_hash,
    registeredAddress: row.registered_address,
    registrationMetadata: row.registration_metadata === null ? null : (JSON.parse(row.registration_metadata) as RegistrationMetadata),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
    secretHash: row.secret_hash,
    secretPrefix: row.secret_prefix,
    previousSecretHash: row.previous_secret_hash,
    previousSecretExpiresAt: row.previous_secret_expires_at,
    version: row.version,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
  };
}


/** Why a conditional write matched nothing: the client is gone (or deleted), or it changed meanwhile. */
async function missReason(trx: Transaction<Schema>, id: string): Promise<'not_found' | 'conflict'> {
  const row = await trx.selectFrom('oauth_clients').select(['deleted_at']).where('id', '=', id).executeTakeFirst();
  return !row || row.deleted_at !== null ? 'not_found' : 'conflict';
}

export class SqlClientStore implements ClientStore {
  private readonly db: Kysely<Schema>;

  constructor(database: Database) {
    this.db = database.db;
  }

  async insert(client: OAuthClientRecord, events: AuditEvent[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('oauth_clients').values(clientToRow(client)).execute();
      await insertAuditEvents(trx, events);
    });
  }

  async listChangedSince(since: number, limit: number): Promise<ChangedRecord[]> {
    const rows = await this.db
      .selectFrom('oauth_clients')
      .select(['id', 'updated_at'])
      .where('updated_at', '>', since)
      .orderBy('updated_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ id: row.id, hash: row.id, updatedAt: Number(row.updated_at) }));
  }

  async findById(id: string): Promise<OAuthClientRecord | undefined> {
    const row = await this.db.selectFrom('oauth_clients').selectAll().where('id', '=', id).executeTakeFirst();
    return row && rowToClient(row);
  }

  async list(query: OAuthClientListQuery): Promise<OAuthClientRecord[]> {
    let q = this.db.selectFrom('oauth_clients').selectAll().where('deleted_at', 'is', null);
    if (query.tenantId !== undefined) q = q.where('tenant_id', '=', query.tenantId);
    if (query.registration !== undefined) q = q.where('registration', '=', query.registration);
    const after = query.after;
    if (after) {
      q = q.where((eb) => createdBefore(eb, after));
    }
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map(rowToClient);
  }

  async update(
    id: string,
    expectedVersion: number,
    patch: OAuthClientPatch,
    now: number,
    events: AuditEvent[],
  ): Promise<ClientWriteOutcome<OAuthClientRecord>> {
    const changes: Partial<OAuthClientsTable> = { updated_at: now, version: expectedVersion + 1 };
    if (patch.name !== undefined) changes.name = patch.name;
    if (patch.redirectUris !== undefined) changes.redirect_uris = JSON.stringify(patch.redirectUris);
    if (patch.allowedOrigins !== undefined) changes.allowed_origins = JSON.stringify(patch.allowedOrigins);
    if (patch.postLogoutRedirectUris !== undefined) changes.post_logout_redirect_uris = JSON.stringify(patch.postLogoutRedirectUris);
    if (patch.grantTypes !== undefined) changes.grant_types = JSON.stringify(patch.grantTypes);
    if (patch.scopes !== undefined) changes.scopes = JSON.stringify(patch.scopes);
    if (patch.tokenEndpointAuthMethod !== undefined) changes.token_endpoint_auth_method = patch.tokenEndpointAuthMethod;
    if (patch.audiences !== undefined) changes.audiences = JSON.stringify(patch.audiences);
    if (patch.defaultAudience !== undefined) changes.default_audience = patch.defaultAudience;
    if (patch.accessTokenTtlSeconds !== undefined) changes.access_token_ttl_seconds = patch.accessTokenTtlSeconds;
    if (patch.idTokenSignedResponseAlg !== undefined) changes.id_token_signed_response_alg = patch.idTokenSignedResponseAlg;
    if (patch.tlsClientAuth !== undefined) changes.tls_client_auth = patch.tlsClientAuth && JSON.stringify(patch.tlsClientAuth);
    if (patch.jwks !== undefined) changes.jwks = patch.jwks && JSON.stringify(patch.jwks);
    if (patch.registrationMetadata !== undefined) {
      changes.registration_metadata = patch.registrationMetadata && JSON.stringify(patch.registrationMetadata);
    }
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('oauth_clients')
        .set(changes)
        .where('id', '=', id)
        .where('version', '=', expectedVersion)
        .where('deleted_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (!row) return { ok: false, reason: await missReason(trx, id) };
      await insertAuditEvents(trx, events);
      return { ok: true, client: rowToClient(row) };
    });
  }

  async rotateSecret(input: RotateClientSecretInput): Promise<ClientWriteOutcome<OAuthClientRecord>> {
    const { id, now } = input;
    return this.db.transaction().execute(async (trx) => {
      // One conditional write decides the race: of two concurrent rotations only one still sees its secret.
      const row = await trx
        .updateTable('oauth_clients')
        .set((eb) => ({
          previous_secret_hash: input.previousSecretExpiresAt === null ? null : eb.ref('secret_hash'),
          previous_secret_expires_at: input.previousSecretExpiresAt,
          secret_hash: input.secretHash,
          secret_prefix: input.secretPrefix,
          version: eb('version', '+', 1),
          updated_at: now,
        }))
        .where('id', '=', id)
        .where('secret_hash', '=', input.expectedSecretHash)
        .where('deleted_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (!row) return { ok: false, reason: await missReason(trx, id) };
      await insertAuditEvents(trx, input.events);
      return { ok: true, client: rowToClient(row) };
    });
  }

  async softDelete(id: string, now: number, events: AuditEvent[]): Promise<{ client: OAuthClientRecord; changed: boolean } | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('oauth_clients')
        .set((eb) => ({ deleted_at: now, updated_at: now, version: eb('version', '+', 1) }))
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (updated) {
        await insertAuditEvents(trx, events);
        return { client: rowToClient(updated), changed: true };
      }
      const row = await trx.selectFrom('oauth_clients').selectAll().where('id', '=', id).executeTakeFirst();
      return row && { client: rowToClient(row), changed: false };
    });
  }

  async countDynamicByAddress(address: string): Promise<number> {
    const row = await this.db
      .selectFrom('oauth_clients')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('registration', '=', 'dynamic')
      .where('registered_address', '=', address)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async deleteIdleDynamic(
    cutoff: number,
    now: number,
    limit: number,
    eventFor: (client: OAuthClientRecord) => AuditEvent,
  ): Promise<OAuthClientRecord[]> {
    const candidates = await this.db
      .selectFrom('oauth_clients as c')
      .select('c.id')
      .where('c.registration', '=', 'dynamic')
      .where('c.deleted_at', 'is', null)
      .where('c.created_at', '<', cutoff)
      .where((eb) => eb.or([eb('c.last_used_at', 'is', null), eb('c.last_used_at', '<', cutoff)]))
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('oauth_grants as g').select('g.id').whereRef('g.client_id', '=', 'c.id').where('g.created_at', '>=', cutoff))),
      )
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('oauth_refresh_tokens as r')
              .innerJoin('oauth_grants as g', 'g.id', 'r.grant_id')
              .select('r.hash')
              .whereRef('g.client_id', '=', 'c.id')
              .where('r.created_at', '>=', cutoff),
          ),
        ),
      )
      .orderBy('c.created_at')
      .limit(limit)
      .execute();
    const deleted: OAuthClientRecord[] = [];
    for (const { id } of candidates) {
      const client = await this.db.transaction().execute(async (trx) => {
        // Conditional on still being idle: a client used meanwhile (last_used_at moved) is kept.
        const row = await trx
          .updateTable('oauth_clients')
          .set((eb) => ({ deleted_at: now, updated_at: now, version: eb('version', '+', 1) }))
          .where('id', '=', id)
          .where('deleted_at', 'is', null)
          .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', cutoff)]))
          .returningAll()
          .executeTakeFirst();
        if (!row) return undefined;
        const record = rowToClient(row);
        await insertAuditEvents(trx, [eventFor(record)]);
        return record;
      });
      if (client) deleted.push(client);
    }
    return deleted;
  }
}
