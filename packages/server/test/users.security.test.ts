import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/test-app.js';

describe('users: management scopes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('users:read reads, users:write writes, admin does both, other scopes nothing', async () => {
    const reader = (await t.createKey({ scopes: ['users:read'] })).key;
    const writer = (await t.createKey({ scopes: ['users:write'] })).key;
    const keysAdmin = (await t.createKey({ scopes: ['keys:read', 'keys:write'] })).key;
    const body = { email: 'scoped@example.com', password: 'password123' };

    const denied = await t.api('POST', '/v1/users', { key: reader, body });
    expect(denied.status).toBe(403);
    expect(denied.headers['www-authenticate']).toContain('scope="users:write"');
    const created = await t.api('POST', '/v1/users', { key: writer, body });
    expect(created.status).toBe(201);
    expect((await t.api('GET', '/v1/users', { key: writer })).status).toBe(403);
    expect((await t.api('GET', `/v1/users/${created.body.id}`, { key: reader })).status).toBe(200);
    expect((await t.api('GET', '/v1/users', { key: reader })).status).toBe(200);
    expect((await t.api('DELETE', `/v1/users/${created.body.id}`, { key: reader })).status).toBe(403);
    for (const [method, url] of [['GET', '/v1/users'], ['POST', '/v1/users'], ['GET', `/v1/users/${created.body.id}`], ['DELETE', `/v1/users/${created.body.id}`]] as const) {
      expect((await t.api(method, url, { key: keysAdmin, body: method === 'POST' ? body : undefined })).status).toBe(403);
      expect((await t.api(method, url, { key: null, body: method === 'POST' ? body : undefined })).status).toBe(401);
    }
    expect((await t.api('DELETE', `/v1/users/${created.body.id}`, { key: writer })).status).toBe(204);
  });

  it('a key can grant users:* only when it holds them (or admin)', async () => {
    const writer = (await t.createKey({ scopes: ['keys:write'] })).key;
    expect((await t.api('POST', '/v1/keys', { key: writer, body: { name: 'x', scopes: ['users:write'] } })).status).toBe(403);
    expect((await t.api('POST', '/v1/keys', { body: { name: 'x', scopes: ['users:read', 'users:write'] } })).status).toBe(201);
  });
});

describe('users: tenant isolation', () => {
  let t: TestApp;
  let acmeAdmin: string;
  let globexUser: { id: string };
  beforeAll(async () => {
    t = await createTestApp();
    acmeAdmin = (await t.createKey({ tenantId: 'acme', scopes: ['users:read', 'users:write'] })).key;
    globexUser = (await t.api('POST', '/v1/users', { body: { email: 'g@globex.com', password: 'password123', tenantId: 'globex' } })).body;
  });
  afterAll(() => t.close());

  it("a tenant's admin key creates users only in its tenant", async () => {
    const own = await t.api('POST', '/v1/users', { key: acmeAdmin, body: { email: 'a@acme.com', password: 'password123' } });
    expect(own.status).toBe(201);
    expect(own.body.tenantId).toBe('acme');
    const other = await t.api('POST', '/v1/users', { key: acmeAdmin, body: { email: 'b@acme.com', password: 'password123', tenantId: 'globex' } });
    expect(other.status).toBe(403);
  });

  it("another tenant's users are invisible (404) and undeletable", async () => {
    expect((await t.api('GET', `/v1/users/${globexUser.id}`, { key: acmeAdmin })).status).toBe(404);
    expect((await t.api('DELETE', `/v1/users/${globexUser.id}`, { key: acmeAdmin })).status).toBe(404);
    expect((await t.api('GET', `/v1/users/${globexUser.id}`)).status).toBe(200);
    const listed = await t.api('GET', '/v1/users?limit=100', { key: acmeAdmin });
    expect(listed.body.data.length).toBeGreaterThan(0);
    expect(listed.body.data.every((u: any) => u.tenantId === 'acme')).toBe(true);
    expect((await t.api('GET', '/v1/users?tenantId=globex', { key: acmeAdmin })).body.data).toEqual([]);
  });

  it("another tenant's users cannot be changed, disabled, or have their sessions listed or ended (404)", async () => {
    for (const body of [{ name: 'hijacked' }, { disabled: true }, { password: 'attacker password' }, { email: 'me@attacker.example' }]) {
      const r = await t.api('PATCH', `/v1/users/${globexUser.id}`, { key: acmeAdmin, body });
      expect(r.status).toBe(404);
      expect(r.body.error).toBe('not_found');
    }
    expect((await t.api('GET', `/v1/users/${globexUser.id}/sessions`, { key: acmeAdmin })).status).toBe(404);
    expect((await t.api('DELETE', `/v1/users/${globexUser.id}/sessions`, { key: acmeAdmin })).status).toBe(404);
    expect((await t.api('DELETE', `/v1/users/${globexUser.id}/sessions/ses_0000000000000000000000`, { key: acmeAdmin })).status).toBe(404);
    const after = (await t.api('GET', `/v1/users/${globexUser.id}`)).body;
    expect(after).toMatchObject({ name: null, disabled: false, email: 'g@globex.com' });
    expect((await t.services.users.authenticate('g@globex.com', 'password123')).ok).toBe(true);
    // Its own users it may change.
    const own = (await t.api('POST', '/v1/users', { key: acmeAdmin, body: { email: 'own@acme.com', password: 'password123' } })).body;
    expect((await t.api('PATCH', `/v1/users/${own.id}`, { key: acmeAdmin, body: { disabled: true } })).body.disabled).toBe(true);
  });
});

describe('users: passwords at rest and in logs', () => {
  it('no password reaches the logs, audit events, responses or the database file; no hash reaches logs or audit', async () => {
    const t = await createTestApp();
    try {
      const passwords = ['Plaintext-Password-Alpha-1', 'Plaintext-Password-Bravo-2', 'Plaintext-Password-Charlie-3'];
      const responses: string[] = [];
      const record = (r: { body: unknown }) => responses.push(JSON.stringify(r.body));
      for (const [i, password] of passwords.entries()) {
        record(await t.api('POST', '/v1/users', { body: { email: `u${i}@example.com`, password, name: `user ${i}` } }));
      }
      // Rejected requests: duplicate, bad field, unknown field, broken JSON, unauthenticated, bad password.
      record(await t.api('POST', '/v1/users', { body: { email: 'u0@example.com', password: passwords[0] } }));
      record(await t.api('POST', '/v1/users', { body: { email: 'nope', password: passwords[1] } }));
      record(await t.api('POST', '/v1/users', { body: { email: 'x@example.com', password: passwords[1], extra: passwords[2] } }));
      record(await t.api('POST', '/v1/users', { body: `{"email":"y@example.com","password":"${passwords[2]}"` }));
      record(await t.api('POST', '/v1/users', { key: null, body: { email: 'z@example.com', password: passwords[2] } }));
      record(await t.api('POST', '/v1/users', { body: { email: 'w@example.com', password: `${passwords[2]}\u0000` } }));
      record(await t.api('GET', '/v1/users?limit=100'));
      for (const [i, password] of passwords.entries()) {
        expect((await t.services.users.authenticate(`u${i}@example.com`, password)).ok).toBe(true);
        t.services.apiKeys.record(t.clock.now(), { type: 'admin.authentication', outcome: 'success' });
      }
      await t.services.audit.flush();

      const logs = t.logs.join('\n');
      expect(logs).toContain('POST');
      const audit = JSON.stringify(await t.services.stores.audit.list({ limit: 10_000 }));
      expect(audit).toContain('user.created');
      const files = readdirSync(t.dataDir).filter((f) => f.startsWith('gatehouse.db'));
      const database = Buffer.concat(files.map((f) => readFileSync(join(t.dataDir, f))));
      const hashes = (await t.services.stores.users.list({ limit: 100 })).map((u) => u.passwordHash);
      expect(hashes).toHaveLength(3);
      expect(database.includes(Buffer.from(hashes[0]!))).toBe(true); // proves the file read is the right one
      for (const password of passwords) {
        expect(logs).not.toContain(password);
        expect(audit).not.toContain(password);
        expect(responses.join('\n')).not.toContain(password);
        expect(database.includes(Buffer.from(password))).toBe(false);
        expect(database.includes(Buffer.from(password, 'utf16le'))).toBe(false);
      }
      for (const hash of hashes) {
        const digest = hash.split('$').pop()!;
        expect(logs).not.toContain(digest);
        expect(audit).not.toContain(digest);
        expect(responses.join('\n')).not.toContain(digest);
      }
    } finally {
      await t.close();
    }
  });

  it('the logger redacts password fields wherever they appear', async () => {
    const t = await createTestApp();
    try {
      t.app.log.info({ password: 'top-level-secret-1', body: { password: 'nested-secret-2', user: { password: 'deep-secret-3' } } }, 'probe');
      const logs = t.logs.join('\n');
      expect(logs).toContain('probe');
      for (const secret of ['top-level-secret-1', 'nested-secret-2', 'deep-secret-3']) expect(logs).not.toContain(secret);
    } finally {
      await t.close();
    }
  });
});
