import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { AuditEvent } from '../../core/audit/audit-event.js';
import type { AdminGuard, ApiKeyListQuery, ApiKeyPatch, ApiKeyRecord, ApiKeyStore, ChangedRecord, RevokeResult, RotateInput, RotateOutcome } from '../stores.js';
import { apiKeyToRow, rowToApiKey } from './rows.js';
import type { Database } from './database.js';
import type { ApiKeysTable, Schema } from './schema.js';
import { createdBefore, insertAuditEvents, serializeOn } from './shared-writes.js';
import type { Transaction } from 'kysely';

const BOOTSTRAP_MARKER = 'bootstrap.root_key';
/** Serializes the writes that could remove an unrestricted admin key (PostgreSQL; see serializeOn). */
const ADMIN_KEYS_LOCK = 'lock.unrestricted_admin_keys';

class LastAdmin extends Error {}

const isActiveAt = (now: number) => (eb: ExpressionBuilder<Schema, 'api_keys'>) =>
  eb.and([eb('revoked_at', 'is', null), eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)])]);

/** An active key bound to no tenant whose scopes hold `admin`. */
function isUnrestrictedAdminRow(row: Pick<ApiKeysTable, 'tenant_id' | 'scopes' | 'revoked_at' | 'expires_at'>, now: number): boolean {
  if (row.tenant_id !== null || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now)) return false;
  return (JSON.parse(row.scopes) as string[]).includes('admin');
}

class Rollback extends Error {
  constructor(readonly outcome: RotateOutcome) {
    super(outcome);
  }
}


export class SqlApiKeyStore implements ApiKeyStore {
  private readonly db: Kysely<Schema>;

  constructor(private readonly database: Database) {
    this.db = database.db;
  }

  async insert(key: ApiKeyRecord, events: AuditEvent[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('api_keys').values(apiKeyToRow(key)).execute();
      await insertAuditEvents(trx, events);
    });
  }

  async insertBootstrapKey(key: ApiKeyRecord, events: AuditEvent[]): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const marker = await trx
        .insertInto('meta')
        .values({ name: BOOTSTRAP_MARKER, value: key.id })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      if (Number(marker.numInsertedOrUpdatedRows ?? 0n) === 0) return false;
      await trx.insertInto('api_keys').values(apiKeyToRow(key)).execute();
      await insertAuditEvents(trx, events);
      return true;
    });
  }

  async findById(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row && rowToApiKey(row);
  }

  async listChangedSince(since: number, limit: number): Promise<ChangedRecord[]> {
    const rows = await this.db
      .selectFrom('api_keys')
      .select(['id', 'hash', 'updated_at'])
      .where('updated_at', '>', since)
      // Changed since created: a new key is in no cache, and no stream must hear of it.
      .where((eb) => eb.or([eb('updated_at', '>', eb.ref('created_at')), eb('revoked_at', 'is not', null)]))
      .orderBy('updated_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ id: row.id, hash: row.hash, updatedAt: Number(row.updated_at) }));
  }

  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('hash', '=', hash).executeTakeFirst();
    return row && rowToApiKey(row);
  }

  async list(query: ApiKeyListQuery): Promise<ApiKeyRecord[]> {
    const { now } = query;
    let q = this.db.selectFrom('api_keys').selectAll();
    if (query.tenantId !== undefined) q = q.where('tenant_id', '=', query.tenantId);
    if (query.environment !== undefined) q = q.where('environment', '=', query.environment);
    if (query.nameContains !== undefined) {
      // lower() on both sides: the same folding whatever the database's lower() does. LIKE in SQLite ignores
      // ASCII case, in PostgreSQL it does not: lowered, both agree. The input's wildcards are escaped.
      const pattern = `%${escapeLike(query.nameContains)}%`;
      q = q.where(sql<boolean>`lower(name) like lower(${pattern}) escape '\\'`);
    }
    if (query.prefix !== undefined) {
      // Not LIKE (case-insensitive in SQLite): the leading characters compared exactly.
      q = q.where(sql<boolean>`substr(display_prefix, 1, ${query.prefix.length}) = ${query.prefix}`);
    }
    if (query.status === 'revoked') q = q.where('revoked_at', 'is not', null);
    if (query.status === 'expired') q = q.where('revoked_at', 'is', null).where('expires_at', '<=', now);
    if (query.status === 'active') {
      q = q.where('revoked_at', 'is', null).where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
    }
    const after = query.after;
    if (after) {
      q = q.where((eb) => createdBefore(eb, after));
    }
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map(rowToApiKey);
  }

  updateActive(id: string, patch: ApiKeyPatch, now: number, events: AuditEvent[]): Promise<ApiKeyRecord | undefined>;
  updateActive(id: string, patch: ApiKeyPatch, now: number, events: AuditEvent[], guard: AdminGuard): Promise<ApiKeyRecord | 'last_admin' | undefined>;
  async updateActive(id: string, patch: ApiKeyPatch, now: number, events: AuditEvent[], guard?: AdminGuard): Promise<ApiKeyRecord | 'last_admin' | undefined> {
    const changes: Partial<ApiKeysTable> = { updated_at: now };
    if (patch.name !== undefined) changes.name = patch.name;
    if (patch.scopes !== undefined) changes.scopes = JSON.stringify(patch.scopes);
    if (patch.metadata !== undefined) changes.metadata = JSON.stringify(patch.metadata);
    if (patch.expiresAt !== undefined) changes.expires_at = patch.expiresAt;
    if (patch.anomalyAction !== undefined) changes.anomaly_action = patch.anomalyAction;
    if (patch.rateLimit !== undefined) {
      changes.rate_limit_limit = patch.rateLimit?.limit ?? null;
      changes.rate_limit_window_seconds = patch.rateLimit?.windowSeconds ?? null;
    }
    const removesAdmin = guard?.keepUnrestrictedAdmin === true && patch.scopes !== undefined && !patch.scopes.includes('admin');
    try {
      return await this.db.transaction().execute(async (trx) => {
        if (removesAdmin) await this.#lockIfUnrestrictedAdmin(trx, id, now);
        const row = await trx.updateTable('api_keys').set(changes).where('id', '=', id).where(isActiveAt(now)).returningAll().executeTakeFirst();
        if (!row) return undefined;
        if (removesAdmin) await this.#assertAnotherAdmin(trx, id, now);
        await insertAuditEvents(trx, events);
        return rowToApiKey(row);
      });
    } catch (error) {
      if (error instanceof LastAdmin) return 'last_admin';
      throw error;
    }
  }

  /** Takes the admin-keys lock when `id` is an active unrestricted admin key; whether it was one. */
  async #lockIfUnrestrictedAdmin(trx: Transaction<Schema>, id: string, now: number): Promise<boolean> {
    const row = await trx.selectFrom('api_keys').select(['tenant_id', 'scopes', 'revoked_at', 'expires_at']).where('id', '=', id).executeTakeFirst();
    if (!row || !isUnrestrictedAdminRow(row, now)) return false;
    await serializeOn(trx, this.database.dialect, ADMIN_KEYS_LOCK);
    return true;
  }

  /** Rolls the transaction back (LastAdmin) unless an active unrestricted admin key other than `id` remains. */
  async #assertAnotherAdmin(trx: Transaction<Schema>, id: string, now: number): Promise<void> {
    // The LIKE narrows to rows whose JSON scopes hold the element "admin"; the parse decides.
    const rows = await trx
      .selectFrom('api_keys')
      .select(['tenant_id', 'scopes', 'revoked_at', 'expires_at'])
      .where('tenant_id', 'is', null)
      .where('id', '!=', id)
      .where('scopes', 'like', '%"admin"%')
      .where(isActiveAt(now))
      .limit(50)
      .execute();
    if (!rows.some((row) => isUnrestrictedAdminRow(row, now))) throw new LastAdmin();
  }

  async rotate(input: RotateInput): Promise<RotateOutcome> {
    const { oldId, successor, now } = input;
    try {
      return await this.db.transaction().execute(async (trx) => {
        // One conditional write decides the race: of two concurrent rotations only one matches.
        const ended = await trx
          .updateTable('api_keys')
          .set({
            rotated_to_id: successor.id,
            updated_at: now,
            ...(input.revokeOld ? { revoked_at: now } : { expires_at: input.oldExpiresAt }),
          })
          .where('id', '=', oldId)
          .where('rotated_to_id', 'is', null)
          .where('revoked_at', 'is', null)
          .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
          .executeTakeFirst();
        if (Number(ended.numUpdatedRows) === 0) {
          const current = await trx.selectFrom('api_keys').select(['rotated_to_id']).where('id', '=', oldId).executeTakeFirst();
          throw new Rollback(!current ? 'not_found' : current.rotated_to_id ? 'already_rotated' : 'not_active');
        }
        await trx.insertInto('api_keys').values(apiKeyToRow(successor)).execute();
        await insertAuditEvents(trx, input.events);
        return 'rotated' as const;
      });
    } catch (error) {
      if (error instanceof Rollback) return error.outcome;
      throw error;
    }
  }

  revoke(id: string, now: number, events: AuditEvent[]): Promise<RevokeResult | undefined>;
  revoke(id: string, now: number, events: AuditEvent[], guard: AdminGuard): Promise<RevokeResult | 'last_admin' | undefined>;
  async revoke(id: string, now: number, events: AuditEvent[], guard?: AdminGuard): Promise<RevokeResult | 'last_admin' | undefined> {
    try {
      return await this.db.transaction().execute(async (trx) => {
        const guarded = guard?.keepUnrestrictedAdmin === true && (await this.#lockIfUnrestrictedAdmin(trx, id, now));
        const updated = await trx
          .updateTable('api_keys')
          .set({ revoked_at: now, updated_at: now })
          .where('id', '=', id)
          .where('revoked_at', 'is', null)
          .returningAll()
          .executeTakeFirst();
        if (updated) {
          if (guarded) await this.#assertAnotherAdmin(trx, id, now);
          await insertAuditEvents(trx, events);
          return { key: rowToApiKey(updated), changed: true };
        }
        const row = await trx.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
        return row && { key: rowToApiKey(row), changed: false };
      });
    } catch (error) {
      if (error instanceof LastAdmin) return 'last_admin';
      throw error;
    }
  }

  async announceExpired(now: number, limit: number, eventFor: (key: ApiKeyRecord) => AuditEvent): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const unannounced = (eb: ExpressionBuilder<Schema, 'api_keys'>) =>
        eb.and([
          eb('expiry_announced_at', 'is', null),
          eb('expires_at', 'is not', null),
          eb('expires_at', '<=', now),
          eb.or([eb('revoked_at', 'is', null), eb('revoked_at', '>', eb.ref('expires_at'))]),
        ]);
      // The condition is checked again on each row updated: of two concurrent sweeps, one announces each key.
      const rows = await trx
        .updateTable('api_keys')
        .set({ expiry_announced_at: now })
        .where('id', 'in', (eb) => eb.selectFrom('api_keys').select('id').where(unannounced).limit(limit))
        .where(unannounced)
        .returningAll()
        .execute();
      await insertAuditEvents(trx, rows.map((row) => eventFor(rowToApiKey(row))));
      return rows.length;
    });
  }
}

/** A LIKE pattern matching `text` literally (with ESCAPE '\'): %, _ and the escape character itself escaped. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
