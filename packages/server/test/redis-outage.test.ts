import { createHash, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { CertificateAuthority } from '../src/core/ca/certificate-authority.js';
import { IpBlocks } from '../src/core/detection/ip-blocks.js';
import { MemoryPubSub } from '../src/core/pubsub/pubsub.js';
import type { CertificateStore, IpBlockStore } from '../src/storage/stores.js';
import { createPgSchema } from './helpers/databases.js';
import { testDatabaseUrl } from './helpers/env.js';
import { EventStream } from './helpers/event-stream.js';
import { basicAuth, createOAuthTestApp, FormBrowser, hiddenFields, pkcePair, type OAuthTestApp } from './helpers/oauth.js';
import { sampleValue } from './helpers/prometheus-text.js';
import { startThrowawayRedis, type ThrowawayRedis } from './helpers/redis-server.js';
import { waitFor } from './helpers/spawn-server.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import { createTestApp } from './helpers/test-app.js';

/**
 * docs/failure-modes.md, row by row: two Gatehouse instances (A and B) over one PostgreSQL schema and one Redis
 * of their own (a throwaway redis-server behind a TCP proxy), while that Redis is down (the proxy refuses
 * connections), hung (the proxy holds every byte until the test resumes it: any answer given meanwhile was given
 * while Redis still hung, with no clock involved), and back empty (killed and started again, every key lost).
 */

const STREAM = '/v1/revocations/stream';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe.skipIf(!testDatabaseUrl)('cluster mode while Redis is down, hung, or back empty', () => {
  const rootKey = generateApiKey('live').key;
  let redis: ThrowawayRedis;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let pg: Awaited<ReturnType<typeof createPgSchema>>;
  let a: OAuthTestApp;
  let b: OAuthTestApp;
  const streams: EventStream[] = [];
  /** An address blocked while Redis was down, still blocked when it comes back empty. */
  const blockedIp = '203.0.113.77';

  const verify = (t: OAuthTestApp, key: string) => t.api('POST', '/v1/keys/verify', { body: { key } });
  const code = async (t: OAuthTestApp, key: string): Promise<string> => {
    const response = await verify(t, key);
    if (response.status !== 200) throw new Error(`verify: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.code;
  };
  const readiness = async (t: OAuthTestApp) => {
    const response = await t.app.inject({ method: 'GET', url: '/readyz' });
    return { status: response.statusCode, body: response.json() };
  };
  const from = (t: OAuthTestApp, ip: string) => t.app.inject({ method: 'GET', url: '/v1/keys?limit=1', remoteAddress: ip, headers: { authorization: `Bearer ${rootKey}` } });
  const oauth = async (t: OAuthTestApp, path: string, auth: string, body: Record<string, string>) => {
    const response = await fetch(`${t.issuer}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
      body: new URLSearchParams(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
  const openStream = async (t: OAuthTestApp) => {
    const stream = await EventStream.open(t.issuer + STREAM, rootKey);
    streams.push(stream);
    expect(stream.status).toBe(200);
    expect((await stream.next()).event).toBe('ready');
    return stream;
  };
  const until = (what: string, probe: () => Promise<boolean>) => waitFor(what, async () => ((await probe()) ? true : undefined));
  // Each test starts with Redis answering both (whatever the previous test left).
  beforeEach(async () => {
    for (const t of [a, b]) await until('Redis to answer', async () => (await readiness(t)).status === 200);
  });

  beforeAll(async () => {
    redis = await startThrowawayRedis();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: redis.port });
    pg = await createPgSchema();
    const options = {
      dialect: 'postgres' as const,
      pgSchema: pg,
      rootKey,
      env: {
        GATEHOUSE_REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
        GATEHOUSE_REVOCATION_POLL_SECONDS: '1',
        GATEHOUSE_REDIS_TIMEOUT_MS: '300',
      },
    };
    a = await createOAuthTestApp(options);
    b = await createOAuthTestApp(options);
    // One public address in front of both, as behind a load balancer: tokens name one issuer.
    b.config.issuer = a.issuer;
  });

  afterAll(async () => {
    for (const stream of streams) stream.close();
    proxy?.resume();
    await a?.close();
    await b?.close();
    await pg?.drop();
    await proxy?.close();
    await redis?.kill();
  });

  it('down: the management API (revoke included) answers, under a per-process limit; revocations, token denials and IP blocks reach the other process and its stream by the database poll', async () => {
    const victim = await a.createKey({ name: 'victim' });
    expect(await code(b, victim.key)).toBe('VALID'); // cached by B
    const limited = await a.createKey({ name: 'limited', rateLimit: { limit: 1000, windowSeconds: 60 } });
    expect(await code(a, limited.key)).toBe('VALID');
    const ops = await a.createKey({ name: 'ops', scopes: ['admin'], rateLimit: { limit: 3, windowSeconds: 60 } });
    const client = await a.createClient({ grantTypes: ['client_credentials'], redirectUris: [], scopes: ['read'] });
    const auth = basicAuth(client.clientId, client.clientSecret);
    const onB = await openStream(b);

    await proxy.cut();
    try {
      await until('A to see Redis down', async () => (await readiness(a)).status === 503);
      expect(await readiness(a)).toEqual({ status: 503, body: { status: 'unavailable', checks: { database: 'ok', redis: 'unavailable' } } });

      // Revocation through A: written, and refused by A at once.
      const revoked = await a.api('POST', `/v1/keys/${victim.id}/revoke`);
      expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
      expect(revoked.body.revokedAt).not.toBeNull();
      expect(await code(a, victim.key)).toBe('REVOKED');
      // B, which had it cached and heard no message, reads it from the database at its next poll; so does its stream.
      await until('B to refuse the key revoked through A', async () => (await code(b, victim.key)) === 'REVOKED');
      expect(await onB.next()).toEqual({ event: 'key', data: { hash: sha256(victim.key) } });

      // The management limit is this process's own while Redis is down: 3 per minute for this admin key, on A.
      for (let i = 0; i < 3; i++) expect((await a.api('GET', '/v1/keys?limit=1', { key: ops.key })).status).toBe(200);
      const limitedOut = await a.api('GET', '/v1/keys?limit=1', { key: ops.key });
      expect(limitedOut.status).toBe(429);
      expect(limitedOut.body.error).toBe('rate_limited');
      const metrics = String((await a.api('GET', '/metrics')).body);
      expect(sampleValue(metrics, 'gatehouse_rate_limit_fallback_decisions_total', { limit: 'management' })).toBeGreaterThanOrEqual(4);
      expect(sampleValue(metrics, 'gatehouse_rate_limit_fallback_active', { limit: 'management' })).toBe(1);
      expect(sampleValue(metrics, 'gatehouse_pubsub_subscribed')).toBe(0);

      // An API key's own rate limit cannot be checked: 503, never VALID, never RATE_LIMITED.
      const unchecked = await verify(a, limited.key);
      expect(unchecked.status).toBe(503);
      expect(unchecked.body.error).toBe('temporarily_unavailable');
      // A bad credential is still refused as one (its failure is not counted: the counts are in Redis).
      expect((await a.api('GET', '/v1/keys?limit=1', { key: generateApiKey('live').key })).status).toBe(401);

      // An access token revoked through A is inactive on B, and announced on B's stream.
      const issued = await oauth(b, '/oauth/token', auth, { grant_type: 'client_credentials', scope: 'read' });
      expect(issued.status, JSON.stringify(issued.body)).toBe(200);
      expect((await oauth(b, '/oauth/introspect', auth, { token: issued.body.access_token })).body.active).toBe(true);
      expect((await oauth(a, '/oauth/revoke', auth, { token: issued.body.access_token })).status).toBe(200);
      await until('B to see the token revoked through A', async () => (await oauth(b, '/oauth/introspect', auth, { token: issued.body.access_token })).body.active === false);
      const jti = JSON.parse(Buffer.from(issued.body.access_token.split('.')[1], 'base64url').toString()).jti;
      expect(await onB.next()).toMatchObject({ event: 'token', data: { jti } });

      // An OAuth client deleted through A (B has it cached) is refused by B at its next poll.
      expect((await a.api('DELETE', `/v1/clients/${client.clientId}`)).status).toBeLessThan(300);
      await until('B to refuse the client deleted through A', async () => (await oauth(b, '/oauth/token', auth, { grant_type: 'client_credentials', scope: 'read' })).status === 401);

      // An address blocked by A is refused by B; an address unblocked through A is let in again by B.
      const unblocked = '203.0.113.78';
      for (const ip of [blockedIp, unblocked]) await a.services.detection.blocks.block(ip, { reason: 'test', failures: null, seconds: 3600 });
      for (const ip of [blockedIp, unblocked]) await until(`B to refuse ${ip}`, async () => (await from(b, ip)).statusCode === 429);
      expect((await a.api('DELETE', `/v1/blocks/${unblocked}`)).status).toBe(200);
      await until('B to let the unblocked address in', async () => (await from(b, unblocked)).statusCode === 200);
      expect((await from(b, blockedIp)).json().error).toBe('ip_blocked');
      expect(onB.pending()).toEqual([]);
    } finally {
      await proxy.restore();
    }
    for (const t of [a, b]) await until('Redis to be ready again', async () => (await readiness(t)).status === 200);
    expect(await code(a, limited.key)).toBe('VALID');
    const after = String((await a.api('GET', '/metrics')).body);
    expect(sampleValue(after, 'gatehouse_rate_limit_fallback_active', { limit: 'management' })).toBe(0);
  });

  it('hung: a rate-limited verification, a revoke, a management call and /readyz each answer while Redis still hangs; B learns of the revocation by the poll', async () => {
    const victim = await a.createKey({ name: 'victim while hung' });
    expect(await code(b, victim.key)).toBe('VALID');
    const limited = await a.createKey({ name: 'limited while hung', rateLimit: { limit: 1000, windowSeconds: 60 } });
    expect(await code(a, limited.key)).toBe('VALID');
    const onB = await openStream(b);
    const user = await a.createUser({ password: 'correct horse battery staple' });
    const webClient = await a.createClient();
    const browser = new FormBrowser(a.issuer);
    const page = await browser.get(
      `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: webClient.clientId, redirect_uri: 'https://app.example/callback', scope: 'openid', code_challenge: pkcePair().challenge, code_challenge_method: 'S256' })}`,
    );
    const fields = hiddenFields(await page.text());

    proxy.stall();
    try {
      expect((await browser.submit('/oauth/authorize/login', { ...fields, email: user.email, password: 'correct horse battery staple' })).status).toBe(503);
      const unchecked = await verify(a, limited.key);
      expect(unchecked.status).toBe(503);
      expect(unchecked.body.error).toBe('temporarily_unavailable');
      expect(await readiness(a)).toEqual({ status: 503, body: { status: 'unavailable', checks: { database: 'ok', redis: 'unavailable' } } });

      const revoked = await a.api('POST', `/v1/keys/${victim.id}/revoke`);
      expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
      expect(await code(a, victim.key)).toBe('REVOKED');
      await until('B to refuse the key revoked through A', async () => (await code(b, victim.key)) === 'REVOKED');
      expect(await onB.next()).toEqual({ event: 'key', data: { hash: sha256(victim.key) } });
      expect((await b.api('GET', '/v1/keys?limit=1')).status).toBe(200);
    } finally {
      proxy.resume();
    }
    for (const t of [a, b]) await until('Redis to answer again', async () => (await readiness(t)).status === 200);
    expect(await code(a, limited.key)).toBe('VALID');
  });

  it('back empty: rate limits start afresh; revocations and blocks stay; pub/sub works again', async () => {
    const limited = await a.createKey({ name: 'two an hour', rateLimit: { limit: 2, windowSeconds: 3600 } });
    expect(await code(a, limited.key)).toBe('VALID');
    expect(await code(b, limited.key)).toBe('VALID');
    expect(await code(a, limited.key)).toBe('RATE_LIMITED');
    const revokedBefore = await a.createKey({ name: 'revoked before' });
    expect((await a.api('POST', `/v1/keys/${revokedBefore.id}/revoke`)).status).toBe(200);

    await redis.kill();
    redis = await startThrowawayRedis(redis.port);
    for (const t of [a, b]) await until('Redis to be ready again', async () => (await readiness(t)).status === 200);

    // The count was in Redis: the key's limit starts again.
    expect(await code(a, limited.key)).toBe('VALID');
    // What is stored in the database is not lost with Redis.
    for (const t of [a, b]) {
      expect(await code(t, revokedBefore.key)).toBe('REVOKED');
      expect((await from(t, blockedIp)).statusCode).toBe(429);
    }
    // Both processes subscribe again: a revocation through A is refused by B on the very next request.
    await until('B to be subscribed again', async () => sampleValue(String((await b.api('GET', '/metrics')).body), 'gatehouse_pubsub_subscribed') === 1);
    const victim = await a.createKey({ name: 'after the restart' });
    expect(await code(b, victim.key)).toBe('VALID');
    expect((await a.api('POST', `/v1/keys/${victim.id}/revoke`)).status).toBe(200);
    expect(await code(b, victim.key)).toBe('REVOKED');
  });

  it('down: the login form refuses (503) rather than skip its slow-down; a signing-key rotation and a certificate revocation through A reach B', async () => {
    const user = await a.createUser({ password: 'correct horse battery staple' });
    const webClient = await a.createClient();
    const browser = new FormBrowser(a.issuer);
    const page = await browser.get(
      `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: webClient.clientId, redirect_uri: 'https://app.example/callback', scope: 'openid', code_challenge: pkcePair().challenge, code_challenge_method: 'S256' })}`,
    );
    const fields = hiddenFields(await page.text());
    const service = await a.createClient({ grantTypes: ['client_credentials'], redirectUris: [], scopes: ['read'] });
    const auth = basicAuth(service.clientId, service.clientSecret);
    await a.services.ca.init();
    await b.services.ca.reload();
    const issued = await a.services.ca.issue({ binding: { kind: 'service', service: 'billing' }, tenantId: null, lifetimeSeconds: 3600, actor: { keyId: null } });
    const certificate = new X509Certificate(issued.certificatePem);
    expect(b.services.ca.verify(certificate).ok).toBe(true);

    await proxy.cut();
    try {
      await until('A to see Redis down', async () => (await readiness(a)).status === 503);
      const login = await browser.submit('/oauth/authorize/login', { ...fields, email: user.email, password: 'correct horse battery staple' });
      expect(login.status).toBe(503);

      // A key rotated in through A (signing at once) signs A's tokens; B loads it when it meets its kid.
      const rotated = await a.api('POST', '/v1/signing-keys/rotate', { body: { activateAfterSeconds: 0 } });
      expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
      const token = await oauth(a, '/oauth/token', auth, { grant_type: 'client_credentials', scope: 'read' });
      expect(token.status).toBe(200);
      expect(JSON.parse(Buffer.from(token.body.access_token.split('.')[0], 'base64url').toString()).kid).toBe(rotated.body.kid);
      await until('B to accept a token signed with the key rotated in through A', async () => (await oauth(b, '/oauth/introspect', auth, { token: token.body.access_token })).body.active === true);

      // A certificate revoked through A is refused by B at its next poll.
      await a.services.ca.revoke(issued.record, 'keyCompromise', { keyId: null });
      await until('B to refuse the certificate revoked through A', async () => b.services.ca.verify(certificate).ok === false);
    } finally {
      await proxy.restore();
    }
  });
});

describe('IP blocks reloaded (every poll) while this process blocks or unblocks', () => {
  it('a read that started before a block or an unblock was stored does not undo it', async () => {
    const t = await createTestApp();
    try {
      const store = t.services.stores.ipBlocks;
      // The real store, with its reads held after they have read until the test lets them answer.
      let held: { read: Promise<void>; release: () => void } | undefined;
      const hold = () => {
        let read!: () => void;
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        held = { read: new Promise<void>((resolve) => (read = resolve)), release };
        return { read, gate };
      };
      let pending: { read: () => void; gate: Promise<void> } | undefined;
      const gated: IpBlockStore = {
        upsert: (block, events) => store.upsert(block, events),
        remove: (ip, now, events) => store.remove(ip, now, events),
        async listActive(now) {
          const rows = await store.listActive(now);
          const wait = pending;
          pending = undefined;
          if (wait) {
            wait.read();
            await wait.gate;
          }
          return rows;
        },
      };
      const blocks = await IpBlocks.open({ store: gated, pubsub: new MemoryPubSub(), clock: t.clock, isAllowed: () => false, onError: () => {} });

      pending = hold();
      const before = blocks.reload();
      await held!.read; // it has read: nothing blocked
      await blocks.block('198.51.100.7', { reason: 'test', failures: null, seconds: 600 });
      held!.release();
      await before;
      expect(blocks.retryAfterSeconds('198.51.100.7')).toBe(600);

      pending = hold();
      const again = blocks.reload();
      await held!.read; // it has read: blocked
      await blocks.unblock('198.51.100.7', null, null);
      held!.release();
      await again;
      expect(blocks.retryAfterSeconds('198.51.100.7')).toBe(0);

      // A plain reload still replaces what is held with what is stored.
      await store.upsert({ ip: '198.51.100.8', reason: 'elsewhere', failures: null, createdAt: t.clock.now(), expiresAt: t.clock.now() + 60_000 }, []);
      await blocks.reload();
      expect([blocks.retryAfterSeconds('198.51.100.7'), blocks.retryAfterSeconds('198.51.100.8')]).toEqual([0, 60]);
    } finally {
      await t.close();
    }
  });
});

describe('the CA reloaded (every poll) while this process revokes a certificate', () => {
  it('a read that started before the revocation was stored does not lift it', async () => {
    const t = await createTestApp();
    try {
      await t.services.ca.init();
      const store = t.services.stores.certificates;
      // The real store, its reads of the revocations held after they have read until the test lets them answer.
      let pending: { read: () => void; gate: Promise<void> } | undefined;
      const gated = new Proxy(store, {
        get(target, property) {
          if (property === 'listRevoked') {
            return async (now: number) => {
              const rows = await target.listRevoked(now);
              const wait = pending;
              pending = undefined;
              if (wait) {
                wait.read();
                await wait.gate;
              }
              return rows;
            };
          }
          const value = Reflect.get(target, property) as unknown;
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }) as CertificateStore;
      const ca = await CertificateAuthority.open({
        store: gated,
        secretBox: t.services.secretBox,
        clock: t.clock,
        // Pub/sub that loses every message, as while Redis is down: no echo of its own announcement reloads it.
        pubsub: { publish: async () => {}, subscribe: async () => {}, onResubscribe: () => {}, close: async () => {} },
        trustDomain: () => 'example.test',
        crlBaseUrl: () => 'https://gatehouse.example/ca/crl',
        maxLifetimeSeconds: 86_400,
      });
      try {
        const issued = await ca.issue({ binding: { kind: 'service', service: 'billing' }, tenantId: null, lifetimeSeconds: 3600, actor: { keyId: null } });
        const certificate = new X509Certificate(issued.certificatePem);
        expect(ca.verify(certificate).ok).toBe(true);

        let read!: () => void;
        let release!: () => void;
        const wasRead = new Promise<void>((resolve) => (read = resolve));
        pending = { read, gate: new Promise<void>((resolve) => (release = resolve)) };
        const reloading = ca.reload();
        await wasRead; // it has read: nothing revoked
        await ca.revoke(issued.record, 'keyCompromise', { keyId: null });
        expect(ca.verify(certificate).ok).toBe(false);
        release();
        await reloading;
        expect(ca.verify(certificate).ok).toBe(false);
        await ca.reload();
        expect(ca.verify(certificate).ok).toBe(false);
      } finally {
        await ca.close();
      }
    } finally {
      await t.close();
    }
  });
});
