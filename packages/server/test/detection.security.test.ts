import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { fastVerifyOf } from '../src/http/build-app.js';
import { unknownTokenVerdict } from '../src/core/detection/unknown-token-limit.js';
import { createPgSchema, dialects } from './helpers/databases.js';
import { testDatabaseUrl, testRedisUrl } from './helpers/env.js';
import { basicAuth, createOAuthTestApp, FormBrowser, hiddenFields, pkcePair, type OAuthTestApp } from './helpers/oauth.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

// Failed-authentication tracking per client IP, IP blocks, and the per-account login slow-down (docs/protection.md).

/** A random documentation-range address per call, so runs sharing one Redis never count each other's failures. */
const randomIp = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

async function inject(t: TestApp, ip: string, method: string, url: string, options: { key?: string | null; body?: unknown; headers?: Record<string, string> } = {}) {
  const key = options.key === undefined ? t.rootKey : options.key;
  const response = await t.app.inject({
    method: method as 'GET',
    url,
    remoteAddress: ip,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { payload: JSON.stringify(options.body) } : {}),
  });
  return { status: response.statusCode, headers: response.headers, body: response.json() as any };
}

/** A well-formed key nobody holds: a failed admin authentication. */
const badKey = () => generateApiKey('live').key;

async function alertsOf(t: TestApp, type: string) {
  await t.services.detection.settled();
  return t.services.stores.audit.list({ type: type as 'alert.brute_force', limit: 100 });
}

describe.each(dialects)('credential stuffing from one IP (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ dialect, env: { GATEHOUSE_DETECTION_ALLOW_LIST: '192.0.2.0/24, 2001:db8:feed::/48' } });
  });
  afterAll(() => t.close());

  it('alerts after more than 10 failures a minute, blocks after more than 100 (429 + Retry-After), spares other IPs, then lifts', async () => {
    const attacker = '203.0.113.7';
    for (let i = 1; i <= 10; i++) expect((await inject(t, attacker, 'GET', '/v1/keys', { key: badKey() })).status).toBe(401);
    expect(await alertsOf(t, 'alert.credential_stuffing')).toEqual([]);

    expect((await inject(t, attacker, 'GET', '/v1/keys', { key: badKey() })).status).toBe(401);
    const [first, ...none] = await alertsOf(t, 'alert.credential_stuffing');
    expect(none).toEqual([]);
    expect(first).toMatchObject({ ip: attacker, reason: 'failed_authentications', details: { count: 1, failures: 11, windowSeconds: 60 } });
    expect(t.logs.some((line) => line.includes('"alert":"alert.credential_stuffing"') && line.includes('"level":40'))).toBe(true);

    // Failures of every kind count: bad keys presented for verification (on behalf of no one: the socket IP).
    for (let i = 12; i <= 100; i++) {
      const response = await inject(t, attacker, 'POST', '/v1/keys/verify', { body: { key: i % 2 ? badKey() : 'sk_live_garbage' } });
      expect(response.body.valid).toBe(false);
    }
    expect(await alertsOf(t, 'alert.brute_force')).toEqual([]);
    expect((await inject(t, attacker, 'GET', '/v1/keys', { key: badKey() })).status).toBe(401);
    const [bruteForce] = await alertsOf(t, 'alert.brute_force');
    expect(bruteForce).toMatchObject({ ip: attacker, details: { failures: 101, count: 1 } });

    // Blocked: 429 before any credential work, even with the right key.
    const blocked = await inject(t, attacker, 'GET', '/v1/keys');
    expect(blocked.status).toBe(429);
    expect(blocked.headers['retry-after']).toBe('900');
    expect(blocked.body).toEqual({ error: 'ip_blocked', error_description: expect.any(String), request_id: expect.stringMatching(/^req_/) });
    expect((await inject(t, attacker, 'POST', '/v1/keys/verify', { body: { key: badKey() } })).status).toBe(429);
    // The same address written another way (IPv4-mapped IPv6) is the same client.
    expect((await inject(t, `::ffff:${attacker}`, 'GET', '/v1/keys')).status).toBe(429);

    // Everyone else is unaffected.
    expect((await inject(t, '198.51.100.9', 'GET', '/v1/keys')).status).toBe(200);

    const list = await inject(t, '198.51.100.9', 'GET', '/v1/blocks');
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([
      { ip: attacker, object: 'ip_block', reason: 'brute_force', failures: 101, createdAt: expect.any(String), expiresAt: new Date(t.clock.now() + 900_000).toISOString() },
    ]);
    await t.services.audit.flush();
    expect(await t.services.stores.audit.list({ type: 'ip.blocked', limit: 10 })).toHaveLength(1);

    // The metrics saw it: one block, the three refused requests, one alert of each kind so far.
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '198.51.100.9', headers: { authorization: `Bearer ${t.rootKey}` } });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(/^gatehouse_ip_blocks_total 1$/m);
    expect(metrics.body).toMatch(/^gatehouse_blocked_requests_total 3$/m);
    expect(metrics.body).toMatch(/^gatehouse_alerts_total\{type="alert.credential_stuffing"\} 1$/m);
    expect(metrics.body).toMatch(/^gatehouse_alerts_total\{type="alert.brute_force"\} 1$/m);

    // One alert per cause per window: the repeats come as one follow-up alert with their count.
    t.clock.advance(61_000);
    await t.services.detection.alerts.flushDue();
    const stuffing = await alertsOf(t, 'alert.credential_stuffing');
    expect(stuffing.map((alert) => alert.details?.count)).toEqual([89, 1]);

    // The block ends by itself after 15 minutes.
    t.clock.advance(15 * 60_000);
    expect((await inject(t, attacker, 'GET', '/v1/keys')).status).toBe(200);
    expect((await inject(t, attacker, 'GET', '/v1/blocks')).body.data).toEqual([]);
  });

  it('counts and blocks an IPv6 client by its /64: a new address per guess gains nothing; the next /64 is another client', async () => {
    for (let i = 1; i <= 101; i++) {
      expect((await inject(t, `2001:db8:aa:bb:${i.toString(16)}::1`, 'GET', '/v1/keys', { key: badKey() })).status).toBe(401);
    }
    await t.services.detection.settled();
    expect((await inject(t, '2001:db8:aa:bb:ffff:ffff:ffff:fffe', 'GET', '/v1/keys')).status).toBe(429);
    expect((await inject(t, '2001:db8:aa:bc::1', 'GET', '/v1/keys')).status).toBe(200);
    const blocks = (await inject(t, '198.51.100.9', 'GET', '/v1/blocks')).body.data.map((b: any) => b.ip);
    expect(blocks).toContain('2001:db8:aa:bb::/64');
    expect((await inject(t, '198.51.100.9', 'DELETE', '/v1/blocks/2001:db8:aa:bb::7')).status).toBe(200);
  });

  it('never blocks an allow-listed network (IPv4 and IPv6), though it still alerts', async () => {
    for (const friend of ['192.0.2.44', '2001:db8:feed:1::9']) {
      for (let i = 0; i < 120; i++) await inject(t, friend, 'GET', '/v1/keys', { key: badKey() });
      expect((await inject(t, friend, 'GET', '/v1/keys')).status).toBe(200);
      const client = friend.includes(':') ? '2001:db8:feed:1::/64' : friend;
      const alert = (await alertsOf(t, 'alert.brute_force')).find((a) => a.ip === client);
      expect(alert?.details).toMatchObject({ blocked: false, allowListed: true });
    }
    expect((await inject(t, '198.51.100.9', 'GET', '/v1/blocks')).body.data).toEqual([]);
  });

  it('does not count valid credentials that are refused for other reasons (scope, rate limit, no credentials)', async () => {
    const ip = randomIp();
    const reader = await t.createKey({ scopes: ['keys:read'] });
    const limited = await t.createKey({ rateLimit: { limit: 1, windowSeconds: 3600 } });
    for (let i = 0; i < 110; i++) {
      await inject(t, ip, 'POST', '/v1/keys', { key: reader.key, body: { name: 'x' } });
      await inject(t, ip, 'POST', '/v1/keys/verify', { body: { key: limited.key } });
      await inject(t, ip, 'GET', '/v1/keys', { key: null });
    }
    expect((await inject(t, ip, 'GET', '/v1/keys')).status).toBe(200);
    expect((await alertsOf(t, 'alert.credential_stuffing')).filter((a) => a.ip === ip)).toEqual([]);
  });
});

describe('verifying on behalf of a client (clientIp)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { GATEHOUSE_DETECTION_ALERT_THRESHOLD: '3', GATEHOUSE_DETECTION_BLOCK_THRESHOLD: '6' } });
  });
  afterAll(() => t.close());

  it('counts failures against the end client, not the API server, and refuses a blocked client with 429', async () => {
    const apiServer = '198.51.100.20';
    const verifier = await t.createKey({ scopes: ['keys:verify'] });
    const good = await t.createKey();
    const client = '2001:DB8:0:0::77';
    for (let i = 0; i < 7; i++) {
      const response = await inject(t, apiServer, 'POST', '/v1/keys/verify', { key: verifier.key, body: { key: badKey(), clientIp: client } });
      expect(response.body).toMatchObject({ valid: false, code: 'NOT_FOUND' });
    }
    await t.services.detection.settled();
    const blocked = await inject(t, apiServer, 'POST', '/v1/keys/verify', { key: verifier.key, body: { key: good.key, clientIp: client } });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error).toBe('client_ip_blocked');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // The API server itself, and its other clients, go on.
    expect((await inject(t, apiServer, 'POST', '/v1/keys/verify', { key: verifier.key, body: { key: good.key } })).body.valid).toBe(true);
    expect((await inject(t, apiServer, 'POST', '/v1/keys/verify', { key: verifier.key, body: { key: good.key, clientIp: '198.51.100.99' } })).body.valid).toBe(true);
    expect((await inject(t, apiServer, 'GET', '/v1/blocks')).body.data.map((b: any) => b.ip)).toEqual(['2001:db8::/64']);
    // A failure is audited with the end client's address (successes are counted, not audited).
    expect((await inject(t, apiServer, 'POST', '/v1/keys/verify', { key: verifier.key, body: { key: badKey(), clientIp: '198.51.100.99' } })).body.valid).toBe(false);
    await t.services.audit.flush();
    const [latest] = await t.services.stores.audit.list({ type: 'key.verification', limit: 1 });
    expect(latest!.ip).toBe('198.51.100.99');
  });

  it('a tenant-bound verifier cannot get an address blocked for everyone: its clientIp is recorded and checked, not counted', async () => {
    const verifier = await t.createKey({ scopes: ['keys:verify'], tenantId: 'acme' });
    const victim = '203.0.113.200';
    for (let i = 0; i < 10; i++) {
      const response = await inject(t, '198.51.100.21', 'POST', '/v1/keys/verify', { key: verifier.key, body: { key: badKey(), clientIp: victim } });
      expect(response.body).toMatchObject({ valid: false, code: 'NOT_FOUND' });
    }
    await t.services.detection.settled();
    expect((await inject(t, victim, 'GET', '/v1/keys')).status).toBe(200);
    expect((await inject(t, randomIp(), 'GET', '/v1/blocks')).body.data.map((b: any) => b.ip)).not.toContain(victim);
    expect((await alertsOf(t, 'alert.credential_stuffing')).filter((a) => a.ip === victim)).toEqual([]);
    await t.services.audit.flush();
    const [latest] = await t.services.stores.audit.list({ type: 'key.verification', limit: 1 });
    expect(latest).toMatchObject({ ip: victim, actorKeyId: verifier.id, details: { clientIpClaimedByTenant: true } });
    // A blocked address is still refused to a tenant-bound verifier.
    const blocked = '2001:db8::78';
    expect((await inject(t, '198.51.100.21', 'POST', '/v1/keys/verify', { key: verifier.key, body: { key: badKey(), clientIp: blocked } })).status).toBe(429);
  });

  it('refuses a clientIp that is not an address', async () => {
    for (const clientIp of ['not-an-ip', '10.0.0.256', '::g']) {
      const response = await inject(t, randomIp(), 'POST', '/v1/keys/verify', { body: { key: badKey(), clientIp } });
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_request');
    }
  });
});

describe('the verify fast path checks blocks too', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp({ env: { GATEHOUSE_LOG_LEVEL: 'warn' } });
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => t.close());

  const verify = (body: unknown) =>
    fetch(`${base}/v1/keys/verify`, { method: 'POST', headers: { authorization: `Bearer ${t.rootKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('answers 429 for a blocked socket address or a blocked clientIp, and verifies for everyone else', async () => {
    const good = await t.createKey();
    const stats = fastVerifyOf(t.app)!.stats;
    expect((await verify({ key: good.key, clientIp: '198.51.100.5' })).status).toBe(200);
    const answered = stats.answered;
    expect(answered).toBeGreaterThan(0);

    await t.services.detection.blocks.block('198.51.100.5', { reason: 'test', failures: null, seconds: 60 });
    const byClientIp = await verify({ key: good.key, clientIp: '198.51.100.5' });
    expect(byClientIp.status).toBe(429);
    // A code of its own: the verifier can tell its client's block from its own (ip_blocked).
    expect(((await byClientIp.json()) as { error: string }).error).toBe('client_ip_blocked');
    expect(byClientIp.headers.get('retry-after')).toBe('60');

    await t.services.detection.blocks.block('127.0.0.1', { reason: 'test', failures: null, seconds: 30 });
    const bySocket = await verify({ key: good.key });
    expect(bySocket.status).toBe(429);
    expect(bySocket.headers.get('retry-after')).toBe('30');
    expect(stats.answered).toBe(answered);

    await t.services.detection.blocks.unblock('127.0.0.1', null, null);
    expect((await verify({ key: good.key })).status).toBe(200);
    expect(stats.answered).toBe(answered + 1);
  });
});

describe('managing blocks: GET /v1/blocks, DELETE /v1/blocks/{ip}', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('unblocks at once, audits who did it, and answers 404 for an address not blocked', async () => {
    await t.services.detection.blocks.block('2001:db8::5', { reason: 'brute_force', failures: 101, seconds: 900 });
    expect((await inject(t, '2001:db8::5', 'GET', '/v1/keys')).status).toBe(429);
    const removed = await inject(t, '198.51.100.1', 'DELETE', '/v1/blocks/2001:DB8:0::5');
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ ip: '2001:db8::/64', object: 'ip_block', reason: 'brute_force' });
    expect((await inject(t, '2001:db8::5', 'GET', '/v1/keys')).status).toBe(200);
    expect((await inject(t, '198.51.100.1', 'DELETE', '/v1/blocks/2001:db8::5')).status).toBe(404);
    const [event] = await t.services.stores.audit.list({ type: 'ip.unblocked', limit: 1 });
    expect(event).toMatchObject({ ip: '198.51.100.1', details: { subject: '2001:db8::/64' } });
    // The /64 itself can be named too (URL-encoded); anything else is refused.
    await t.services.detection.blocks.block('2001:db8:1:2::9', { reason: 'brute_force', failures: 101, seconds: 900 });
    expect((await inject(t, '198.51.100.1', 'DELETE', `/v1/blocks/${encodeURIComponent('2001:db8:1:2::/64')}`)).status).toBe(200);
    for (const bad of ['2001:db8::/48', '192.0.2.1/64', 'not-an-ip']) {
      expect((await inject(t, '198.51.100.1', 'DELETE', `/v1/blocks/${encodeURIComponent(bad)}`)).status, bad).toBe(400);
    }
  });

  it('needs blocks:read / blocks:write, and a key of no tenant', async () => {
    const reader = await t.createKey({ scopes: ['blocks:read'] });
    const tenantAdmin = await t.createKey({ scopes: ['blocks:read', 'blocks:write'], tenantId: 'acme' });
    expect((await inject(t, randomIp(), 'GET', '/v1/blocks', { key: reader.key })).status).toBe(200);
    expect((await inject(t, randomIp(), 'DELETE', '/v1/blocks/10.0.0.1', { key: reader.key })).body.error).toBe('insufficient_scope');
    expect((await inject(t, randomIp(), 'GET', '/v1/blocks', { key: tenantAdmin.key })).status).toBe(403);
    expect((await inject(t, randomIp(), 'DELETE', '/v1/blocks/10.0.0.1', { key: tenantAdmin.key })).status).toBe(403);
    expect((await inject(t, randomIp(), 'GET', '/v1/blocks', { key: null })).status).toBe(401);
    const garbage = await inject(t, randomIp(), 'DELETE', '/v1/blocks/not-an-address');
    expect(garbage.status).toBe(400);
    expect(garbage.body.error).toBe('invalid_request');
  });
});

describe('the client IP behind a trusted proxy (GATEHOUSE_TRUST_PROXY)', () => {
  it('blocks the X-Forwarded-For client of a trusted proxy, and ignores the header from anyone else', async () => {
    const t = await createTestApp({ env: { GATEHOUSE_TRUST_PROXY: '10.9.9.9', GATEHOUSE_DETECTION_ALERT_THRESHOLD: '2', GATEHOUSE_DETECTION_BLOCK_THRESHOLD: '3' } });
    try {
      const viaProxy = (client: string, key?: string | null) => inject(t, '10.9.9.9', 'GET', '/v1/keys', { key, headers: { 'x-forwarded-for': client } });
      for (let i = 0; i < 4; i++) await viaProxy('203.0.113.50', badKey());
      await t.services.detection.settled();
      expect((await viaProxy('203.0.113.50')).status).toBe(429);
      expect((await viaProxy('203.0.113.51')).status).toBe(200);
      // Not from the trusted proxy: the header is not believed, the socket address is the client.
      expect((await inject(t, '10.1.1.1', 'GET', '/v1/keys', { headers: { 'x-forwarded-for': '203.0.113.50' } })).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('brute force against one OAuth client secret at /oauth/token', () => {
  let t: OAuthTestApp;
  beforeAll(async () => {
    t = await createOAuthTestApp({ env: { GATEHOUSE_DETECTION_ALLOW_LIST: '' } });
  });
  afterAll(() => t.close());

  const token = (auth: string) =>
    fetch(`${t.issuer}/oauth/token`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });

  it('blocks the guessing IP after more than 100 wrong secrets; then even the right secret gets 429', async () => {
    const client = await t.createClient({ grantTypes: ['client_credentials'], redirectUris: [], scopes: ['read'] });
    for (let i = 0; i < 101; i++) expect((await token(basicAuth(client.clientId, `cs_wrong_${i}`))).status).toBe(401);
    const [alert] = await alertsOf(t, 'alert.brute_force');
    expect(alert).toMatchObject({ ip: '127.0.0.1', details: { failures: 101, lastFailure: { type: 'client.authentication', reason: 'wrong_secret' } } });
    const blocked = await token(basicAuth(client.clientId, client.clientSecret));
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBe('900');
    expect(((await blocked.json()) as { error: string }).error).toBe('ip_blocked');
    await t.services.detection.blocks.unblock('127.0.0.1', null, null);
    expect((await token(basicAuth(client.clientId, client.clientSecret))).status).toBe(200);
  });

  it('counts refresh tokens that do not work (oauth.token failures with the client IP)', async () => {
    const client = await t.createClient({ grantTypes: ['refresh_token', 'authorization_code'] });
    const response = await fetch(`${t.issuer}/oauth/token`, {
      method: 'POST',
      headers: { authorization: basicAuth(client.clientId, client.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&refresh_token=not-a-real-token',
    });
    expect(response.status).toBe(400);
    await t.services.audit.flush();
    const [event] = (await t.services.stores.audit.list({ type: 'oauth.token', limit: 10 })).filter((e) => e.outcome === 'failure');
    expect(event).toMatchObject({ ip: '127.0.0.1', reason: 'unknown refresh token', details: { clientId: client.clientId, grantType: 'refresh_token' } });
  });
});

describe('per-account login slow-down', () => {
  const delays: number[] = [];
  let t: OAuthTestApp;
  beforeAll(async () => {
    t = await createOAuthTestApp({
      env: { GATEHOUSE_LOGIN_DELAY_MAX_MS: '3000' },
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
  });
  afterAll(() => t.close());

  it('doubles the delay per failure up to the cap, and the right password still works after it', async () => {
    const password = 'correct horse battery staple';
    const user = await t.createUser({ password });
    const client = await t.createClient();
    const browser = new FormBrowser(t.issuer);
    const page = await browser.get(
      `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: 'https://app.example/callback', scope: 'openid', code_challenge: pkcePair().challenge, code_challenge_method: 'S256' })}`,
    );
    const fields = hiddenFields(await page.text());
    const attempt = async (pw: string) => (await browser.submit('/oauth/authorize/login', { ...fields, email: user.email.toUpperCase(), password: pw })).status;

    for (let i = 0; i < 8; i++) expect(await attempt(`wrong-${i}`)).toBe(400);
    expect(delays).toEqual([250, 500, 1000, 2000, 3000]);
    // After many more failures the delay stays capped: never a lockout.
    for (let i = 0; i < 20; i++) await attempt('still-wrong');
    expect(Math.max(...delays)).toBe(3000);
    delays.length = 0;
    expect([200, 303]).toContain(await attempt(password));
    expect(delays).toEqual([3000]);
    // A success clears the account's count.
    delays.length = 0;
    expect(await attempt('wrong-again')).toBe(400);
    expect(delays).toEqual([]);
  });

  it('slows one account without slowing another', async () => {
    delays.length = 0;
    const client = await t.createClient();
    const browser = new FormBrowser(t.issuer);
    const page = await browser.get(
      `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: 'https://app.example/callback', scope: 'openid', code_challenge: pkcePair().challenge, code_challenge_method: 'S256' })}`,
    );
    const fields = hiddenFields(await page.text());
    for (let i = 0; i < 5; i++) await browser.submit('/oauth/authorize/login', { ...fields, email: 'victim@example.com', password: 'guess' });
    const before = delays.length;
    await browser.submit('/oauth/authorize/login', { ...fields, email: 'someone-else@example.com', password: 'guess' });
    expect(delays.length).toBe(before);
  });
});

describe.skipIf(!testDatabaseUrl)('failures during a storage outage are not counted', () => {
  it('answers 503 and neither counts nor blocks', async () => {
    const upstream = new URL(testDatabaseUrl!);
    const proxy = await startTcpProxy({ host: upstream.hostname, port: Number(upstream.port || 5432) });
    const schema = await createPgSchema();
    const proxied = new URL(testDatabaseUrl!);
    proxied.port = String(proxy.port);
    const t = await createTestApp({
      dialect: 'postgres',
      pgSchema: { url: proxied.toString(), schema: schema.schema },
      env: { GATEHOUSE_DETECTION_ALERT_THRESHOLD: '2', GATEHOUSE_DETECTION_BLOCK_THRESHOLD: '3' },
    });
    try {
      const ip = randomIp();
      await proxy.cut();
      for (let i = 0; i < 10; i++) {
        // Uncached keys: verification and admin authentication both need the database.
        expect((await inject(t, ip, 'POST', '/v1/keys/verify', { body: { key: badKey() } })).status).toBe(503);
        expect((await inject(t, ip, 'GET', '/v1/keys', { key: badKey() })).status).toBe(503);
      }
      await t.services.detection.settled();
      await proxy.restore();
      expect((await inject(t, ip, 'GET', '/v1/keys')).status).toBe(200);
      expect(await alertsOf(t, 'alert.credential_stuffing')).toEqual([]);
      expect(await t.services.detection.blocks.list()).toEqual([]);
    } finally {
      await t.close();
      await proxy.close();
      await schema.drop();
    }
  });
});

describe.skipIf(!testDatabaseUrl || !testRedisUrl)('cluster: two instances sharing PostgreSQL and Redis', () => {
  let schema: Awaited<ReturnType<typeof createPgSchema>>;
  let a: TestApp;
  let b: TestApp;
  const env = { GATEHOUSE_DETECTION_ALERT_THRESHOLD: '4', GATEHOUSE_DETECTION_BLOCK_THRESHOLD: '9' };
  beforeAll(async () => {
    schema = await createPgSchema();
    a = await createTestApp({ dialect: 'postgres', redis: true, pgSchema: schema, env });
    b = await createTestApp({ dialect: 'postgres', redis: true, pgSchema: schema, env, rootKey: a.rootKey });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await schema?.drop();
  });

  it('counts failures across instances, blocks on both, and DELETE on one unblocks on every instance', async () => {
    const ip = randomIp();
    for (let i = 0; i < 5; i++) {
      await inject(a, ip, 'GET', '/v1/keys', { key: badKey() });
      await inject(b, ip, 'GET', '/v1/keys', { key: badKey() });
    }
    await a.services.detection.settled();
    await b.services.detection.settled();
    // Ten failures in all, five on each: more than 9 together, so blocked, on both.
    expect((await inject(a, ip, 'GET', '/v1/keys')).status).toBe(429);
    expect((await inject(b, ip, 'GET', '/v1/keys')).status).toBe(429);
    const blocks = await b.services.stores.ipBlocks.listActive(b.clock.now());
    expect(blocks.map((block) => block.ip)).toEqual([ip]);

    expect((await inject(a, randomIp(), 'DELETE', `/v1/blocks/${ip}`)).status).toBe(200);
    expect((await inject(b, ip, 'GET', '/v1/keys')).status).toBe(200);
    expect((await inject(a, ip, 'GET', '/v1/keys')).status).toBe(200);
  });

  it('keeps a block through a Redis restart: the database is the source of truth', async () => {
    const ip = randomIp();
    for (let i = 0; i < 10; i++) await inject(a, ip, 'GET', '/v1/keys', { key: badKey() });
    await a.services.detection.settled();
    expect((await inject(b, ip, 'GET', '/v1/keys')).status).toBe(429);

    // What a Redis restart loses: every counter of this address (other test runs share the server: no FLUSHALL).
    const { Redis } = await import('ioredis');
    const redis = new Redis(testRedisUrl!);
    try {
      const keys = await redis.keys(`gatehouse:detect:ip:${ip}:*`);
      expect(keys.length).toBeGreaterThan(0);
      await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
    // A process (re)started now loads the block from the database.
    const c = await createTestApp({ dialect: 'postgres', redis: true, pgSchema: schema, env, rootKey: a.rootKey });
    try {
      c.clock.set(a.clock.now());
      const blocked = await inject(c, ip, 'GET', '/v1/keys');
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(800);
      expect((await inject(c, randomIp(), 'GET', '/v1/keys')).status).toBe(200);
    } finally {
      await c.close();
    }
  });
});

describe.each([
  ['in memory', false],
  ['in Redis', true],
] as const)('unknown tokens at /oauth/introspect and /oauth/revoke are counted per caller (%s)', (_where, redis) => {
  let t: OAuthTestApp;
  const LIMIT = 3;
  beforeAll(async () => {
    if (redis && !testRedisUrl) return;
    t = await createOAuthTestApp({ redis, env: { GATEHOUSE_DETECTION_UNKNOWN_TOKEN_LIMIT: String(LIMIT) } });
  });
  afterAll(() => t?.close());

  const form = async (path: string, body: Record<string, string>, authorization: string) => {
    const response = await fetch(`${t.issuer}${path}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body),
    });
    const text = await response.text();
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: text ? JSON.parse(text) : undefined };
  };
  async function tokenOf(client: { clientId: string; clientSecret: string }) {
    return (await form('/oauth/token', { grant_type: 'client_credentials', scope: 'read' }, basicAuth(client.clientId, client.clientSecret))).body.access_token as string;
  }
  const newClient = () => t.createClient({ grantTypes: ['client_credentials'], redirectUris: [], scopes: ['read'], audiences: ['https://api.example'] });

  it.skipIf(redis && !testRedisUrl)('answers each unknown token as RFC 7009/7662 say, then 429 past the limit until the window ends; audited and alerted', async () => {
    const prober = await newClient();
    const bystander = await newClient();
    const auth = basicAuth(prober.clientId, prober.clientSecret);
    const genuine = await tokenOf(prober);
    const unknown = ['random-garbage', `gatehouse_rt_${'A'.repeat(43)}`, `${genuine.slice(0, -6)}AAAAAA`];
    // Within the limit: silent, and answered exactly as before.
    expect((await form('/oauth/revoke', { token: unknown[0]! }, auth)).status).toBe(200);
    expect((await form('/oauth/introspect', { token: unknown[1]! }, auth)).body).toStrictEqual({ active: false });
    expect((await form('/oauth/revoke', { token: unknown[2]! }, auth)).status).toBe(200);
    // One more: the limit is exceeded, and this request is refused.
    const over = await form('/oauth/revoke', { token: 'one-too-many' }, auth);
    expect(over.status).toBe(429);
    expect(over.body.error).toBe('rate_limited');
    expect(Number(over.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(over.retryAfter)).toBeLessThanOrEqual(60);
    // Until the window ends, the client gets 429 at both endpoints, whatever it sends (no oracle for known tokens).
    expect((await form('/oauth/introspect', { token: genuine }, auth)).status).toBe(429);
    expect((await form('/oauth/revoke', { token: genuine }, auth)).status).toBe(429);
    // Other clients are not affected.
    const bystanderAuth = basicAuth(bystander.clientId, bystander.clientSecret);
    expect((await form('/oauth/introspect', { token: await tokenOf(bystander) }, bystanderAuth)).body.active).toBe(true);
    expect((await form('/oauth/revoke', { token: 'garbage' }, bystanderAuth)).status).toBe(200);

    await t.services.audit.flush();
    const alerts = await alertsOf(t, 'alert.unknown_tokens');
    const mine = alerts.filter((a) => (a.details as any)?.clientId === prober.clientId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ reason: 'unknown_tokens', details: { unknownTokens: LIMIT + 1, limit: LIMIT } });
    const revocations = await t.services.stores.audit.list({ type: 'oauth.revocation', limit: 100 });
    expect(revocations.filter((e) => e.reason === 'unknown_token' && (e.details as any)?.clientId === prober.clientId)).toHaveLength(3);
    const introspections = await t.services.stores.audit.list({ type: 'oauth.introspection', limit: 100 });
    expect(introspections.filter((e) => e.reason === 'unknown_token' && (e.details as any)?.clientId === prober.clientId)).toHaveLength(1);
    // Nothing here counts toward an IP block: the caller is authenticated, so the client is the unit.
    expect(await alertsOf(t, 'alert.credential_stuffing')).toHaveLength(0);

    // The next window: answered again.
    t.clock.advance(60_000);
    expect((await form('/oauth/introspect', { token: await tokenOf(prober) }, auth)).body.active).toBe(true);
    expect((await form('/oauth/revoke', { token: 'garbage again' }, auth)).status).toBe(200);
  });

  it.skipIf(redis && !testRedisUrl)('an admin key introspecting is counted by its key id, apart from any client', async () => {
    const { key, id } = await t.createKey({ name: 'introspector', scopes: ['tokens:introspect'] });
    const auth = `Bearer ${key}`;
    for (let i = 0; i < LIMIT; i++) expect((await form('/oauth/introspect', { token: `made-up-${i}` }, auth)).body).toStrictEqual({ active: false });
    expect((await form('/oauth/introspect', { token: 'made-up-again' }, auth)).status).toBe(429);
    const client = await newClient();
    expect((await form('/oauth/introspect', { token: await tokenOf(client) }, auth)).status).toBe(429);
    expect((await form('/oauth/introspect', { token: await tokenOf(client) }, basicAuth(client.clientId, client.clientSecret))).body.active).toBe(true);
    const alerts = await alertsOf(t, 'alert.unknown_tokens');
    expect(alerts.filter((a) => (a.details as any)?.keyId === id)).toHaveLength(1);
  });

  it.skipIf(redis && !testRedisUrl)('expired, revoked and other clients\' tokens are not unknown, and are never counted', async () => {
    const client = await newClient();
    const other = await newClient();
    const auth = basicAuth(client.clientId, client.clientSecret);
    const othersToken = await tokenOf(other);
    const revoked = await tokenOf(client);
    expect((await form('/oauth/revoke', { token: revoked }, auth)).status).toBe(200);
    const saved = t.clock.now();
    t.clock.set(saved - 2 * 3600_000);
    const expired = await tokenOf(client);
    t.clock.set(saved);
    for (let i = 0; i < LIMIT + 2; i++) {
      for (const token of [othersToken, revoked, expired]) {
        expect((await form('/oauth/revoke', { token }, auth)).status).toBe(200);
        expect((await form('/oauth/introspect', { token }, auth)).body).toStrictEqual({ active: false });
      }
    }
    expect((await form('/oauth/introspect', { token: await tokenOf(client) }, auth)).body.active).toBe(true);
  });
});

describe('unknownTokenVerdict (pure)', () => {
  it('is silent up to the limit, alerts exactly once when it is exceeded, and limits from then on', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => unknownTokenVerdict(n, 3))).toStrictEqual(['none', 'none', 'none', 'alert_and_limit', 'limit', 'limit']);
    expect(unknownTokenVerdict(1, 1)).toBe('none');
    expect(unknownTokenVerdict(2, 1)).toBe('alert_and_limit');
  });
});
