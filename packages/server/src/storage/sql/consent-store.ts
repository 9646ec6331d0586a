import type { Kysely } from 'kysely';
import type { ConsentRecord, ConsentStore } from '../stores.js';
import type { Database } from './database.js';
import type { OAuthConsentsTable, Schema } from './schema.js';

function rowToConsent(row: OAuthConsentsTable): ConsentRecord {
  return {
    userId: row.user_id,
    clientId: row.client_id,
    scopes: JSON.parse(row.scopes) as string[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class SqlConsentStore implements ConsentStore {
  private readonly db: Kysely<Schema>;

  constructor(private readonly database: Database) {
    this.db = database.db;
  }

  async find(userId: string, clientId: string): Promise<ConsentRecord | undefined> {
    const row = await this.db
      .selectFrom('oauth_consents')
      .selectAll()
      .where('user_id', '=', userId)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return row && rowToConsent(row);
  }

  grant(userId: string, clientId: string, scopes: readonly string[], now: number): Promise<ConsentRecord> {
    return this.db.transaction().execute(async (trx) => {
      // Insert first so that two concurrent grants serialise on the row, then merge under its lock.
      await trx
        .insertInto('oauth_consents')
        .values({ user_id: userId, client_id: clientId, scopes: '[]', created_at: now, updated_at: now })
        .onConflict((oc) => oc.columns(['user_id', 'client_id']).doNothing())
        .execute();
      let query = trx.selectFrom('oauth_consents').selectAll().where('user_id', '=', userId).where('client_id', '=', clientId);
      // SQLite runs one transaction at a time; PostgreSQL needs the row lock.
      if (this.database.dialect === 'postgres') query = query.forUpdate();
      const row = await query.executeTakeFirstOrThrow();
      const merged = [...new Set([...(JSON.parse(row.scopes) as string[]), ...scopes])].sort();
      const updated = await trx
        .updateTable('oauth_consents')
        .set({ scopes: JSON.stringify(merged), updated_at: now })
        .where('user_id', '=', userId)
        .where('client_id', '=', clientId)
        .returningAll()
        .executeTakeFirstOrThrow();
      return rowToConsent(updated);
    });
  }

  async forget(userId: string, clientId?: string): Promise<void> {
    let query = this.db.deleteFrom('oauth_consents').where('user_id', '=', userId);
    if (clientId !== undefined) query = query.where('client_id', '=', clientId);
    await query.execute();
  }
}
