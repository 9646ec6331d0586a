import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recoverRootKey } from '../src/core/api-keys/bootstrap-root-key.js';
import { generateApiKey, parseApiKey } from '../src/core/api-keys/key-format.js';
import { apiKeyChecksum } from 'gatehouse-sdk';
import { createPgSchema, dialects, tempDir } from './helpers/databases.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const HOUR = 3_600_000;

/**
 * GATEHOUSE_KEY_PREFIX on a deployment that changes it: keys are issued under the default `sk`, the server
 * restarts over the same database with GATEHOUSE_KEY_PREFIX=acme, and both generations of keys work.
 */
describe.each(dialects)('a deployment key prefix, changed over existing keys (%s)', (dialect) => {
  const rootKey = generateApiKey('live').key;
  const dir = tempDir('key-prefix');
  let schema: Awaited<ReturnType<typeof createPgSchema>> | undefined;
  let t: TestApp;
  let old: { live: any; test: any };

  beforeAll(async () => {
    schema = dialect === 'postgres' ? await createPgSchema() : undefined;
    const shared = { dataDir: dir.path, rootKey, ...(schema ? { dialect, pgSchema: schema } : {}) };
    const before = await createTestApp(shared);
    old = {
      live: await before.createKey({ name: 'issued under sk', scopes: ['invoices:read'] }),
      test: await before.createKey({ name: 'issued under sk (test)', environment: 'test' }),
    };
    await before.close();
    t = await createTestApp({ ...shared, env: { GATEHOUSE_KEY_PREFIX: 'acme' } });
  });
  afterAll(async () => {
    await t?.close();
    await schema?.drop();
    dir.remove();
  });

  const verify = (key: string, scopes?: string[]) =>
    t.api('POST', '/v1/keys/verify', { body: scopes ? { key, scopes } : { key } }).then((r) => {
      expect(r.status).toBe(200);
      return r.body;
    });

  it('issues new keys of both environments under the prefix, checksum kept; they verify and authenticate', async () => {
    expect(t.config.keyPrefix).toBe('acme');
    const live = await t.createKey({ name: 'acme live', scopes: ['keys:read'] });
    const test = await t.createKey({ name: 'acme test', environment: 'test' });
    expect(live.key).toMatch(/^acme_live_[0-9A-Za-z]{49}$/);
    expect(test.key).toMatch(/^acme_test_[0-9A-Za-z]{49}$/);
    expect(parseApiKey(live.key)).toEqual({ ok: true, prefix: 'acme', environment: 'live', displayPrefix: live.prefix });
    expect(live.prefix).toMatch(/^acme_live_[0-9A-Za-z]{6}$/);
    expect(live.key.startsWith(live.prefix)).toBe(true);
    expect(await verify(live.key)).toMatchObject({ valid: true, code: 'VALID', keyId: live.id });
    expect(await verify(test.key)).toMatchObject({ valid: true, code: 'VALID', keyId: test.id });
    // An acme key is an admin credential like any other.
    expect((await t.api('GET', '/v1/keys?limit=1', { key: live.key })).status).toBe(200);
    // A typo in an acme key fails its checksum: INVALID_FORMAT, before any lookup.
    const typo = live.key.slice(0, -1) + (live.key.endsWith('A') ? 'B' : 'A');
    expect(await verify(typo)).toMatchObject({ valid: false, code: 'INVALID_FORMAT' });
  });

  it('keeps verifying keys issued under the earlier prefix, and the admin key bootstrapped under it', async () => {
    expect(old.live.key).toMatch(/^sk_live_/);
    expect(old.test.key).toMatch(/^sk_test_/);
    expect(await verify(old.live.key, ['invoices:read'])).toMatchObject({ valid: true, code: 'VALID', keyId: old.live.id });
    expect(await verify(old.test.key)).toMatchObject({ valid: true, code: 'VALID', keyId: old.test.id });
    expect(rootKey).toMatch(/^sk_live_/);
    expect((await t.api('GET', '/v1/keys?limit=1', { key: rootKey })).status).toBe(200);
    // Well-formed under a prefix this deployment never used, unknown: NOT_FOUND (looked up), not INVALID_FORMAT.
    expect(await verify(generateApiKey('live', 'other').key)).toMatchObject({ valid: false, code: 'NOT_FOUND' });
  });

  it('rotates an sk key into an acme key; the old one works through its grace period; the prefix filter tells them apart', async () => {
    const rotated = await t.api('POST', `/v1/keys/${old.test.id}/rotate`, { body: { gracePeriodSeconds: 3600 } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.key).toMatch(/^acme_test_/);
    expect(rotated.body).toMatchObject({ environment: 'test', rotatedFromId: old.test.id });
    expect((await verify(rotated.body.key)).code).toBe('VALID');
    expect((await verify(old.test.key)).code).toBe('VALID');
    t.clock.advance(HOUR);
    expect((await verify(old.test.key)).code).toBe('EXPIRED');

    const byPrefix = async (prefix: string) =>
      (await t.api('GET', `/v1/keys?prefix=${encodeURIComponent(prefix)}&limit=100`)).body.data.map((k: { id: string }) => k.id);
    const acmeTest = await byPrefix('acme_test_');
    expect(acmeTest).toContain(rotated.body.id);
    expect(acmeTest).not.toContain(old.test.id);
    expect(await byPrefix('sk_test_')).toEqual([old.test.id]);
    expect(await byPrefix(rotated.body.prefix)).toEqual([rotated.body.id]);
  });

  it('revokes acme keys, directly and through a leak report; an acme look-alike is reported invalid', async () => {
    const revoked = await t.createKey({ name: 'to revoke' });
    expect((await t.api('POST', `/v1/keys/${revoked.id}/revoke`)).status).toBe(200);
    expect((await verify(revoked.key)).code).toBe('REVOKED');

    const reporter = await t.createKey({ name: 'scanner', scopes: ['keys:report_leaked'] });
    const leaked = await t.createKey({ name: 'leaky' });
    const body = `acme_live_${'Z'.repeat(43)}`;
    const lookAlike = body + (apiKeyChecksum(body) === '000000' ? '000001' : '000000');
    const report = await t.api('POST', '/v1/leaked-keys', { key: reporter.key, body: [{ token: leaked.key }, { token: lookAlike }, { token: old.live.key }] });
    expect(report.status).toBe(200);
    expect(report.body.data).toEqual([
      { index: 0, prefix: leaked.prefix, outcome: 'revoked', keyId: leaked.id },
      { index: 1, prefix: null, outcome: 'invalid', keyId: null },
      { index: 2, prefix: old.live.prefix, outcome: 'revoked', keyId: old.live.id },
    ]);
    expect((await verify(leaked.key)).code).toBe('REVOKED');
    expect((await verify(old.live.key)).code).toBe('REVOKED');
  });

  it('leaves the other credentials alone: an OAuth client secret is still cs_', async () => {
    const client = await t.api('POST', '/v1/clients', {
      body: { name: 'service', redirectUris: [], grantTypes: ['client_credentials'], scopes: ['read'], tokenEndpointAuthMethod: 'client_secret_basic' },
    });
    expect(client.status).toBe(201);
    expect(client.body.clientSecret).toMatch(/^cs_[0-9A-Za-z]{43}$/);
  });

  it('a recovered root admin key takes the prefix', async () => {
    const { key } = await recoverRootKey({ store: t.services.stores.apiKeys, clock: t.clock, keyPrefix: t.config.keyPrefix });
    expect(key).toMatch(/^acme_live_/);
    expect((await t.api('GET', '/v1/keys?limit=1', { key })).status).toBe(200);
  });
});
