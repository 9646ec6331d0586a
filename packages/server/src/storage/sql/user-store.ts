import type { Kysely } from 'kysely';
import type { AuditEvent } from '../../core/audit/audit-event.js';
import type { UserListQuery, UserPatch, UserRecord, UserStore } from '../stores.js';
import { rowToUser, userToRow } from './rows.js';
import type { Schema } from './schema.js';
import { createdBefore, insertAuditEvents } from './shared-writes.js';

export class SqlUserStore implements UserStore {
  constructor(private readonly db: Kysely<Schema>) {}

  async insert(user: UserRecord, events: AuditEvent[]): Promise<'created' | 'email_taken'> {
    return this.db.transaction().execute(async (trx) => {
      // One conditional write decides a race between creates of one email: the unique index picks the winner,
      // and the losers write nothing (their audit events included).
      const result = await trx
        .insertInto('users')
        .values(userToRow(user))
        .onConflict((oc) => oc.column('email').doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 0) return 'email_taken' as const;
      await insertAuditEvents(trx, events);
      return 'created' as const;
    });
  }

  async findById(id: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && rowToUser(row);
  }

  async findByEmail(email: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
    return row && rowToUser(row);
  }

  async list(query: UserListQuery): Promise<UserRecord[]> {
    let q = this.db.selectFrom('users').selectAll().where('deleted_at', 'is', null);
    if (query.tenantId !== undefined) q = q.where('tenant_id', '=', query.tenantId);
    const after = query.after;
    if (after) {
      q = q.where((eb) => createdBefore(eb, after));
    }
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map(rowToUser);
  }

  async updatePasswordHash(id: string, passwordHash: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('users')
      .set({ password_hash: passwordHash, updated_at: now })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async markDeleted(id: string, now: number, events: AuditEvent[]): Promise<{ user: UserRecord; changed: boolean } | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('users')
        .set({ deleted_at: now, updated_at: now })
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (updated) {
        await insertAuditEvents(trx, events);
        return { user: rowToUser(updated), changed: true };
      }
      const row = await trx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row && { user: rowToUser(row), changed: false };
    });
  }

  async purge(id: string): Promise<void> {
    await this.db.deleteFrom('users').where('id', '=', id).where('deleted_at', 'is not', null).execute();
  }

  async update(id: string, patch: UserPatch, now: number, events: AuditEvent[]): Promise<{ user: UserRecord } | 'email_taken' | undefined> {
    const apply = () =>
      this.db.transaction().execute(async (trx) => {
        if (patch.email !== undefined) {
          const holder = await trx.selectFrom('users').select('id').where('email', '=', patch.email).executeTakeFirst();
          if (holder && holder.id !== id) return 'email_taken' as const;
        }
        const updated = await trx
          .updateTable('users')
          .set({
            ...(patch.email !== undefined ? { email: patch.email } : {}),
            ...(patch.name !== undefined ? { name: patch.name } : {}),
            ...(patch.passwordHash !== undefined ? { password_hash: patch.passwordHash } : {}),
            ...(patch.disabledAt !== undefined ? { disabled_at: patch.disabledAt } : {}),
            updated_at: now,
          })
          .where('id', '=', id)
          .where('deleted_at', 'is', null)
          .returningAll()
          .executeTakeFirst();
        if (!updated) return undefined;
        await insertAuditEvents(trx, events);
        return { user: rowToUser(updated) };
      });
    try {
      return await apply();
    } catch (error) {
      // A create or update of the same email committed between the check and the write: the unique index refused
      // this one, and nothing of it was written.
      if (patch.email !== undefined) {
        const holder = await this.findByEmail(patch.email);
        if (holder && holder.id !== id) return 'email_taken';
      }
      throw error;
    }
  }
}
