import type { Kysely } from 'kysely';
import type { SessionRecord, SessionStore } from '../stores.js';
import type { Schema } from './schema.js';

export class SqlSessionStore implements SessionStore {
  constructor(private readonly db: Kysely<Schema>) {}

  async insert(session: SessionRecord): Promise<void> {
    await this.db
      .insertInto('oauth_sessions')
      .values({
        hash: session.hash,
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
    return (
      row && {
        hash: row.hash,
        userId: row.user_id,
        authTime: row.auth_time,
        createdAt: row.created_at,
        expiresAt: row.expires_at,
        revokedAt: row.revoked_at,
      }
    );
  }

  async revokeForUser(userId: string, now: number): Promise<void> {
    await this.db.updateTable('oauth_sessions').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
  }

  async revoke(hash: string, now: number): Promise<void> {
    await this.db.updateTable('oauth_sessions').set({ revoked_at: now }).where('hash', '=', hash).where('revoked_at', 'is', null).execute();
  }
}
