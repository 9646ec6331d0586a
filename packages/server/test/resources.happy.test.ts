import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/test-app.js';

describe('resources: the admin API (RFC 8707 resources as registered objects)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('registers, reads, lists, changes and deletes a resource, auditing each change', async () => {
    const created = await t.api('POST', '/v1/resources', {
      body: { identifier: 'https://mcp.example.com/mcp', name: 'MCP tools', scopes: ['tools:call', 'tools:read', 'tools:call'], dynamicClients: true },
    });
    expect(created.status).toBe(201);
    expect(created.body).toStrictEqual({
      id: expect.stringMatching(/^res_[0-9A-Za-z]{22}$/),
      object: 'resource',
      identifier: 'https://mcp.example.com/mcp',
      name: 'MCP tools',
      scopes: ['tools:call', 'tools:read'],
      dynamicClients: true,
      accessTokenTtlSeconds: null,
      tenantId: null,
      createdAt: new Date(t.clock.now()).toISOString(),
      updatedAt: new Date(t.clock.now()).toISOString(),
    });
    const id = created.body.id as string;
    expect((await t.api('GET', `/v1/resources/${id}`)).body).toStrictEqual(created.body);

    t.clock.advance(1);
    const minimal = await t.api('POST', '/v1/resources', { body: { identifier: 'urn:example:orders', name: 'Orders' } });
    expect(minimal.body).toMatchObject({ scopes: [], dynamicClients: false, accessTokenTtlSeconds: null });

    t.clock.advance(1000);
    const changed = await t.api('PATCH', `/v1/resources/${id}`, { body: { scopes: ['tools:call'], accessTokenTtlSeconds: 300, name: 'MCP' } });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ scopes: ['tools:call'], accessTokenTtlSeconds: 300, name: 'MCP', identifier: 'https://mcp.example.com/mcp' });
    expect(changed.body.updatedAt).not.toBe(changed.body.createdAt);
    expect((await t.api('PATCH', `/v1/resources/${id}`, { body: { accessTokenTtlSeconds: null } })).body.accessTokenTtlSeconds).toBeNull();

    const listed = await t.api('GET', '/v1/resources');
    expect(listed.body.data.map((r: any) => r.id)).toEqual([minimal.body.id, id]);

    expect((await t.api('DELETE', `/v1/resources/${id}`)).status).toBe(204);
    expect((await t.api('DELETE', `/v1/resources/${id}`)).status).toBe(204);
    expect((await t.api('GET', `/v1/resources/${id}`)).status).toBe(404);
    expect((await t.api('GET', '/v1/resources')).body.data.map((r: any) => r.id)).toEqual([minimal.body.id]);
    // Its identifier is free again.
    expect((await t.api('POST', '/v1/resources', { body: { identifier: 'https://mcp.example.com/mcp', name: 'again' } })).status).toBe(201);

    const events = (await t.api('GET', '/v1/audit-events?type=resource.*&limit=50')).body.data.filter((e: any) => e.details.resourceId === id);
    expect(events.map((e: any) => e.type).sort()).toEqual(['resource.created', 'resource.deleted', 'resource.updated', 'resource.updated']);
    expect(events.find((e: any) => e.type === 'resource.created')).toMatchObject({ outcome: 'success', details: { identifier: 'https://mcp.example.com/mcp' } });
  });

  it('pages the list like clients', async () => {
    const app = await createTestApp();
    try {
      for (let i = 0; i < 5; i++) {
        await app.api('POST', '/v1/resources', { body: { identifier: `https://api${i}.example.com`, name: `api ${i}` } });
        app.clock.advance(1);
      }
      const first = await app.api('GET', '/v1/resources?limit=2');
      expect(first.body.data.map((r: any) => r.name)).toEqual(['api 4', 'api 3']);
      const second = await app.api('GET', `/v1/resources?limit=3&cursor=${encodeURIComponent(first.body.nextCursor)}`);
      expect(second.body.data.map((r: any) => r.name)).toEqual(['api 2', 'api 1', 'api 0']);
      expect(second.body.nextCursor).toBeNull();
    } finally {
      await app.close();
    }
  });

  it('a resources:write + resources:read key manages resources; a tenant admin manages its own tenant only', async () => {
    const writer = await t.createKey({ scopes: ['resources:write', 'resources:read'] });
    const made = await t.api('POST', '/v1/resources', { key: writer.key, body: { identifier: 'https://writer.example.com', name: 'w', scopes: ['a:b'] } });
    expect(made.status).toBe(201);
    expect((await t.api('GET', `/v1/resources/${made.body.id}`, { key: writer.key })).status).toBe(200);
    const tenantAdmin = await t.createKey({ scopes: ['admin'], tenantId: 'acme' });
    const own = await t.api('POST', '/v1/resources', { key: tenantAdmin.key, body: { identifier: 'https://acme.example.com', name: 'acme' } });
    expect(own.status).toBe(201);
    expect(own.body.tenantId).toBe('acme');
    expect((await t.api('GET', '/v1/resources', { key: tenantAdmin.key })).body.data.map((r: any) => r.id)).toEqual([own.body.id]);
  });
});
