import type { Kysely } from 'kysely';
import type { AuditEvent } from '../../core/audit/audit-event.js';
import type { UserListQuery, UserPatch, UserRecord, UserStore } from '../stores.js';
import { rowToUser, userToRow } from './rows.js';
import type { Schema } from './schema.js';
import { createdBefore, insertAuditEvents } from './shared-writes.js';

/** The meta row written with the first admin user made by the first-run page. */
const FIRST_ADMIN_MARKER = 'first_admin_user';

class EmailTaken extends Error {}

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

  async firstRunDone(): Promise<boolean> {
    const marker = await this.db.selectFrom('meta').select('name').where('name', '=', FIRST_ADMIN_MARKER).executeTakeFirst();
    if (marker) return true;
    const admin = await this.db
      .selectFrom('users')
      .select('id')
      .where('admin_scopes', '!=', '[]')
      .where('deleted_at', 'is', null)
      .limit(1)
      .executeTakeFirst();
    return admin !== undefined;
  }

  async insertFirstAdmin(user: UserRecord, events: AuditEvent[]): Promise<'created' | 'setup_done' | 'email_taken'> {
    try {
      return await this.db.transaction().execute(async (trx) => {
        // The marker row decides a race between two first-run submissions (its primary key picks one winner), and
        // keeps the first run done for good: it is not undone by deleting that admin later.
        const marked = await trx
          .insertInto('meta')
          .values({ name: FIRST_ADMIN_MARKER, value: user.id })
          .onConflict((oc) => oc.column('name').doNothing())
          .executeTakeFirst();
        if (Number(marked.numInsertedOrUpdatedRows ?? 0n) === 0) return 'setup_done' as const;
        const admin = await trx
          .selectFrom('users')
          .select('id')
          .where('admin_scopes', '!=', '[]')
          .where('deleted_at', 'is', null)
          .limit(1)
          .executeTakeFirst();
        if (admin) return 'setup_done' as const;
        const inserted = await trx
          .insertInto('users')
          .values(userToRow(user))
          .onConflict((oc) => oc.column('email').doNothing())
          .executeTakeFirst();
        // Rolls the marker back with it: the first run is not done until its admin exists.
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) throw new EmailTaken();
        await insertAuditEvents(trx, events);
        return 'created' as const;
      });
    } catch (error) {
      if (error instanceof EmailTaken) return 'email_taken';
      throw error;
    }
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
            ...(patch.adminScopes !== undefined ? { admin_scopes: JSON.stringify(patch.adminScopes) } : {}),
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
