import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { createPgDatabase, tempDir } from './helpers/databases.js';
import { testDatabaseUrl, testRedisUrl } from './helpers/env.js';
import { consoleSignIn } from './helpers/console.js';
import { api, killSpawned, listAll, spawnServer, type SpawnedServer } from './helpers/spawn-server.js';

/**
 * Two server processes sharing one PostgreSQL database and one Redis: what one process does, the other
 * sees at once (revocation, rotation, creation), and a key's rate limit is shared between them.
 */

describe.skipIf(!testDatabaseUrl || !testRedisUrl)('cluster: two processes, one PostgreSQL, one Redis', () => {
  const dirs = [tempDir('cluster-a'), tempDir('cluster-b')];
  const rootKey = generateApiKey('live').key;
  let pg: Awaited<ReturnType<typeof createPgDatabase>> | undefined;
  let a: SpawnedServer;
  let b: SpawnedServer;

  const call = (server: SpawnedServer, method: string, path: string, body?: unknown) =>
    api(server.url, method, path, { key: rootKey, body });
  const verify = async (server: SpawnedServer, key: string): Promise<string> => {
    const response = await call(server, 'POST', '/v1/keys/verify', { key });
    if (response.status !== 200) throw new Error(`verify: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.code;
  };
  const createKey = async (server: SpawnedServer, body: Record<string, unknown> = {}) => {
    const response = await call(server, 'POST', '/v1/keys', { name: 'cluster', ...body });
    if (response.status !== 201) throw new Error(`create: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body as { id: string; key: string };
  };

  beforeAll(async () => {
    pg = await createPgDatabase();
    const env = (dir: string) => ({
      GATEHOUSE_DATA_DIR: dir,
      GATEHOUSE_DATABASE_URL: pg!.url,
      GATEHOUSE_REDIS_URL: testRedisUrl!,
      GATEHOUSE_MASTER_KEY: masterKey,
      GATEHOUSE_BOOTSTRAP_ADMIN_KEY: rootKey,
      // One public address in front of both, as behind a load balancer: tokens name one issuer.
      GATEHOUSE_ISSUER: 'http://127.0.0.1:4000',
      GATEHOUSE_LOG_LEVEL: 'warn',
      GATEHOUSE_MANAGEMENT_RATE_LIMIT: '100000/60',
    });
    const masterKey = randomBytes(32).toString('base64');
    // Together: both migrate the empty database and try to bootstrap the root key at the same time.
    [a, b] = await Promise.all([spawnServer({ env: env(dirs[0]!.path) }), spawnServer({ env: env(dirs[1]!.path) })]);
  });

  afterAll(async () => {
    const stops = await Promise.all([a, b].map((server) => server?.stop().catch((error: unknown) => error)));
    await killSpawned();
    await pg?.drop();
    for (const dir of dirs) dir.remove();
    for (const stopped of stops) if (stopped !== undefined) expect(stopped).toEqual({ code: 0, signal: null });
  });

  it('starts both on one empty database: one root key, accepted by both', async () => {
    for (const server of [a, b]) {
      expect((await api(server.url, 'GET', '/readyz')).body).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok' } });
      expect((await call(server, 'GET', '/v1/keys?limit=100')).status).toBe(200);
    }
    const keys = await listAll(a.url, '/v1/keys?limit=100', rootKey);
    expect(keys.filter((key) => key.name === 'root')).toHaveLength(1);
    const bootstraps = await listAll(b.url, '/v1/audit-events?type=system.bootstrap&limit=200', rootKey);
    expect(bootstraps).toHaveLength(1);
    expect(a.stderr() + b.stderr()).toBe('');
  });

  it('a key created through A verifies through B', async () => {
    const { id, key } = await createKey(a, { scopes: ['orders:read'] });
    const response = await call(b, 'POST', '/v1/keys/verify', { key, scopes: ['orders:read'] });
    expect(response.body).toMatchObject({ valid: true, code: 'VALID', keyId: id, scopes: ['orders:read'] });
    expect((await call(b, 'GET', `/v1/keys/${id}`)).body).toMatchObject({ id, name: 'cluster' });
  });

  it('a key cached by B and revoked through A is rejected by B on the very next request (20 times)', async () => {
    const failures: string[] = [];
    for (let i = 0; i < 20; i++) {
      const { id, key } = await createKey(a, { name: `revoke-${i}` });
      expect(await verify(b, key)).toBe('VALID'); // now in B's cache
      expect(await verify(b, key)).toBe('VALID');
      const revoked = await call(a, 'POST', `/v1/keys/${id}/revoke`);
      expect(revoked.status).toBe(200);
      expect(revoked.body.revokedAt).not.toBeNull();
      const code = await verify(b, key);
      if (code !== 'REVOKED') failures.push(`key ${i}: B answered ${code} right after the revocation through A`);
      expect(await verify(a, key)).toBe('REVOKED');
    }
    expect(failures).toEqual([]);
  });

  it('shares a key rate limit between the processes: 5 VALID and 1 RATE_LIMITED out of 3 + 3', async () => {
    const { key } = await createKey(a, { rateLimit: { limit: 5, windowSeconds: 60 } });
    const codes = await Promise.all([a, a, a, b, b, b].map((server) => verify(server, key)));
    expect(codes.filter((code) => code === 'VALID')).toHaveLength(5);
    expect(codes.filter((code) => code === 'RATE_LIMITED')).toHaveLength(1);
    // Still limited, on either process.
    expect(await verify(b, key)).toBe('RATE_LIMITED');
    expect(await verify(a, key)).toBe('RATE_LIMITED');
  });

  it('a rotation through A with gracePeriodSeconds 0 makes B reject the old key at once', async () => {
    const { id, key: oldKey } = await createKey(a, { name: 'rotate-me' });
    expect(await verify(b, oldKey)).toBe('VALID'); // cached by B
    const rotated = await call(a, 'POST', `/v1/keys/${id}/rotate`, { gracePeriodSeconds: 0 });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(await verify(b, oldKey)).toBe('REVOKED');
    expect(await verify(b, rotated.body.key)).toBe('VALID');
    expect(await verify(a, oldKey)).toBe('REVOKED');
  });

  it('OAuth across processes: a client made on A issues tokens on B, both publish one JWKS, a revocation on A is seen by B at once', async () => {
    const created = await call(a, 'POST', '/v1/clients', {
      name: 'cluster client',
      redirectUris: [],
      grantTypes: ['client_credentials'],
      scopes: ['read'],
      tokenEndpointAuthMethod: 'client_secret_basic',
    });
    expect(created.status).toBe(201);
    const { clientId, clientSecret } = created.body as { clientId: string; clientSecret: string };
    const auth = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
    const oauth = async (server: SpawnedServer, path: string, body: Record<string, string>) => {
      const response = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
        body: new URLSearchParams(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    };
    const jwks = await Promise.all([a, b].map(async (server) => (await fetch(`${server.url}/.well-known/jwks.json`)).text()));
    expect(jwks[0]).toBe(jwks[1]);

    for (let i = 0; i < 10; i++) {
      const issued = await oauth(b, '/oauth/token', { grant_type: 'client_credentials' });
      expect(issued.status).toBe(200);
      expect((await oauth(b, '/oauth/introspect', { token: issued.body.access_token })).body.active).toBe(true);
      expect((await oauth(a, '/oauth/revoke', { token: issued.body.access_token })).status).toBe(200);
      expect((await oauth(a, '/oauth/introspect', { token: issued.body.access_token })).body, `A, round ${i}`).toEqual({ active: false });
      expect((await oauth(b, '/oauth/introspect', { token: issued.body.access_token })).body).toEqual({ active: false });
    }
  });

  it("an admin user's console token works on both; a role removed or a sign-out on one is refused on the other at once", async () => {
    const password = 'correct horse battery staple';
    const created = await call(a, 'POST', '/v1/users', { email: 'cluster-admin@example.com', password, adminScopes: ['admin'] });
    expect(created.status).toBe(201);
    const session = await consoleSignIn(a.url, 'http://127.0.0.1:4000', { email: 'cluster-admin@example.com', password });
    const me = (server: SpawnedServer) => api(server.url, 'GET', '/v1/me', { key: session.accessToken });
    expect((await me(b)).body).toMatchObject({ kind: 'user', id: created.body.id, scopes: ['admin'] });

    expect((await call(a, 'PATCH', `/v1/users/${created.body.id}`, { adminScopes: [] })).status).toBe(200);
    expect((await me(b)).status).toBe(403);
    expect((await call(a, 'PATCH', `/v1/users/${created.body.id}`, { adminScopes: ['keys:read'] })).status).toBe(200);
    expect((await me(b)).body.scopes).toEqual(['keys:read']);

    const logout = await session.browser.get(
      `/oauth/logout?${new URLSearchParams({ id_token_hint: session.idToken, post_logout_redirect_uri: 'http://127.0.0.1:4000/console/' })}`,
    );
    expect(logout.status).toBe(303);
    expect((await me(b)).status).toBe(401);
    expect((await me(a)).status).toBe(401);
  });
});
