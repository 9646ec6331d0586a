import { describe, expect, it } from 'vitest';
import { createAuditEvent, type AuditEvent, type AuditEventType } from '../../core/audit/audit-event.js';
import { newId } from '../../core/random.js';
import type { ResourceRecord } from '../stores.js';
import { useFreshStores, type OpenStores } from './fresh-stores.js';

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;

let counter = 0;
function makeResource(overrides: Partial<ResourceRecord> = {}): ResourceRecord {
  return {
    id: newId('res'),
    identifier: `https://api${++counter}.example.com/mcp`,
    name: 'API',
    scopes: [],
    dynamicClients: false,
    accessTokenTtlSeconds: null,
    tenantId: null,
    version: 1,
    createdBy: null,
    createdAt: T0,
    updatedAt: T0,
    deletedAt: null,
    ...overrides,
  };
}

function resourceEvent(type: AuditEventType, resource: ResourceRecord, at: number): AuditEvent {
  return createAuditEvent(at, { type, outcome: 'success', tenantId: resource.tenantId, actorKeyId: 'key_actor', details: { resourceId: resource.id } });
}

export function resourceStoreContract(name: string, open: OpenStores): void {
  describe(`ResourceStore contract (${name})`, () => {
    const stores = useFreshStores(open);
    const resources = () => stores().resources;
    const allEvents = () => stores().audit.list({ limit: 1_000 });

    it('round-trips every field exactly, with numeric timestamps and a boolean', async () => {
      const full = makeResource({
        name: 'Orders — Zürich ✓',
        scopes: ['orders:read', 'orders:write'],
        dynamicClients: true,
        accessTokenTtlSeconds: 300,
        tenantId: 'tenant_acme',
        version: 3,
        createdBy: newId('key'),
        createdAt: T0 + 1,
        updatedAt: T0 + 2,
        deletedAt: T0 + 3,
      });
      expect(await resources().insert(full, [])).toBe('ok');
      expect(await resources().findById(full.id)).toStrictEqual(full);
      const minimal = makeResource();
      await resources().insert(minimal, []);
      expect(await resources().findById(minimal.id)).toStrictEqual(minimal);
      expect(await resources().findById(newId('res'))).toBeUndefined();
    });

    it('finds a live resource by its exact identifier, never a deleted one', async () => {
      const live = makeResource({ identifier: 'https://mcp.example.com/' });
      await resources().insert(live, []);
      expect(await resources().findByIdentifier('https://mcp.example.com/')).toStrictEqual(live);
      expect(await resources().findByIdentifier('https://mcp.example.com')).toBeUndefined();
      expect(await resources().findByIdentifier('https://MCP.example.com/')).toBeUndefined();
      await resources().softDelete(live.id, T0 + MINUTE, []);
      expect(await resources().findByIdentifier('https://mcp.example.com/')).toBeUndefined();
    });

    it('refuses a second live resource with the same identifier, writing nothing, and frees it on deletion', async () => {
      const first = makeResource({ identifier: 'https://dup.example.com' });
      expect(await resources().insert(first, [resourceEvent('resource.created', first, T0)])).toBe('ok');
      const second = makeResource({ identifier: 'https://dup.example.com' });
      expect(await resources().insert(second, [resourceEvent('resource.created', second, T0)])).toBe('duplicate');
      expect(await resources().findById(second.id)).toBeUndefined();
      expect((await allEvents()).filter((e) => e.details?.resourceId === second.id)).toHaveLength(0);
      await resources().softDelete(first.id, T0 + MINUTE, []);
      expect(await resources().insert(second, [])).toBe('ok');
      expect((await resources().findByIdentifier('https://dup.example.com'))?.id).toBe(second.id);
    });

    it('of concurrent registrations of one identifier, exactly one wins', async () => {
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, () => resources().insert(makeResource({ identifier: 'https://race.example.com' }), [])),
      );
      expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(7);
    });

    it('writes the audit events with the insert, the update and the deletion', async () => {
      const resource = makeResource();
      const created = resourceEvent('resource.created', resource, T0);
      await resources().insert(resource, [created]);
      const updated = resourceEvent('resource.updated', resource, T0 + 1);
      await resources().update(resource.id, 1, { name: 'n' }, T0 + 1, [updated]);
      const deleted = resourceEvent('resource.deleted', resource, T0 + 2);
      await resources().softDelete(resource.id, T0 + 2, [deleted]);
      expect((await allEvents()).map((e) => e.id).sort()).toEqual([created.id, updated.id, deleted.id].sort());
    });

    it('updates conditionally on the version: not_found, conflict, duplicate', async () => {
      const resource = makeResource({ scopes: ['a'] });
      const other = makeResource();
      await resources().insert(resource, []);
      await resources().insert(other, []);
      const now = T0 + MINUTE;
      const outcome = await resources().update(
        resource.id,
        1,
        { name: 'renamed', scopes: ['a', 'b'], dynamicClients: true, accessTokenTtlSeconds: 60, identifier: 'https://new.example.com' },
        now,
        [],
      );
      expect(outcome).toStrictEqual({
        ok: true,
        resource: { ...resource, name: 'renamed', scopes: ['a', 'b'], dynamicClients: true, accessTokenTtlSeconds: 60, identifier: 'https://new.example.com', version: 2, updatedAt: now },
      });
      expect(await resources().update(resource.id, 1, { name: 'stale' }, now, [])).toStrictEqual({ ok: false, reason: 'conflict' });
      expect(await resources().update(newId('res'), 1, { name: 'x' }, now, [])).toStrictEqual({ ok: false, reason: 'not_found' });
      const event = resourceEvent('resource.updated', resource, now);
      expect(await resources().update(resource.id, 2, { identifier: other.identifier }, now, [event])).toStrictEqual({ ok: false, reason: 'duplicate' });
      expect((await allEvents()).some((e) => e.id === event.id)).toBe(false);
      expect(await resources().update(resource.id, 2, { accessTokenTtlSeconds: null }, now, [])).toMatchObject({ ok: true, resource: { accessTokenTtlSeconds: null, version: 3 } });
      await resources().softDelete(resource.id, now, []);
      expect(await resources().update(resource.id, 4, { name: 'x' }, now, [])).toStrictEqual({ ok: false, reason: 'not_found' });
    });

    it('soft-deletes once: a second call changes nothing and writes no event', async () => {
      const resource = makeResource();
      await resources().insert(resource, []);
      const now = T0 + MINUTE;
      const first = await resources().softDelete(resource.id, now, [resourceEvent('resource.deleted', resource, now)]);
      expect(first).toStrictEqual({ resource: { ...resource, deletedAt: now, updatedAt: now, version: 2 }, changed: true });
      const again = await resources().softDelete(resource.id, now + 1, [resourceEvent('resource.deleted', resource, now + 1)]);
      expect(again).toStrictEqual({ resource: first!.resource, changed: false });
      expect(await allEvents()).toHaveLength(1);
      expect(await resources().softDelete(newId('res'), now, [])).toBeUndefined();
    });

    it('lists live resources newest first, by tenant, a page at a time', async () => {
      const made: ResourceRecord[] = [];
      for (let i = 0; i < 5; i++) {
        const r = makeResource({ createdAt: T0 + i, updatedAt: T0 + i, tenantId: i % 2 === 0 ? 't1' : 't2' });
        await resources().insert(r, []);
        made.push(r);
      }
      await resources().softDelete(made[4]!.id, T0 + MINUTE, []);
      expect((await resources().list({ limit: 10 })).map((r) => r.id)).toEqual([made[3]!.id, made[2]!.id, made[1]!.id, made[0]!.id]);
      expect((await resources().list({ limit: 10, tenantId: 't1' })).map((r) => r.id)).toEqual([made[2]!.id, made[0]!.id]);
      const page = await resources().list({ limit: 2 });
      const rest = await resources().list({ limit: 10, after: { at: page[1]!.createdAt, id: page[1]!.id } });
      expect([...page, ...rest].map((r) => r.id)).toEqual([made[3]!.id, made[2]!.id, made[1]!.id, made[0]!.id]);
    });

    it('lists the resources changed since a time, by identifier, deletions included', async () => {
      const a = makeResource({ updatedAt: T0 });
      const b = makeResource({ updatedAt: T0 + 10 });
      await resources().insert(a, []);
      await resources().insert(b, []);
      await resources().softDelete(a.id, T0 + 20, []);
      expect(await resources().listChangedSince(T0 + 5, 10)).toEqual([
        { id: a.id, hash: a.identifier, updatedAt: T0 + 20 },
        { id: b.id, hash: b.identifier, updatedAt: T0 + 10 },
      ]);
      expect(await resources().listChangedSince(T0 + 5, 1)).toHaveLength(1);
    });
  });
}
