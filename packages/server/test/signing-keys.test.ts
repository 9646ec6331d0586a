import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../src/core/clock.js';
import { SecretBox } from '../src/core/crypto/secret-box.js';
import { MemoryPubSub, type PubSub } from '../src/core/pubsub/pubsub.js';
import { RedisPubSub } from '../src/core/pubsub/redis.js';
import { issueAccessToken } from '../src/core/tokens/access-token.js';
import { SIGNING_ALGS, type SigningAlg } from '../src/core/tokens/signing-alg.js';
import { SigningKeys, type SigningKeysDeps } from '../src/core/tokens/signing-keys.js';
import { verifyAccessToken } from '../src/core/tokens/verify-access-token.js';
import { createSqlStores } from '../src/storage/sql/create-sql-stores.js';
import { openDatabase, type Database } from '../src/storage/sql/database.js';
import { migrateToLatest } from '../src/storage/sql/migrate.js';
import type { Stores } from '../src/storage/stores.js';
import { createPgSchema, tempDir } from './helpers/databases.js';
import { testDatabaseUrl, testRedisUrl } from './helpers/env.js';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const SECOND = 1000;
const RELOAD_MS = 60_000;
const ISSUER = 'https://auth.example.com';
const masterKey = Buffer.alloc(32, 9);

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sqliteStores(): Promise<{ stores: Stores; database: Database; dir: string }> {
  const dir = tempDir('signing');
  const database = openDatabase({ dataDir: dir.path });
  cleanups.push(() => dir.remove(), () => database.close());
  await migrateToLatest(database);
  return { stores: createSqlStores(database), database, dir: dir.path };
}

async function pgStores(pg: { url: string; schema: string }): Promise<Stores> {
  const database = openDatabase({ url: pg.url, dataDir: tempDir('unused').path, schema: pg.schema });
  cleanups.push(() => database.close());
  await migrateToLatest(database);
  return createSqlStores(database);
}

async function open(stores: Stores, clock: ManualClock, overrides: Partial<SigningKeysDeps> = {}): Promise<SigningKeys> {
  const keys = await SigningKeys.open({
    store: stores.signingKeys,
    secretBox: new SecretBox(masterKey),
    clock,
    pubsub: new MemoryPubSub(),
    defaultAlg: 'EdDSA',
    activationDelaySeconds: 60,
    maxTokenTtlSeconds: 3600,
    onError: (message, error) => {
      throw new Error(`${message}: ${String(error)}`);
    },
    ...overrides,
  });
  cleanups.push(() => keys.close());
  return keys;
}

async function token(keys: SigningKeys, now: number): Promise<string> {
  const issued = await issueAccessToken(keys.current(), {
    issuer: ISSUER,
    subject: 'user_1',
    audience: 'https://api.example.com',
    clientId: 'cli_1',
    scope: 'read',
    ttlSeconds: 900,
    now,
  });
  return issued.token;
}

async function joseVerifies(keys: SigningKeys, jwt: string): Promise<string> {
  const { protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(keys.jwks() as never), {
    issuer: ISSUER,
    audience: 'https://api.example.com',
    typ: 'at+jwt',
    currentDate: new Date(T0 + 1),
  });
  return protectedHeader.kid!;
}

describe('SigningKeys', () => {
  it('creates one active key per algorithm on first open (the configured one, and RS256 for ID tokens), and reuses them on the next', async () => {
    const { stores } = await sqliteStores();
    const clock = new ManualClock(T0);
    const keys = await open(stores, clock);
    const current = keys.current();
    expect(current.alg).toBe('EdDSA');
    expect(current.kid).toMatch(/^sig_[A-Za-z0-9]{22}$/);
    const rsa = keys.idTokenKey('RS256');
    expect(rsa.alg).toBe('RS256');
    expect(rsa.kid).not.toBe(current.kid);
    expect(keys.idTokenKey('EdDSA').kid).toBe(current.kid);
    expect(() => keys.idTokenKey('ES256')).toThrow(/No ES256 signing key/);
    expect(keys.idTokenAlgs()).toEqual(['RS256', 'EdDSA']);
    const listed = await keys.list();
    expect(new Set(listed)).toEqual(
      new Set([
        { kid: current.kid, alg: 'EdDSA', status: 'active', createdAt: T0, activatesAt: T0, retiredAt: null, publishUntil: null },
        { kid: rsa.kid, alg: 'RS256', status: 'active', createdAt: T0, activatesAt: T0, retiredAt: null, publishUntil: null },
      ]),
    );
    const again = await open(stores, clock, { defaultAlg: 'RS256' });
    expect(again.current().kid).toBe(current.kid);
    expect(again.idTokenKey('RS256').kid).toBe(rsa.kid);
    expect(await stores.audit.list({ type: 'signing_key.created', limit: 10 })).toHaveLength(2);
  });

  it('with GATEHOUSE_SIGNING_ALG RS256 one key serves both access and ID tokens', async () => {
    const { stores } = await sqliteStores();
    const keys = await open(stores, new ManualClock(T0), { defaultAlg: 'RS256' });
    expect(keys.jwks().keys).toHaveLength(1);
    expect(keys.idTokenKey('RS256').kid).toBe(keys.current().kid);
    expect(keys.idTokenAlgs()).toEqual(['RS256']);
  });

  it('a key set made before RS256 was always held (an upgrade) gets an RS256 key on open, once; access tokens keep their key', async () => {
    const { stores } = await sqliteStores();
    const clock = new ManualClock(T0);
    // An older version's database: a single EdDSA key (copied, sealed as it is, from another key set).
    const source = await sqliteStores();
    await open(source.stores, clock);
    const edRecord = (await source.stores.signingKeys.list()).find((k) => k.alg === 'EdDSA')!;
    expect(await stores.signingKeys.insertInitial([edRecord], [])).toBe(true);
    clock.advance(5 * SECOND);
    const [a, b] = await Promise.all([open(stores, clock), open(stores, clock)]);
    expect(a.current().kid).toBe(edRecord.kid);
    expect(b.current().kid).toBe(edRecord.kid);
    const rsa = a.idTokenKey('RS256');
    expect(b.idTokenKey('RS256').kid).toBe(rsa.kid);
    const listed = await stores.signingKeys.list();
    expect(listed.map((k) => k.alg)).toEqual(['EdDSA', 'RS256']);
    expect(listed[1]).toMatchObject({ activatesAt: T0 + 5 * SECOND, retiredAt: null });
    expect(await stores.audit.list({ type: 'signing_key.created', limit: 10 })).toHaveLength(1);
    // The next rotation replaces both, together.
    clock.advance(SECOND);
    const rotated = await a.rotate({ activateAfterSeconds: 0 });
    expect(a.current().kid).toBe(rotated.kid);
    expect(a.idTokenKey('RS256').kid).not.toBe(rsa.kid);
    // The keys of one set share their times, so their order within the set is not defined.
    const byStatus = (status: string) => listedNow.filter((k) => k.status === status).map((k) => k.alg).sort();
    const listedNow = await a.list();
    expect(listedNow).toHaveLength(4);
    expect(byStatus('retired')).toEqual(['EdDSA', 'RS256']);
    expect(byStatus('active')).toEqual(['EdDSA', 'RS256']);
  });

  it('publishes public keys only, with kid, alg and use, as one cached object', async () => {
    const { stores } = await sqliteStores();
    const keys = await open(stores, new ManualClock(T0));
    const jwks = keys.jwks();
    expect(jwks.keys).toHaveLength(2);
    const [jwk, rsa] = jwks.keys;
    // The access-token key first, then its RS256 companion (the kid tells them apart).
    expect(jwk).toEqual({ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: keys.current().kid, alg: 'EdDSA', use: 'sig' });
    expect(rsa).toEqual({ kty: 'RSA', n: expect.any(String), e: 'AQAB', kid: keys.idTokenKey('RS256').kid, alg: 'RS256', use: 'sig' });
    expect(keys.jwks()).toBe(jwks);
    expect(JSON.parse(keys.jwksJson())).toEqual(jwks);
  });

  it.each(SIGNING_ALGS)('%s: tokens it signs verify with jose against its JWKS, and locally', async (alg: SigningAlg) => {
    const { stores } = await sqliteStores();
    const keys = await open(stores, new ManualClock(T0), { defaultAlg: alg });
    expect(keys.jwks().keys[0]).toMatchObject({ alg, use: 'sig', kid: keys.current().kid });
    for (const key of keys.jwks().keys) for (const field of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(field);
    const jwt = await token(keys, T0);
    expect(await joseVerifies(keys, jwt)).toBe(keys.current().kid);
    expect(verifyAccessToken(jwt, { keys, issuer: ISSUER, now: T0 })).toMatchObject({ sub: 'user_1', client_id: 'cli_1' });
  });

  it('rotation: published at once, signs after the delay, the old key retires then and stays published for the max TTL', async () => {
    const { stores } = await sqliteStores();
    const clock = new ManualClock(T0);
    const keys = await open(stores, clock);
    const old = keys.current().kid;
    const oldRsa = keys.idTokenKey('RS256').kid;
    const oldToken = await token(keys, T0);

    clock.advance(10 * SECOND);
    const rotated = await keys.rotate();
    const rotatedRsa = (await keys.list()).find((k) => k.alg === 'RS256' && k.kid !== oldRsa)!;
    const activatesAt = T0 + 70 * SECOND;
    const publishUntil = activatesAt + 3600 * SECOND + RELOAD_MS;
    expect(rotated).toMatchObject({ alg: 'EdDSA', status: 'pending', createdAt: T0 + 10 * SECOND, activatesAt, retiredAt: null });
    // One key per algorithm, activating together.
    expect(rotatedRsa).toMatchObject({ alg: 'RS256', status: 'pending', createdAt: T0 + 10 * SECOND, activatesAt, retiredAt: null });
    // Pending: in the JWKS (newest first), not signing.
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([rotated.kid, rotatedRsa.kid, old, oldRsa]);
    expect(keys.current().kid).toBe(old);
    clock.set(activatesAt - 1);
    expect(keys.current().kid).toBe(old);
    expect(keys.idTokenKey('RS256').kid).toBe(oldRsa);
    expect(await joseVerifies(keys, await token(keys, clock.now()))).toBe(old);

    clock.set(activatesAt);
    expect(keys.current().kid).toBe(rotated.kid);
    expect(keys.idTokenKey('RS256').kid).toBe(rotatedRsa.kid);
    expect(keys.idTokenKey('EdDSA').kid).toBe(rotated.kid);
    expect(await joseVerifies(keys, await token(keys, clock.now()))).toBe(rotated.kid);
    const retired = { status: 'retired', createdAt: T0, activatesAt: T0, retiredAt: activatesAt, publishUntil };
    expect(new Set(await keys.list())).toEqual(
      new Set([
        { kid: old, alg: 'EdDSA', ...retired },
        { kid: oldRsa, alg: 'RS256', ...retired },
        { ...rotated, status: 'active' },
        { ...rotatedRsa, status: 'active' },
      ]),
    );
    const audit = await stores.audit.list({ type: 'signing_key.rotated', limit: 10 });
    expect(audit).toHaveLength(2);
    expect(audit.map((event) => event.details)).toEqual(
      expect.arrayContaining([expect.objectContaining({ kid: rotated.kid, alg: 'EdDSA' }), expect.objectContaining({ kid: rotatedRsa.kid, alg: 'RS256' })]),
    );

    // Still published (tokens it signed may live this long), then gone.
    clock.set(publishUntil - 1);
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([rotated.kid, rotatedRsa.kid, old, oldRsa]);
    expect(keys.publicKey(old)?.alg).toBe('EdDSA');
    expect(keys.publicKey(oldRsa)?.alg).toBe('RS256');
    expect(await joseVerifies(keys, oldToken)).toBe(old);
    clock.set(publishUntil);
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([rotated.kid, rotatedRsa.kid]);
    expect(keys.publicKey(old)).toBeUndefined();
    expect(keys.publicKey(oldRsa)).toBeUndefined();
    expect((await keys.list()).map((k) => k.status)).toEqual(['expired', 'expired', 'active', 'active']);
    await keys.reload();
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([rotated.kid, rotatedRsa.kid]);
  });

  it('rotation with activateAfterSeconds 0 signs at once; the algorithm can change', async () => {
    const { stores } = await sqliteStores();
    const clock = new ManualClock(T0);
    const keys = await open(stores, clock);
    clock.advance(SECOND);
    const rotated = await keys.rotate({ alg: 'ES256', activateAfterSeconds: 0 });
    expect(rotated.status).toBe('active');
    expect(keys.current()).toMatchObject({ kid: rotated.kid, alg: 'ES256' });
    // The new set (ES256 and RS256) first, then the retired one (EdDSA and RS256), still published.
    expect(keys.jwks().keys.map((k) => k.alg)).toEqual(['ES256', 'RS256', 'EdDSA', 'RS256']);
    expect(keys.idTokenAlgs()).toEqual(['RS256', 'ES256']);
    expect(await joseVerifies(keys, await token(keys, clock.now()))).toBe(rotated.kid);
    // Rotating to RS256 makes one key, for both token kinds; the others retire.
    clock.advance(SECOND);
    const rsaOnly = await keys.rotate({ alg: 'RS256', activateAfterSeconds: 0 });
    expect(keys.current().kid).toBe(rsaOnly.kid);
    expect(keys.idTokenKey('RS256').kid).toBe(rsaOnly.kid);
    expect(keys.idTokenAlgs()).toEqual(['RS256']);
    expect((await keys.list()).filter((k) => k.status === 'active').map((k) => k.kid)).toEqual([rsaOnly.kid]);
    clock.advance(SECOND);
    const back = await keys.rotate({ alg: 'ES256', activateAfterSeconds: 0 });
    expect(keys.idTokenAlgs()).toEqual(['RS256', 'ES256']);
    expect(keys.current().kid).toBe(back.kid);
    await expect(keys.rotate({ alg: 'HS256' as SigningAlg })).rejects.toThrow(TypeError);
    await expect(keys.rotate({ activateAfterSeconds: -1 })).rejects.toThrow(TypeError);
  });

  it('another instance over the same database picks a rotation up by pub/sub, or by its periodic reload', async () => {
    const { stores } = await sqliteStores();
    const clock = new ManualClock(T0);
    const pubsub = new MemoryPubSub();
    const a = await open(stores, clock, { pubsub });
    const b = await open(stores, clock, { pubsub });
    const c = await open(stores, clock, { reloadIntervalMs: 50 });
    const rotated = await a.rotate({ activateAfterSeconds: 0 });
    await vi.waitFor(() => expect(b.current().kid).toBe(rotated.kid));
    await vi.waitFor(() => expect(c.current().kid).toBe(rotated.kid));
  });

  it('private keys are never stored in plaintext: the database file holds no private key material', async () => {
    const { stores, database, dir } = await sqliteStores();
    const clock = new ManualClock(T0);
    const keys = await open(stores, clock);
    const secrets: string[] = [];
    const collect = (key = keys.current()) => {
      const { privateKey } = key;
      const der = privateKey.export({ format: 'der', type: 'pkcs8' });
      secrets.push(
        (privateKey.export({ format: 'jwk' }) as { d: string }).d,
        der.toString('base64'),
        der.toString('base64url'),
        der.toString('hex'),
        String(privateKey.export({ format: 'pem', type: 'pkcs8' })).split('\n')[1]!,
      );
      return der;
    };
    // The access-token key and its RS256 companion.
    const ders = [collect(), collect(keys.idTokenKey('RS256'))];
    for (const alg of ['ES256', 'RS256'] as const) {
      await keys.rotate({ alg, activateAfterSeconds: 0 });
      ders.push(collect());
    }
    await database.close();
    const files = readdirSync(dir).filter((f) => f.startsWith('gatehouse.db'));
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(dir, f))));
    expect(bytes.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(bytes.includes(secret), secret.slice(0, 12)).toBe(false);
    // The raw DER (and its key bytes, past the PKCS#8 header) appear nowhere either.
    for (const der of ders) expect(bytes.includes(der.subarray(16, 48))).toBe(false);
    expect(bytes.includes('PRIVATE KEY')).toBe(false);
  });

  it('refuses to start with another master key (the sealed keys do not open)', async () => {
    const { stores } = await sqliteStores();
    await open(stores, new ManualClock(T0));
    await expect(open(stores, new ManualClock(T0), { secretBox: new SecretBox(Buffer.alloc(32, 1)) })).rejects.toThrow();
  });

  it('refuses bad options at setup', async () => {
    const { stores } = await sqliteStores();
    await expect(open(stores, new ManualClock(T0), { defaultAlg: 'none' as SigningAlg })).rejects.toThrow(TypeError);
    await expect(open(stores, new ManualClock(T0), { maxTokenTtlSeconds: 0 })).rejects.toThrow(TypeError);
    await expect(open(stores, new ManualClock(T0), { activationDelaySeconds: 1.5 })).rejects.toThrow(TypeError);
  });
});

describe.skipIf(!testDatabaseUrl)('SigningKeys on PostgreSQL: several processes', () => {
  it('processes starting at once on one empty database create exactly one initial key', async () => {
    const pg = await createPgSchema();
    cleanups.push(() => pg.drop());
    const storesList = await Promise.all(Array.from({ length: 5 }, () => pgStores(pg)));
    const clock = new ManualClock(T0);
    const all = await Promise.all(storesList.map((stores) => open(stores, clock)));
    const kids = new Set(all.map((keys) => keys.current().kid));
    expect(kids.size).toBe(1);
    expect(new Set(all.map((keys) => keys.idTokenKey('RS256').kid)).size).toBe(1);
    expect((await storesList[0]!.signingKeys.list()).map((k) => k.alg).sort()).toEqual(['EdDSA', 'RS256']);
    expect(await storesList[0]!.audit.list({ type: 'signing_key.created', limit: 10 })).toHaveLength(2);
  });

  it.skipIf(!testRedisUrl)('a rotation on process A is picked up by process B through Redis pub/sub', async () => {
    const pg = await createPgSchema();
    cleanups.push(() => pg.drop());
    const clock = new ManualClock(T0);
    const bus = (): PubSub => {
      const redis = new Redis(testRedisUrl!);
      const pubsub = new RedisPubSub(redis);
      cleanups.push(() => redis.disconnect(), () => pubsub.close());
      return pubsub;
    };
    // A long periodic reload: only the message can explain B's update.
    const a = await open(await pgStores(pg), clock, { pubsub: bus(), reloadIntervalMs: 3_600_000 });
    const b = await open(await pgStores(pg), clock, { pubsub: bus(), reloadIntervalMs: 3_600_000 });
    expect(b.current().kid).toBe(a.current().kid);
    const rotated = await a.rotate({ alg: 'ES256' });
    await vi.waitFor(() => expect(b.jwks().keys.map((k) => k.kid)).toContain(rotated.kid), { timeout: 10_000 });
    expect(b.current().kid).not.toBe(rotated.kid);
    clock.advance(60 * SECOND);
    expect(b.current().kid).toBe(rotated.kid);
    const jwt = await token(a, clock.now());
    expect(verifyAccessToken(jwt, { keys: b, issuer: ISSUER, now: clock.now() })?.iss).toBe(ISSUER);
  });
});
