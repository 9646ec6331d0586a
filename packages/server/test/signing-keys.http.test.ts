import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { startServer } from '../src/main.js';
import { dialects, tempDir } from './helpers/databases.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/** The signing-key endpoints over HTTP: happy paths, errors, and security. */

describe.each(dialects)('signing keys over HTTP (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ dialect });
  });
  afterAll(() => t.close());

  describe('happy', () => {
    it('GET /.well-known/jwks.json is public, cacheable, and holds public keys only', async () => {
      const response = await t.api('GET', '/.well-known/jwks.json', { key: null });
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/jwk-set\+json/);
      expect(response.headers['cache-control']).toBe('public, max-age=300');
      expect(response.body).toEqual(t.services.signingKeys.jwks());
      // The access-token key (GATEHOUSE_SIGNING_ALG) and the RS256 key ID tokens default to, told apart by kid.
      const [jwk, rsa] = response.body.keys;
      expect(response.body.keys).toHaveLength(2);
      expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', kid: t.services.signingKeys.current().kid });
      expect(Object.keys(jwk).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
      expect(rsa).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: t.services.signingKeys.idTokenKey('RS256').kid });
      expect(Object.keys(rsa).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    });

    it('lists the keys, rotates (pending, then active after the delay), and audits the rotation', async () => {
      const before = await t.api('GET', '/v1/signing-keys');
      expect(before.status).toBe(200);
      expect(before.body.data).toHaveLength(2);
      const first = before.body.data.find((k: { alg: string }) => k.alg === 'EdDSA');
      const firstRsa = before.body.data.find((k: { alg: string }) => k.alg === 'RS256');
      expect(first).toMatchObject({ object: 'signing_key', alg: 'EdDSA', status: 'active', retiredAt: null, publishUntil: null });
      expect(firstRsa).toMatchObject({ object: 'signing_key', alg: 'RS256', status: 'active', retiredAt: null, publishUntil: null });

      const rotated = await t.api('POST', '/v1/signing-keys/rotate', { body: { alg: 'ES256', activateAfterSeconds: 120 } });
      expect(rotated.status).toBe(200);
      const now = t.clock.now();
      expect(rotated.body).toEqual({
        kid: expect.stringMatching(/^sig_/),
        object: 'signing_key',
        alg: 'ES256',
        status: 'pending',
        createdAt: new Date(now).toISOString(),
        activatesAt: new Date(now + 120_000).toISOString(),
        retiredAt: null,
        publishUntil: null,
      });
      // The rotation made an RS256 key beside the ES256 one, activating together.
      const listed = (await t.api('GET', '/v1/signing-keys')).body.data;
      const rotatedRsa = listed.find((k: { alg: string; status: string }) => k.alg === 'RS256' && k.status === 'pending');
      expect(rotatedRsa).toMatchObject({ activatesAt: rotated.body.activatesAt, createdAt: rotated.body.createdAt });
      const jwks = await t.api('GET', '/.well-known/jwks.json', { key: null });
      expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toEqual([rotated.body.kid, rotatedRsa.kid, first.kid, firstRsa.kid]);

      expect(listed.map((k: { status: string }) => k.status)).toEqual(['active', 'active', 'pending', 'pending']);
      for (const old of listed.slice(0, 2)) {
        expect(old.retiredAt).toBe(new Date(now + 120_000).toISOString());
        expect(old.publishUntil).toBe(new Date(now + 120_000 + 86_400_000 + 60_000).toISOString());
      }
      t.clock.advance(120_000);
      expect((await t.api('GET', '/v1/signing-keys')).body.data.map((k: { status: string }) => k.status)).toEqual(['retired', 'retired', 'active', 'active']);
      expect(t.services.signingKeys.current().kid).toBe(rotated.body.kid);
      expect(t.services.signingKeys.idTokenKey('RS256').kid).toBe(rotatedRsa.kid);

      const audit = await t.api('GET', '/v1/audit-events?type=signing_key.rotated');
      expect(audit.status).toBe(200);
      expect(audit.body.data).toHaveLength(2);
      for (const event of audit.body.data) expect(event).toMatchObject({ type: 'signing_key.rotated', outcome: 'success' });
      expect(JSON.stringify(audit.body.data)).toContain(rotated.body.kid);
      expect(JSON.stringify(audit.body.data)).toContain(rotatedRsa.kid);
    });

    it('a POST without a body rotates with the defaults (configured alg, 60 s)', async () => {
      const response = await t.api('POST', '/v1/signing-keys/rotate');
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ alg: 'EdDSA', status: 'pending' });
      expect(Date.parse(response.body.activatesAt) - Date.parse(response.body.createdAt)).toBe(60_000);
    });

    it('finer scopes: signing-keys:read lists, signing-keys:write rotates', async () => {
      const reader = (await t.createKey({ scopes: ['signing-keys:read'] })).key;
      const writer = (await t.createKey({ scopes: ['signing-keys:write'] })).key;
      expect((await t.api('GET', '/v1/signing-keys', { key: reader })).status).toBe(200);
      expect((await t.api('POST', '/v1/signing-keys/rotate', { key: writer, body: { activateAfterSeconds: 0 } })).status).toBe(200);
    });
  });

  describe('error', () => {
    it('refuses an unknown or symmetric algorithm, bad delays, and unknown fields', async () => {
      for (const body of [
        { alg: 'HS256' },
        { alg: 'none' },
        { alg: 'PS256' },
        { activateAfterSeconds: -1 },
        { activateAfterSeconds: 1.5 },
        { activateAfterSeconds: '60' },
        { activateAfterSeconds: 8 * 86_400 },
        { privateKey: 'mine' },
      ]) {
        const response = await t.api('POST', '/v1/signing-keys/rotate', { body });
        expect(response.status, JSON.stringify(body)).toBe(400);
        expect(response.body.error).toBe('invalid_request');
      }
    });
  });

  describe('security', () => {
    it('the admin endpoints need a key, and the right scope', async () => {
      for (const [method, url] of [['GET', '/v1/signing-keys'], ['POST', '/v1/signing-keys/rotate']] as const) {
        const anonymous = await t.api(method, url, { key: null });
        expect(anonymous.status).toBe(401);
        expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="gatehouse"');
      }
      const keysAdmin = (await t.createKey({ scopes: ['keys:read', 'keys:write', 'audit:read'] })).key;
      const reader = (await t.createKey({ scopes: ['signing-keys:read'] })).key;
      expect((await t.api('GET', '/v1/signing-keys', { key: keysAdmin })).status).toBe(403);
      expect((await t.api('POST', '/v1/signing-keys/rotate', { key: keysAdmin })).status).toBe(403);
      const denied = await t.api('POST', '/v1/signing-keys/rotate', { key: reader });
      expect(denied.status).toBe(403);
      expect(denied.headers['www-authenticate']).toContain('scope="signing-keys:write"');
    });

    it("a tenant's admin key cannot see or rotate the signing keys every tenant shares", async () => {
      const tenantAdmin = (await t.createKey({ tenantId: 'acme', scopes: ['admin'] })).key;
      const count = (await t.services.signingKeys.list()).length;
      for (const [method, url] of [['GET', '/v1/signing-keys'], ['POST', '/v1/signing-keys/rotate']] as const) {
        const response = await t.api(method, url, { key: tenantAdmin });
        expect(response.status).toBe(403);
        expect(response.body.error).toBe('insufficient_scope');
      }
      expect(await t.services.signingKeys.list()).toHaveLength(count);
    });

    it('no private key material in API output, logs, audit events or (SQLite) the database file', async () => {
      await t.api('POST', '/v1/signing-keys/rotate', { body: { alg: 'RS256', activateAfterSeconds: 0 } });
      const privateKey = t.services.signingKeys.current().privateKey;
      const d = (privateKey.export({ format: 'jwk' }) as { d: string }).d;
      const der = privateKey.export({ format: 'der', type: 'pkcs8' });
      const outputs = [
        JSON.stringify((await t.api('GET', '/v1/signing-keys')).body),
        JSON.stringify((await t.api('GET', '/.well-known/jwks.json', { key: null })).body),
        JSON.stringify((await t.api('GET', '/v1/audit-events?limit=100')).body),
        t.logs.join('\n'),
      ];
      for (const output of outputs) {
        expect(output).not.toContain(d);
        expect(output).not.toContain(der.toString('base64').slice(40, 120));
        expect(output).not.toMatch(/"(d|p|q|dp|dq|qi)":/);
      }
      if (dialect === 'sqlite') {
        const files = readdirSync(t.dataDir).filter((f) => f.startsWith('gatehouse.db'));
        const bytes = Buffer.concat(files.map((f) => readFileSync(join(t.dataDir, f))));
        expect(bytes.includes(d)).toBe(false);
        expect(bytes.includes(der.subarray(30, 90))).toBe(false);
        expect(bytes.includes(der.toString('base64').slice(40, 120))).toBe(false);
      }
    });
  });
});

describe('the issuer when GATEHOUSE_ISSUER is unset', () => {
  it('names the port actually listened on (GATEHOUSE_PORT=0), read at request time', async () => {
    const dir = tempDir('issuer');
    const config = loadConfig({ GATEHOUSE_DATA_DIR: dir.path, GATEHOUSE_PORT: '0', GATEHOUSE_LOG_LEVEL: 'warn' });
    expect(config.issuer).toBe('http://127.0.0.1:0');
    const server = await startServer(config, { logStream: new Writable({ write: (_c, _e, done) => done() }) });
    try {
      const port = new URL(server.url).port;
      expect(port).not.toBe('0');
      expect(server.services.config.issuer).toBe(`http://127.0.0.1:${port}`);
      const doc = await server.app.inject({ method: 'GET', url: '/openapi.json' });
      expect(doc.json().servers).toEqual([{ url: `http://127.0.0.1:${port}` }]);
    } finally {
      await server.close();
      dir.remove();
    }
  });

  it('is used byte for byte when set', async () => {
    const dir = tempDir('issuer');
    const config = loadConfig({ GATEHOUSE_DATA_DIR: dir.path, GATEHOUSE_PORT: '0', GATEHOUSE_ISSUER: 'https://id.example.com/', GATEHOUSE_LOG_LEVEL: 'warn' });
    const server = await startServer(config, { logStream: new Writable({ write: (_c, _e, done) => done() }) });
    try {
      expect(server.services.config.issuer).toBe('https://id.example.com/');
    } finally {
      await server.close();
      dir.remove();
    }
  });
});
