import type { Kysely, Transaction } from 'kysely';
import type { AuditEvent } from '../../core/audit/audit-event.js';
import type { ChangedRecord, ResourceListQuery, ResourcePatch, ResourceRecord, ResourceStore, ResourceWriteOutcome } from '../stores.js';
import type { Database } from './database.js';
import type { ResourcesTable, Schema } from './schema.js';
import { createdBefore, insertAuditEvents } from './shared-writes.js';

function resourceToRow(resource: ResourceRecord): ResourcesTable {
  return {
    id: resource.id,
    identifier: resource.identifier,
    name: resource.name,
    scopes: JSON.stringify(resource.scopes),
    dynamic_clients: resource.dynamicClients ? 1 : 0,
    access_token_ttl_seconds: resource.accessTokenTtlSeconds,
    tenant_id: resource.tenantId,
    version: resource.version,
    created_by: resource.createdBy,
    created_at: resource.createdAt,
    updated_at: resource.updatedAt,
    deleted_at: resource.deletedAt,
  };
}

function rowToResource(row: ResourcesTable): ResourceRecord {
  return {
    id: row.id,
    identifier: row.identifier,
    name: row.name,
    scopes: JSON.parse(row.scopes) as string[],
    dynamicClients: Number(row.dynamic_clients) === 1,
    accessTokenTtlSeconds: row.access_token_ttl_seconds === null ? null : Number(row.access_token_ttl_seconds),
    tenantId: row.tenant_id,
    version: Number(row.version),
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    deletedAt: row.deleted_at === null ? null : Number(row.deleted_at),
  };
}

/** A unique index refused the write (PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE). */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

async function missReason(trx: Transaction<Schema>, id: string): Promise<'not_found' | 'conflict'> {
  const row = await trx.selectFrom('resources').select(['deleted_at']).where('id', '=', id).executeTakeFirst();
  return !row || row.deleted_at !== null ? 'not_found' : 'conflict';
}

export class SqlResourceStore implements ResourceStore {
  private readonly db: Kysely<Schema>;

  constructor(database: Database) {
    this.db = database.db;
  }

  async insert(resource: ResourceRecord, events: AuditEvent[]): Promise<'ok' | 'duplicate'> {
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx.insertInto('resources').values(resourceToRow(resource)).execute();
        await insertAuditEvents(trx, events);
      });
      return 'ok';
    } catch (error) {
      // The unique index on live identifiers decides between concurrent registrations of one identifier.
      if (isUniqueViolation(error) && (await this.findByIdentifier(resource.identifier))) return 'duplicate';
      throw error;
    }
  }

  async findById(id: string): Promise<ResourceRecord | undefined> {
    const row = await this.db.selectFrom('resources').selectAll().where('id', '=', id).executeTakeFirst();
    return row && rowToResource(row);
  }

  async findByIdentifier(identifier: string): Promise<ResourceRecord | undefined> {
    const row = await this.db
      .selectFrom('resources')
      .selectAll()
      .where('identifier', '=', identifier)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return row && rowToResource(row);
  }

  async listChangedSince(since: number, limit: number): Promise<ChangedRecord[]> {
    const rows = await this.db
      .selectFrom('resources')
      .select(['id', 'identifier', 'updated_at'])
      .where('updated_at', '>', since)
      .orderBy('updated_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ id: row.id, hash: row.identifier, updatedAt: Number(row.updated_at) }));
  }

  async list(query: ResourceListQuery): Promise<ResourceRecord[]> {
    let q = this.db.selectFrom('resources').selectAll().where('deleted_at', 'is', null);
    if (query.tenantId !== undefined) q = q.where('tenant_id', '=', query.tenantId);
    const after = query.after;
    if (after) q = q.where((eb) => createdBefore(eb, after));
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map(rowToResource);
  }

  async update(id: string, expectedVersion: number, patch: ResourcePatch, now: number, events: AuditEvent[]): Promise<ResourceWriteOutcome> {
    const changes: Partial<ResourcesTable> = { updated_at: now, version: expectedVersion + 1 };
    if (patch.identifier !== undefined) changes.identifier = patch.identifier;
    if (patch.name !== undefined) changes.name = patch.name;
    if (patch.scopes !== undefined) changes.scopes = JSON.stringify(patch.scopes);
    if (patch.dynamicClients !== undefined) changes.dynamic_clients = patch.dynamicClients ? 1 : 0;
    if (patch.accessTokenTtlSeconds !== undefined) changes.access_token_ttl_seconds = patch.accessTokenTtlSeconds;
    try {
      return await this.db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('resources')
          .set(changes)
          .where('id', '=', id)
          .where('version', '=', expectedVersion)
          .where('deleted_at', 'is', null)
          .returningAll()
          .executeTakeFirst();
        if (!row) return { ok: false, reason: await missReason(trx, id) } as const;
        await insertAuditEvents(trx, events);
        return { ok: true, resource: rowToResource(row) } as const;
      });
    } catch (error) {
      if (isUniqueViolation(error)) return { ok: false, reason: 'duplicate' };
      throw error;
    }
  }

  async softDelete(id: string, now: number, events: AuditEvent[]): Promise<{ resource: ResourceRecord; changed: boolean } | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('resources')
        .set((eb) => ({ deleted_at: now, updated_at: now, version: eb('version', '+', 1) }))
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (updated) {
        await insertAuditEvents(trx, events);
        return { resource: rowToResource(updated), changed: true };
      }
      const row = await trx.selectFrom('resources').selectAll().where('id', '=', id).executeTakeFirst();
      return row && { resource: rowToResource(row), changed: false };
    });
  }
}
