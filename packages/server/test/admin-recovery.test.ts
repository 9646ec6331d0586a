import { afterAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { createPgDatabase, tempDir } from './helpers/databases.js';
import { testDatabaseUrl } from './helpers/env.js';
import { sinkCredential } from './helpers/log-sink.js';
import { api, killSpawned, runCli, spawnServer } from './helpers/spawn-server.js';
import { createTestApp } from './helpers/test-app.js';

/** Lock-out (the last admin key cannot be removed) and recovery (`gatehouse admin recover`). */

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  await killSpawned();
  for (const cleanup of cleanups) await cleanup();
}, 120_000);

const RECOVERED = /Root admin key \(shown once[^\n]*\n\s*(sk_live_[0-9A-Za-z]+)\s/;

describe('the last unrestricted admin key', () => {
  it('cannot revoke itself or lose admin while it is the last; can once another exists; rotation is fine', async () => {
    const t = await createTestApp();
    try {
      const rootId = (await t.api('GET', '/v1/keys')).body.data.find((k: any) => k.name === 'root').id;
      // A tenant's admin key and a key with every other scope are no substitute.
      await t.createKey({ scopes: ['admin'], tenantId: 'acme' });
      await t.createKey({ scopes: ['keys:write', 'keys:read', 'users:write', 'clients:write'] });
      for (const [method, url, body] of [
        ['POST', `/v1/keys/${rootId}/revoke`, {}],
        ['PATCH', `/v1/keys/${rootId}`, { scopes: ['keys:read'] }],
      ] as const) {
        const r = await t.api(method, url, { body });
        expect(r.status).toBe(409);
        expect(r.body.error).toBe('last_admin_credential');
      }
      expect((await t.api('GET', `/v1/keys/${rootId}`)).body).toMatchObject({ status: 'active', scopes: ['admin'] });

      // Rotating it keeps an admin key: allowed, even with no grace period; the successor is the last one now.
      const rotated = await t.api('POST', `/v1/keys/${rootId}/rotate`, { body: { gracePeriodSeconds: 0 } });
      expect(rotated.status).toBe(200);
      const successor = rotated.body as { id: string; key: string };
      sinkCredential(successor.key);
      expect((await t.api('POST', `/v1/keys/${successor.id}/revoke`, { key: successor.key })).status).toBe(409);

      // With a second admin key, the first may go (even revoking itself).
      const second = await t.createKey({ scopes: ['admin'] }, successor.key);
      expect((await t.api('POST', `/v1/keys/${successor.id}/revoke`, { key: successor.key })).status).toBe(200);
      expect((await t.api('GET', '/v1/keys', { key: successor.key })).status).toBe(401);
      expect((await t.api('PATCH', `/v1/keys/${second.id}`, { key: second.key, body: { scopes: ['keys:read'] } })).body.error).toBe('last_admin_credential');
    } finally {
      await t.close();
    }
  });
});

describe('gatehouse admin recover', () => {
  it('SQLite: after every admin key is lost, creates a root key that works, printed once and audited', async () => {
    const dir = tempDir('admin-recover');
    cleanups.push(() => dir.remove());
    const lost = generateApiKey('live').key;
    sinkCredential(lost);
    const first = await spawnServer({ env: { GATEHOUSE_DATA_DIR: dir.path, GATEHOUSE_BOOTSTRAP_ADMIN_KEY: lost } });
    expect((await api(first.url, 'GET', '/v1/keys', { key: lost })).status).toBe(200);
    // While the server holds the data directory, recovery refuses (stop the server first).
    const busy = await runCli(['admin', 'recover', '--data-dir', dir.path]);
    expect(busy.code).not.toBe(0);
    expect(busy.stdout).not.toMatch(/sk_live_/);
    await first.stop();

    // The wrong master key recovers nothing.
    const wrong = await runCli(['admin', 'recover', '--data-dir', dir.path], { env: { GATEHOUSE_MASTER_KEY: Buffer.alloc(32, 9).toString('base64') } });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout).not.toMatch(/sk_live_/);

    const recovered = await runCli(['admin', 'recover', '--data-dir', dir.path]);
    expect(recovered.code, recovered.stderr).toBe(0);
    const key = recovered.stdout.match(RECOVERED)?.[1];
    expect(key, recovered.stdout).toBeDefined();
    sinkCredential(key!);
    expect(recovered.stdout.match(/sk_live_/g)).toHaveLength(1);

    const second = await spawnServer({ env: { GATEHOUSE_DATA_DIR: dir.path } });
    // A restart prints no key: the store is not empty.
    expect(second.stdout()).not.toMatch(/Root admin key/);
    const keys = await api(second.url, 'GET', '/v1/keys', { key: key! });
    expect(keys.status).toBe(200);
    const record = keys.body.data.find((k: any) => k.prefix && key!.startsWith(k.prefix) && k.name.startsWith('recovered root'));
    expect(record).toMatchObject({ scopes: ['admin'], tenantId: null, status: 'active' });
    const events = await api(second.url, 'GET', '/v1/audit-events?type=system.recovery', { key: key! });
    expect(events.body.data).toEqual([expect.objectContaining({ type: 'system.recovery', outcome: 'success', keyId: record.id })]);
    await second.stop();
  });

  it.skipIf(!testDatabaseUrl)('PostgreSQL: runs beside a live server, which accepts the new key at once', async () => {
    const database = await createPgDatabase();
    const env = { GATEHOUSE_DATABASE_URL: database.url, GATEHOUSE_MASTER_KEY: Buffer.alloc(32, 3).toString('base64') };
    const dir = tempDir('admin-recover-pg');
    cleanups.push(() => dir.remove());
    const server = await spawnServer({ env: { ...env, GATEHOUSE_DATA_DIR: dir.path } });
    const recovered = await runCli(['admin', 'recover'], { env });
    expect(recovered.code, recovered.stderr).toBe(0);
    const key = recovered.stdout.match(RECOVERED)?.[1];
    sinkCredential(key!);
    expect((await api(server.url, 'GET', '/v1/keys', { key: key! })).status).toBe(200);
    await server.stop();
    await database.drop();
  });
});
