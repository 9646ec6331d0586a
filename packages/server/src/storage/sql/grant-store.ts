import type { Kysely, Transaction } from 'kysely';
import type { AuditEvent } from '../../core/audit/audit-event.js';
import type {
  InsertCodeOutcome,
  AuthorizationCodeRecord,
  DeniedToken,
  GrantAccessToken,
  GrantRecord,
  GrantStore,
  RedeemCodeOutcome,
  RefreshTokenRecord,
  RotateRefreshOutcome,
} from '../stores.js';
import type { Database } from './database.js';
import type { OAuthCodesTable, OAuthGrantsTable, OAuthRefreshTokensTable, Schema } from './schema.js';
import { insertAuditEvents } from './shared-writes.js';

function grantToRow(grant: GrantRecord): OAuthGrantsTable {
  return {
    id: grant.id,
    client_id: grant.clientId,
    user_id: grant.userId,
    tenant_id: grant.tenantId,
    scopes: JSON.stringify(grant.scopes),
    audience: JSON.stringify(grant.audience),
    auth_time: grant.authTime,
    created_at: grant.createdAt,
    expires_at: grant.expiresAt,
    revoked_at: grant.revokedAt,
    revoked_reason: grant.revokedReason,
    certificate_thumbprint: grant.certificateThumbprint,
  };
}

function rowToGrant(row: OAuthGrantsTable): GrantRecord {
  return {
    id: row.id,
    clientId: row.client_id,
    userId: row.user_id,
    tenantId: row.tenant_id,
    scopes: JSON.parse(row.scopes) as string[],
    audience: JSON.parse(row.audience) as string[],
    authTime: row.auth_time,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
    certificateThumbprint: row.certificate_thumbprint ?? null,
  };
}

function codeToRow(code: AuthorizationCodeRecord): OAuthCodesTable {
  return {
    hash: code.hash,
    client_id: code.clientId,
    user_id: code.userId,
    tenant_id: code.tenantId,
    redirect_uri: code.redirectUri,
    code_challenge: code.codeChallenge,
    scopes: JSON.stringify(code.scopes),
    audience: JSON.stringify(code.audience),
    nonce: code.nonce,
    auth_time: code.authTime,
    created_at: code.createdAt,
    expires_at: code.expiresAt,
    redeemed_at: code.redeemedAt,
    grant_id: code.grantId,
  };
}

function rowToCode(row: OAuthCodesTable): AuthorizationCodeRecord {
  return {
    hash: row.hash,
    clientId: row.client_id,
    userId: row.user_id,
    tenantId: row.tenant_id,
    redirectUri: row.redirect_uri,
    codeChallenge: row.code_challenge,
    scopes: JSON.parse(row.scopes) as string[],
    audience: JSON.parse(row.audience) as string[],
    nonce: row.nonce,
    authTime: row.auth_time,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    redeemedAt: row.redeemed_at,
    grantId: row.grant_id,
  };
}

function refreshToRow(token: RefreshTokenRecord): OAuthRefreshTokensTable {
  return {
    hash: token.hash,
    grant_id: token.grantId,
    scopes: JSON.stringify(token.scopes),
    created_at: token.createdAt,
    expires_at: token.expiresAt,
    used_at: token.usedAt,
  };
}

function rowToRefresh(row: OAuthRefreshTokensTable): RefreshTokenRecord {
  return {
    hash: row.hash,
    grantId: row.grant_id,
    scopes: JSON.parse(row.scopes) as string[],
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
  };
}


async function recordAccessToken(trx: Transaction<Schema>, token: GrantAccessToken): Promise<void> {
  await trx
    .insertInto('oauth_grant_access_tokens')
    .values({ jti: token.jti, grant_id: token.grantId, expires_at: token.expiresAt })
    .execute();
}

/** Thrown inside a transaction to roll it back with an outcome. */
class Outcome<T> extends Error {
  constructor(readonly value: T) {
    super('outcome');
  }
}

async function settle<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Outcome) return error.value as T;
    throw error;
  }
}

export class SqlGrantStore implements GrantStore {
  private readonly db: Kysely<Schema>;

  constructor(database: Database) {
    this.db = database.db;
  }

  async insertCode(code: AuthorizationCodeRecord): Promise<InsertCodeOutcome> {
    // One conditional write, decided by the unique index on (client_id, code_challenge), so two processes issuing
    // codes for one challenge at once cannot both succeed.
    const result = await this.db
      .insertInto('oauth_codes')
      .values(codeToRow(code))
      .onConflict((conflict) => conflict.columns(['client_id', 'code_challenge']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1 ? 'inserted' : 'challenge_reused';
  }

  async findCode(hash: string): Promise<AuthorizationCodeRecord | undefined> {
    const row = await this.db.selectFrom('oauth_codes').selectAll().where('hash', '=', hash).executeTakeFirst();
    return row && rowToCode(row);
  }

  redeemCode(input: Parameters<GrantStore['redeemCode']>[0]): Promise<RedeemCodeOutcome> {
    const { codeHash, now, grant } = input;
    return settle(() =>
      this.db.transaction().execute(async (trx) => {
        // The one conditional write that decides a race between two redemptions.
        const redeemed = await trx
          .updateTable('oauth_codes')
          .set({ redeemed_at: now, grant_id: grant.id })
          .where('hash', '=', codeHash)
          .where('redeemed_at', 'is', null)
          .where('expires_at', '>', now)
          .executeTakeFirst();
        if (Number(redeemed.numUpdatedRows) === 0) {
          const row = await trx
            .selectFrom('oauth_codes')
            .select(['redeemed_at', 'grant_id'])
            .where('hash', '=', codeHash)
            .executeTakeFirst();
          throw new Outcome<RedeemCodeOutcome>(
            row?.redeemed_at != null ? { outcome: 'already_redeemed', grantId: row.grant_id } : { outcome: 'not_redeemable' },
          );
        }
        await trx.insertInto('oauth_grants').values(grantToRow(grant)).execute();
        if (input.refreshToken) await trx.insertInto('oauth_refresh_tokens').values(refreshToRow(input.refreshToken)).execute();
        await recordAccessToken(trx, input.accessToken);
        await insertAuditEvents(trx, input.events);
        return { outcome: 'redeemed' as const };
      }),
    );
  }

  async findRefreshToken(hash: string): Promise<{ token: RefreshTokenRecord; grant: GrantRecord } | undefined> {
    const token = await this.db.selectFrom('oauth_refresh_tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
    if (!token) return undefined;
    const grant = await this.db.selectFrom('oauth_grants').selectAll().where('id', '=', token.grant_id).executeTakeFirst();
    return grant && { token: rowToRefresh(token), grant: rowToGrant(grant) };
  }

  rotateRefreshToken(input: Parameters<GrantStore['rotateRefreshToken']>[0]): Promise<RotateRefreshOutcome> {
    const { oldHash, now } = input;
    return settle(() =>
      this.db.transaction().execute(async (trx) => {
        const used = await trx
          .updateTable('oauth_refresh_tokens')
          .set({ used_at: now })
          .where('hash', '=', oldHash)
          .where('used_at', 'is', null)
          .where('expires_at', '>', now)
          .where('grant_id', 'in', (eb) =>
            eb.selectFrom('oauth_grants').select('id').where('revoked_at', 'is', null).where('expires_at', '>', now),
          )
          .executeTakeFirst();
        if (Number(used.numUpdatedRows) === 0) {
          const row = await trx
            .selectFrom('oauth_refresh_tokens')
            .select(['used_at', 'grant_id'])
            .where('hash', '=', oldHash)
            .executeTakeFirst();
          throw new Outcome<RotateRefreshOutcome>(
            row?.used_at != null ? { outcome: 'reused', grantId: row.grant_id } : { outcome: 'not_active' },
          );
        }
        await trx.insertInto('oauth_refresh_tokens').values(refreshToRow(input.next)).execute();
        await recordAccessToken(trx, input.accessToken);
        await insertAuditEvents(trx, input.events);
        return { outcome: 'rotated' as const };
      }),
    );
  }

  async findGrant(id: string): Promise<GrantRecord | undefined> {
    const row = await this.db.selectFrom('oauth_grants').selectAll().where('id', '=', id).executeTakeFirst();
    return row && rowToGrant(row);
  }

  revokeGrants(
    filter: { grantId: string } | { userId: string; clientId?: string } | { clientId: string },
    now: number,
    reason: string,
    events: AuditEvent[],
    detections: AuditEvent[] = [],
  ): Promise<{ grantIds: string[]; deniedTokens: DeniedToken[] }> {
    return this.db.transaction().execute(async (trx) => {
      await insertAuditEvents(trx, detections);
      let update = trx
        .updateTable('oauth_grants')
        .set({ revoked_at: now, revoked_reason: reason })
        .where('revoked_at', 'is', null);
      if ('grantId' in filter) update = update.where('id', '=', filter.grantId);
      if ('userId' in filter) update = update.where('user_id', '=', filter.userId);
      if ('clientId' in filter && filter.clientId !== undefined) update = update.where('client_id', '=', filter.clientId);
      const revoked = await update.returning('id').execute();
      const grantIds = revoked.map((row) => row.id);
      if (grantIds.length === 0) return { grantIds, deniedTokens: [] };

      const live = await trx
        .selectFrom('oauth_grant_access_tokens')
        .select(['jti', 'expires_at'])
        .where('grant_id', 'in', grantIds)
        .where('expires_at', '>', now)
        .execute();
      if (live.length > 0) {
        await trx
          .insertInto('oauth_token_denylist')
          .values(live.map((row) => ({ jti: row.jti, expires_at: row.expires_at, revoked_at: now })))
          .onConflict((oc) => oc.column('jti').doNothing())
          .execute();
      }
      await insertAuditEvents(trx, events);
      return { grantIds, deniedTokens: live.map((row) => ({ jti: row.jti, expiresAt: row.expires_at })) };
    });
  }

  async denyToken(token: DeniedToken, now: number, events: AuditEvent[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('oauth_token_denylist')
        .values({ jti: token.jti, expires_at: token.expiresAt, revoked_at: now })
        .onConflict((oc) => oc.column('jti').doNothing())
        .execute();
      await insertAuditEvents(trx, events);
    });
  }

  async listDeniedTokens(now: number): Promise<DeniedToken[]> {
    const rows = await this.db
      .selectFrom('oauth_token_denylist')
      .select(['jti', 'expires_at'])
      .where('expires_at', '>', now)
      .execute();
    return rows.map((row) => ({ jti: row.jti, expiresAt: row.expires_at }));
  }

  async purgeExpired(now: number, codesExpiredBefore: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('oauth_codes').where('expires_at', '<=', Math.min(now, codesExpiredBefore)).execute();
      await trx.deleteFrom('oauth_token_denylist').where('expires_at', '<=', now).execute();
      await trx.deleteFrom('oauth_grant_access_tokens').where('expires_at', '<=', now).execute();
      // Used refresh tokens are kept while their grant lives: presenting one again is how theft is detected.
      await trx.deleteFrom('oauth_refresh_tokens').where('expires_at', '<=', now).where('used_at', 'is', null).execute();
      await trx
        .deleteFrom('oauth_refresh_tokens')
        .where('grant_id', 'in', (eb) => eb.selectFrom('oauth_grants').select('id').where('expires_at', '<=', now))
        .execute();
    });
  }
}
