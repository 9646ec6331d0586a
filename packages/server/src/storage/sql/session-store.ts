import type { Kysely, Selectable } from 'kysely';
import type { SessionRecord, SessionStore } from '../stores.js';
import type { OAuthSessionsTable, Schema } from './schema.js';

function rowToSession(row: Selectable<OAuthSessionsTable>): SessionRecord {
  return {
    hash: row.hash,
    id: row.id,
    userId: row.user_id,
    authTime: row.auth_time,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}

export class SqlSessionStore implements SessionStore {
  constructor(private readonly db: Kysely<Schema>) {}

  async insert(session: SessionRecord): Promise<void> {
    await this.db
      .insertInto('oauth_sessions')
      .values({
        hash: session.hash,
        id: session.id,
        user_id: session.userId,
        auth_time: session.authTime,
        created_at: session.createdAt,
        expires_at: session.expiresAt,
        revoked_at: session.revokedAt,
      })
      .execute();
  }

  async find(hash: string): Promise<SessionRecord | undefined> {
    const row = await this.db.selectFrom('oauth_sessions').selectAll().where('hash', '=', hash).executeTakeFirst();
    return row && rowToSession(row);
  }

  async revokeForUser(userId: string, now: number): Promise<void> {
    await this.db.updateTable('oauth_sessions').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
  }

  async revoke(hash: string, now: number): Promise<void> {
    await this.db.updateTable('oauth_sessions').set({ revoked_at: now }).where('hash', '=', hash).where('revoked_at', 'is', null).execute();
  }

  async listLive(userId: string, now: number, limit: number): Promise<SessionRecord[]> {
    const rows = await this.db
      .selectFrom('oauth_sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(rowToSession);
  }

  async revokeById(userId: string, id: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('oauth_sessions')
      .set({ revoked_at: now })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async revokeOthers(userId: string, keepHash: string, now: number): Promise<void> {
    await this.db
      .updateTable('oauth_sessions')
      .set({ revoked_at: now })
      .where('user_id', '=', userId)
      .where('hash', '!=', keepHash)
      .where('revoked_at', 'is', null)
      .execute();
  }
}
