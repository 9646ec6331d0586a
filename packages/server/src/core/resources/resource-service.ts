import type { PageCursor, ResourcePatch, ResourceRecord, ResourceStore, ResourceWriteOutcome } from '../../storage/stores.js';
import { actorId, type Actor } from '../api-keys/api-key-service.js';
import { actorFields, createAuditEvent, type AuditEvent, type AuditEventInput } from '../audit/audit-event.js';
import type { CredentialGuard } from '../authorization/credential-guard.js';
import type { KeyCache } from '../cache/key-cache.js';
import type { Clock } from '../clock.js';
import { GatehouseError } from '../errors.js';
import { newId } from '../random.js';
import { resourceFieldsProblem, type ResourceFields } from './resource-fields.js';

export interface CreateResourceInput {
  identifier: string;
  name: string;
  scopes?: string[] | undefined;
  dynamicClients?: boolean | undefined;
  accessTokenTtlSeconds?: number | null | undefined;
  tenantId?: string | undefined;
}

export interface ListResourcesInput {
  tenantId?: string | undefined;
  limit: number;
  after?: PageCursor | undefined;
}

/** A cache entry: the live resource of an identifier, or null when none is registered (cached too). */
export interface CachedResource {
  resource: ResourceRecord | null;
}

export interface ResourceServiceDeps {
  store: ResourceStore;
  /** By identifier; holds "none registered" too, so unregistered audiences cost no query on the token path. */
  cache: KeyCache<CachedResource>;
  clock: Clock;
  guard: CredentialGuard;
  /** Drops identifiers from every process's cache (this one at once, the others through pub/sub). */
  invalidate(identifiers: readonly string[]): Promise<void>;
}

const RESOURCE_ID = /^res_[0-9A-Za-z]{22}$/;
export const isResourceId = (value: string): boolean => RESOURCE_ID.test(value);

/**
 * RFC 8707 resources (the APIs tokens are for) as registered objects: their identifier, their scopes, whether
 * self-registered clients may ask for them, and a cap on their tokens' lifetime. Tenant isolation as for
 * clients: an admin bound to a tenant sees and touches only that tenant's resources.
 */
export class ResourceService {
  constructor(private readonly deps: ResourceServiceDeps) {}

  async create(actor: Actor, input: CreateResourceInput): Promise<ResourceRecord> {
    const now = this.deps.clock.now();
    const tenantId = this.#tenantFor(actor, input.tenantId);
    const fields: ResourceFields = {
      identifier: input.identifier,
      name: input.name,
      scopes: unique(input.scopes ?? []),
      dynamicClients: input.dynamicClients ?? false,
      accessTokenTtlSeconds: input.accessTokenTtlSeconds ?? null,
    };
    assertValid(fields);
    this.deps.guard.assert(actor, 'resource.create', { id: null, tenantId }, [{ tenantId, scopes: fields.scopes }]);
    const resource: ResourceRecord = {
      id: newId('res'),
      ...fields,
      tenantId,
      version: 1,
      createdBy: actorId(actor),
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    };
    const outcome = await this.deps.store.insert(resource, [this.#event(actor, 'resource.created', resource, { identifier: resource.identifier })]);
    if (outcome === 'duplicate') throw duplicate();
    // "None registered" may be cached for this identifier.
    await this.deps.invalidate([resource.identifier]);
    return resource;
  }

  async list(actor: Actor, input: ListResourcesInput): Promise<ResourceRecord[]> {
    if (actor.tenantId !== null && input.tenantId !== undefined && input.tenantId !== actor.tenantId) return [];
    const tenantId = actor.tenantId ?? input.tenantId;
    this.deps.guard.assert(actor, 'resource.read', { id: null, tenantId: tenantId ?? null }, [{ tenantId: actor.tenantId, scopes: [] }]);
    return this.deps.store.list({ ...input, tenantId });
  }

  /** The resource, or not_found when it does not exist, is deleted, or belongs to another tenant. */
  async get(actor: Actor, id: string): Promise<ResourceRecord> {
    const resource = await this.#find(actor, id);
    if (resource.deletedAt !== null) throw notFound();
    this.deps.guard.assert(actor, 'resource.read', target(resource), [{ tenantId: resource.tenantId, scopes: [] }]);
    return resource;
  }

  async update(actor: Actor, id: string, patch: ResourcePatch): Promise<ResourceRecord> {
    const current = await this.get(actor, id);
    const normalised: ResourcePatch = { ...patch };
    if (patch.scopes) normalised.scopes = unique(patch.scopes);
    const merged: ResourceFields = {
      identifier: normalised.identifier ?? current.identifier,
      name: normalised.name ?? current.name,
      scopes: normalised.scopes ?? current.scopes,
      dynamicClients: normalised.dynamicClients ?? current.dynamicClients,
      accessTokenTtlSeconds: normalised.accessTokenTtlSeconds !== undefined ? normalised.accessTokenTtlSeconds : current.accessTokenTtlSeconds,
    };
    assertValid(merged);
    this.deps.guard.assert(actor, 'resource.update', target(current), [current, { tenantId: current.tenantId, scopes: merged.scopes }]);
    const event = this.#event(actor, 'resource.updated', current, { fields: Object.keys(patch).sort(), identifier: merged.identifier });
    const outcome = await this.deps.store.update(id, current.version, normalised, this.deps.clock.now(), [event]);
    const updated = unwrap(outcome);
    await this.deps.invalidate(unique([current.identifier, updated.identifier]));
    return updated;
  }

  /** Soft delete: no token is issued for it as a registered resource again. Idempotent for one already deleted. */
  async delete(actor: Actor, id: string): Promise<ResourceRecord> {
    const current = await this.#find(actor, id);
    this.deps.guard.assert(actor, 'resource.delete', target(current), [current]);
    const result = await this.deps.store.softDelete(id, this.deps.clock.now(), [this.#event(actor, 'resource.deleted', current, { identifier: current.identifier })]);
    if (!result) throw notFound();
    // Announce even when it was already deleted: a retry after a failed broadcast must reach every node.
    await this.deps.invalidate([current.identifier]);
    return result.resource;
  }

  /** The live resource registered with this identifier, from the in-process cache; throws only on storage failure. */
  async lookup(identifier: string): Promise<ResourceRecord | undefined> {
    if (identifier.length === 0 || identifier.length > 256) return undefined;
    const entry = await this.deps.cache.get(identifier);
    return entry?.resource ?? undefined;
  }

  async #find(actor: Actor, id: string): Promise<ResourceRecord> {
    const resource = isResourceId(id) ? await this.deps.store.findById(id) : undefined;
    if (!resource || (actor.tenantId !== null && resource.tenantId !== actor.tenantId)) throw notFound();
    return resource;
  }

  #event(actor: Actor, type: AuditEventInput['type'], resource: ResourceRecord, details: Record<string, unknown> = {}): AuditEvent {
    return createAuditEvent(
      this.deps.clock.now(),
      { type, outcome: 'success', tenantId: resource.tenantId, ...actorFields(actor), details: { resourceId: resource.id, ...details } },
      actor.origin,
    );
  }

  #tenantFor(actor: Actor, requested: string | undefined): string | null {
    if (actor.tenantId === null) return requested ?? null;
    if (requested !== undefined && requested !== actor.tenantId) {
      throw new GatehouseError('insufficient_scope', "This key can only manage its own tenant's resources.");
    }
    return actor.tenantId;
  }
}

const unique = <T>(values: readonly T[]): T[] => [...new Set(values)];

function assertValid(fields: ResourceFields): void {
  const problem = resourceFieldsProblem(fields);
  if (problem) throw new GatehouseError('invalid_request', problem);
}

const target = (resource: ResourceRecord) => ({ id: resource.id, tenantId: resource.tenantId });

const notFound = () => new GatehouseError('not_found', 'No resource with that id.');
const duplicate = () => new GatehouseError('conflict', 'A resource with that identifier is already registered.');

function unwrap(outcome: ResourceWriteOutcome): ResourceRecord {
  if (outcome.ok) return outcome.resource;
  if (outcome.reason === 'not_found') throw notFound();
  if (outcome.reason === 'duplicate') throw duplicate();
  throw new GatehouseError('conflict', 'The resource changed while this request was processed; fetch it and retry.');
}
