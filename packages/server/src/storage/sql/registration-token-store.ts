import type { Kysely } from 'kysely';
import type { AuditEvent } from '../../core/audit/audit-event.js';
import type { RegistrationTokenListQuery, RegistrationTokenRecord, RegistrationTokenStore } from '../stores.js';
import type { Database } from './database.js';
import type { RegistrationTokensTable, Schema } from './schema.js';
import { createdBefore, insertAuditEvents } from './shared-writes.js';

const num = (value: number | null): number | null => (value === null ? null : Number(value));

function toRow(token: RegistrationTokenRecord): RegistrationTokensTable {
  return {
    id: token.id,
    hash: token.hash,
    display_prefix: token.displayPrefix,
    name: token.name,
    tenant_id: token.tenantId,
    expires_at: token.expiresAt,
    max_uses: token.maxUses,
    uses: token.uses,
    revoked_at: token.revokedAt,
    created_by: token.createdBy,
    created_at: token.createdAt,
    updated_at: token.updatedAt,
  };
}

function fromRow(row: RegistrationTokensTable): RegistrationTokenRecord {
  return {
    id: row.id,
    hash: row.hash,
    displayPrefix: row.display_prefix,
    name: row.name,
    tenantId: row.tenant_id,
    expiresAt: num(row.expires_at),
    maxUses: num(row.max_uses),
    uses: Number(row.uses),
    revokedAt: num(row.revoked_at),
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export class SqlRegistrationTokenStore implements RegistrationTokenStore {
  private readonly db: Kysely<Schema>;

  constructor(database: Database) {
    this.db = database.db;
  }

  async insert(token: RegistrationTokenRecord, events: AuditEvent[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('registration_tokens').values(toRow(token)).execute();
      await insertAuditEvents(trx, events);
    });
  }

  async findById(id: string): Promise<RegistrationTokenRecord | undefined> {
    const row = await this.db.selectFrom('registration_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row && fromRow(row);
  }

  async list(query: RegistrationTokenListQuery): Promise<RegistrationTokenRecord[]> {
    let q = this.db.selectFrom('registration_tokens').selectAll();
    if (query.tenantId !== undefined) q = q.where('tenant_id', '=', query.tenantId);
    const after = query.after;
    if (after) q = q.where((eb) => createdBefore(eb, after));
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map(fromRow);
  }

  async consume(hash: string, now: number): Promise<RegistrationTokenRecord | undefined> {
    // One conditional write: the use is taken only while every condition still holds when the row is written.
    const row = await this.db
      .updateTable('registration_tokens')
      .set((eb) => ({ uses: eb('uses', '+', 1), updated_at: now }))
      .where('hash', '=', hash)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .where((eb) => eb.or([eb('max_uses', 'is', null), eb('uses', '<', eb.ref('max_uses'))]))
      .returningAll()
      .executeTakeFirst();
    return row && fromRow(row);
  }

  async revoke(id: string, now: number, events: AuditEvent[]): Promise<{ token: RegistrationTokenRecord; changed: boolean } | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('registration_tokens')
        .set({ revoked_at: now, updated_at: now })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (updated) {
        await insertAuditEvents(trx, events);
        return { token: fromRow(updated), changed: true };
      }
      const row = await trx.selectFrom('registration_tokens').selectAll().where('id', '=', id).executeTakeFirst();
      return row && { token: fromRow(row), changed: false };
    });
  }
}
