import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOAuthTestApp, type OAuthTestApp } from '../../server/test/helpers/oauth.js';
import { waitFor } from '../../server/test/helpers/spawn-server.js';
import { apiKeyChecksum, createAuthenticator, DENIAL_CODES, parseApiKey, type Authenticator, type AuthenticatorOptions, type AuthResult } from '../src/index.js';
import { forwardableClientIp, parsedIsIp } from '../src/client-ip.js';
import { startGatehouseFront, type GatehouseFront } from './helpers/gatehouse-front.js';

// The authenticator verifies API keys on behalf of the client that presented them: `clientIp` goes to
// POST /v1/keys/verify, so the real Gatehouse records it, counts failures against it and refuses it when blocked.

const AUDIENCE = 'https://api.example';
const bearer = (token: string) => `Bearer ${token}`;
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A well-formed key (checksum and all) that Gatehouse never issued. */
function unknownKey(): string {
  let body = 'sk_live_';
  for (let i = 0; i < 43; i++) body += BASE62[randomInt(BASE62.length)];
  return body + apiKeyChecksum(body);
}

interface Harness {
  t: OAuthTestApp;
  front: GatehouseFront;
  verifierKey: string;
  authenticator(options?: Partial<AuthenticatorOptions>): Authenticator;
  close(): Promise<void>;
}

async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  // Every success audited (the sampled success log, all of it): the tests read the address of each verification's event.
  const t = await createOAuthTestApp({ env: { GATEHOUSE_MANAGEMENT_RATE_LIMIT: '1000000/1', GATEHOUSE_AUDIT_SUCCESS_SAMPLE: '1', ...env } });
  const front = await startGatehouseFront(t.issuer);
  // Of no tenant: its verifications on behalf of a client count toward that client's block.
  const verifierKey = (await t.createKey({ name: 'verifier', scopes: ['keys:verify'] })).key;
  const open: Authenticator[] = [];
  return {
    t,
    front,
    verifierKey,
    authenticator(options = {}) {
      const a = createAuthenticator({ issuer: t.issuer, audience: AUDIENCE, gatehouseUrl: front.url, verifierKey, revocationStream: false, ...options });
      open.push(a);
      return a;
    },
    async close() {
      for (const a of open) a.close();
      await front.close();
      await t.close();
    },
  };
}

/** The addresses of a key's verification events, oldest first. */
async function verificationIps(t: OAuthTestApp, keyId: string): Promise<(string | null)[]> {
  const events = await t.api('GET', `/v1/audit-events?type=key.verification&keyId=${keyId}&limit=200`);
  expect(events.status).toBe(200);
  return events.body.data.map((e: { ip: string | null }) => e.ip).reverse();
}

/** The addresses of the verification events of a key Gatehouse does not know (found by type, time and prefix). */
async function unknownKeyIps(t: OAuthTestApp, key: string, since: number): Promise<(string | null)[]> {
  const prefix = (parseApiKey(key) as { displayPrefix: string }).displayPrefix;
  const events = await t.api('GET', `/v1/audit-events?type=key.verification&since=${encodeURIComponent(new Date(since).toISOString())}&limit=200`);
  expect(events.status).toBe(200);
  return events.body.data
    .filter((e: { keyPrefix: string | null; keyId: string | null }) => e.keyPrefix === prefix && e.keyId === null)
    .map((e: { ip: string | null }) => e.ip)
    .sort();
}

function expectDenied(result: AuthResult, code: string, status: number) {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect({ code: result.code, status: result.status }).toEqual({ code, status });
  expect(DENIAL_CODES).toContain(result.code);
}

describe('which values are sent', () => {
  const corpus = [
    '203.0.113.7', '0.0.0.0', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '1.2.3.4 ', '1.2.3.-4',
    '::', '::1', '1::', '2001:db8::1', '2001:DB8:0:0:0:0:0:1', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1::2::3',
    '::ffff:203.0.113.7', '::ffff:1.2.3', '::ffff:256.1.1.1', '::01.2.3.4', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4',
    '00000::1', '0000:0000::1', ':1', '1:', ':::', 'g::1', '[::1]', '::1]:80/x[', '2001:db8::1/64', '', 'localhost',
  ];

  it('without node:net, the fallback agrees with node:net isIP (zone ids aside)', () => {
    for (const value of corpus) expect(parsedIsIp(value), JSON.stringify(value)).toBe(isIP(value));
    expect(isIP('fe80::1%eth0')).toBe(6);
    expect(parsedIsIp('fe80::1%eth0')).toBe(0);
  });

  it('forwardableClientIp: addresses only, IPv4-mapped unwrapped, zone ids dropped', () => {
    for (const value of corpus) expect(forwardableClientIp(value) !== undefined, JSON.stringify(value)).toBe(isIP(value) !== 0);
    expect(forwardableClientIp('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(forwardableClientIp('::FFFF:203.0.113.7')).toBe('203.0.113.7');
    expect(forwardableClientIp('::ffff:cb00:7107')).toBe('::ffff:cb00:7107');
    expect(forwardableClientIp('fe80::1%eth0')).toBe('fe80::1');
    for (const value of [undefined, null, 42, {}, ['1.2.3.4'], '1.2.3.4'.padEnd(200, '0')]) expect(forwardableClientIp(value)).toBeUndefined();
  });
});

describe('clientIp is sent with the verification', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h?.close());

  it('the verification event carries the given address, for a valid key and for an unknown one', async () => {
    const { id, key } = await h.t.createKey({ name: 'on behalf' });
    const a = h.authenticator({ cacheTtlSeconds: 0 });
    expect((await a.authenticate(bearer(key), { clientIp: '203.0.113.7' })).ok).toBe(true);
    // A function is called for the address (only because Gatehouse is asked).
    expect((await a.authenticate(bearer(key), { clientIp: () => '2001:db8:1:2::7' })).ok).toBe(true);
    // Without one, the address is the API server's own (the socket Gatehouse sees).
    expect((await a.authenticate(bearer(key))).ok).toBe(true);
    expect(await verificationIps(h.t, id)).toEqual(['203.0.113.7', '2001:db8:1:2::7', '127.0.0.1']);

    const since = h.t.clock.now();
    const stranger = unknownKey();
    expectDenied(await a.authenticate(bearer(stranger), { clientIp: '198.51.100.23' }), 'invalid_token', 401);
    expect(await unknownKeyIps(h.t, stranger, since)).toEqual(['198.51.100.23']);
  });

  it('spellings Gatehouse reads as one address are sent as that address (IPv4-mapped, zone id)', async () => {
    const { id, key } = await h.t.createKey({ name: 'spellings' });
    const a = h.authenticator({ cacheTtlSeconds: 0 });
    for (const clientIp of ['::ffff:203.0.113.9', '::FFFF:203.0.113.10', 'fe80::1%eth0', '2001:DB8::A']) {
      expect((await a.authenticate(bearer(key), { clientIp })).ok, clientIp).toBe(true);
    }
    expect(await verificationIps(h.t, id)).toEqual(['203.0.113.9', '203.0.113.10', 'fe80::1', '2001:db8::a']);
  });

  it('a malformed clientIp is simply not sent: the verification goes on, on behalf of no one', async () => {
    const { id, key } = await h.t.createKey({ name: 'malformed' });
    const errors: Error[] = [];
    const a = h.authenticator({ cacheTtlSeconds: 0, onError: (error) => errors.push(error) });
    const malformed: unknown[] = [
      'not-an-ip',
      '',
      '999.1.1.1',
      '01.2.3.4',
      ' 203.0.113.7',
      '203.0.113.7:443',
      '[2001:db8::1]',
      '2001:db8::1/64',
      '203.0.113.7'.padEnd(200, '0'),
      42,
      null,
      ['203.0.113.7'],
      () => 'nope',
      () => undefined,
    ];
    for (const clientIp of malformed) {
      const result = await a.authenticate(bearer(key), { clientIp: clientIp as string });
      expect(result.ok, String(clientIp)).toBe(true);
    }
    // A function that throws is a bug worth knowing of, not a reason to refuse the caller.
    const thrown = await a.authenticate(bearer(key), {
      clientIp: () => {
        throw new Error('no socket');
      },
    });
    expect(thrown.ok).toBe(true);
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/clientIp.*no socket/)]);
    expect(await verificationIps(h.t, id)).toEqual(Array(malformed.length + 1).fill('127.0.0.1'));
  });

  it('single flight: one unknown key from two client addresses at once makes two requests; from one address, one', async () => {
    const a = h.authenticator();
    const stranger = unknownKey();
    const since = h.t.clock.now();
    const calls = h.front.verifyCalls;
    let release!: () => void;
    h.front.holdVerify = new Promise((resolve) => (release = resolve));
    try {
      const pending = Promise.all([
        a.authenticate(bearer(stranger), { clientIp: '203.0.113.21' }),
        a.authenticate(bearer(stranger), { clientIp: '203.0.113.21' }),
        a.authenticate(bearer(stranger), { clientIp: '203.0.113.22' }),
      ]);
      // Held until both requests arrived: all three were in flight together.
      await waitFor('both requests', async () => (h.front.verifyCalls >= calls + 2 ? true : undefined));
      release();
      for (const result of await pending) expectDenied(result, 'invalid_token', 401);
    } finally {
      h.front.holdVerify = undefined;
      release();
    }
    expect(h.front.verifyCalls).toBe(calls + 2);
    expect(await unknownKeyIps(h.t, stranger, since)).toEqual(['203.0.113.21', '203.0.113.22']);
  });

  it('a valid key stays cached by key alone: another client address is answered from the cache', async () => {
    const { id, key } = await h.t.createKey({ name: 'cached' });
    const a = h.authenticator({ cacheTtlSeconds: 600 });
    let reads = 0;
    const from = (ip: string) => () => {
      reads++;
      return ip;
    };
    expect((await a.authenticate(bearer(key), { clientIp: from('203.0.113.31') })).ok).toBe(true);
    const calls = h.front.verifyCalls;
    for (const ip of ['203.0.113.32', '198.51.100.33', '2001:db8::33']) {
      const result = a.authenticateMaybeSync(bearer(key), { clientIp: from(ip) });
      expect(result).not.toBeInstanceOf(Promise);
      expect((result as AuthResult).ok).toBe(true);
    }
    expect(h.front.verifyCalls).toBe(calls);
    // The address is only read when Gatehouse is asked.
    expect(reads).toBe(1);
    expect(await verificationIps(h.t, id)).toEqual(['203.0.113.31']);
  });
});

describe('failures are counted against the client, not the API server', () => {
  let h: Harness;
  beforeAll(async () => {
    // More than 3 failures from one address in a minute block it, for 600 s.
    h = await startHarness({
      GATEHOUSE_DETECTION_ALERT_THRESHOLD: '2',
      GATEHOUSE_DETECTION_BLOCK_THRESHOLD: '3',
      GATEHOUSE_DETECTION_BLOCK_SECONDS: '600',
    });
  });
  afterAll(() => h?.close());

  it('bad keys from client A block A; client B (and the server itself) still authenticate; A gets ip_blocked 429 with Retry-After', async () => {
    const attacker = '203.0.113.66';
    const honest = '198.51.100.77';
    const a = h.authenticator();
    const good = await h.t.createKey({ name: 'good' });
    const alsoGood = await h.t.createKey({ name: 'also good' });
    // Seen valid before the block: cached by the SDK.
    expect((await a.authenticate(bearer(alsoGood.key), { clientIp: honest })).ok).toBe(true);

    for (let i = 0; i < 4; i++) expectDenied(await a.authenticate(bearer(unknownKey()), { clientIp: attacker }), 'invalid_token', 401);
    await h.t.services.detection.settled();
    const blocks = await h.t.api('GET', '/v1/blocks');
    expect(blocks.status).toBe(200);
    expect(blocks.body.data.map((b: { ip: string }) => b.ip)).toEqual([attacker]);

    // The API server's own address was never counted: B's key goes through the same SDK instance.
    const calls = h.front.verifyCalls;
    const fromHonest = await a.authenticate(bearer(good.key), { clientIp: honest });
    expect(fromHonest.ok && fromHonest.auth.keyId).toBe(good.id);
    expect(h.front.verifyCalls).toBe(calls + 1);
    expect((await a.authenticate(bearer((await h.t.createKey({ name: 'server' })).key))).ok).toBe(true);

    // A is refused whatever it presents, and the refusal is never cached.
    const fresh = await h.t.createKey({ name: 'fresh' });
    for (const key of [fresh.key, fresh.key, unknownKey()]) {
      const before = h.front.verifyCalls;
      const blocked = await a.authenticate(bearer(key), { clientIp: attacker });
      expectDenied(blocked, 'ip_blocked', 429);
      if (blocked.ok) return;
      expect(blocked.headers).toEqual({ 'Retry-After': '600' });
      expect(blocked.wwwAuthenticate).toBeUndefined();
      expect(blocked.error).toEqual({ error: 'ip_blocked', error_description: expect.any(String) });
      expect(h.front.verifyCalls).toBe(before + 1);
    }
    // The same address written as IPv4-mapped IPv6 is the same client.
    expectDenied(await a.authenticate(bearer(fresh.key), { clientIp: `::ffff:${attacker}` }), 'ip_blocked', 429);
    // A valid key the SDK holds in its cache is answered without asking Gatehouse, blocked address or not.
    expect((await a.authenticate(bearer(alsoGood.key), { clientIp: attacker })).ok).toBe(true);
    // Once unblocked, A's good key passes (nothing of the refusal was kept).
    expect((await h.t.api('DELETE', `/v1/blocks/${attacker}`)).status).toBe(200);
    expect((await a.authenticate(bearer(fresh.key), { clientIp: attacker })).ok).toBe(true);
  });

  it('when the API server itself is blocked, a verification is 503 unavailable (reported), not a denial, with or without a clientIp', async () => {
    const errors: Error[] = [];
    const a = h.authenticator({ onError: (error) => errors.push(error) });
    const { key } = await h.t.createKey({ name: 'k' });
    // Bad keys verified without clientIp count against the server's own address (127.0.0.1).
    for (let i = 0; i < 4; i++) expectDenied(await a.authenticate(bearer(unknownKey())), 'invalid_token', 401);
    await h.t.services.detection.settled();
    try {
      const result = await a.authenticate(bearer(key));
      expectDenied(result, 'unavailable', 503);
      // On behalf of a client that is not blocked: still the server's own block (ip_blocked, not client_ip_blocked).
      expectDenied(await a.authenticate(bearer(key), { clientIp: '198.51.100.77' }), 'unavailable', 503);
      expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/HTTP 429 ip_blocked/), expect.stringMatching(/HTTP 429 ip_blocked/)]);
    } finally {
      const unblocked = await h.t.app.inject({
        method: 'DELETE',
        url: '/v1/blocks/127.0.0.1',
        remoteAddress: '192.0.2.1',
        headers: { authorization: `Bearer ${h.t.rootKey}` },
      });
      expect(unblocked.statusCode).toBe(200);
    }
    expect((await a.authenticate(bearer(key))).ok).toBe(true);
  });
});
