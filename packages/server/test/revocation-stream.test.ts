import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { KeyRevocationRelay, RevocationFeed, type RevocationEvent } from '../src/core/revocation-feed.js';
import { loadConfig } from '../src/config/load-config.js';
import { startServer } from '../src/main.js';
import { createPgDatabase, dialects, tempDir } from './helpers/databases.js';
import { testDatabaseUrl, testRedisUrl } from './helpers/env.js';
import { EventStream } from './helpers/event-stream.js';
import { authorizeThroughForms, basicAuth, createOAuthTestApp, FormBrowser, pkcePair, type OAuthTestApp } from './helpers/oauth.js';
import { api, killSpawned, spawnServer, waitFor, type SpawnedServer } from './helpers/spawn-server.js';

/**
 * GET /v1/revocations/stream over real sockets: what SDKs subscribe to so that cached keys and tokens are
 * dropped the moment they are revoked (format: docs/revocation-stream.md).
 */

const PATH = '/v1/revocations/stream';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { jti: string; exp: number };

async function tokenRequest(issuer: string, body: Record<string, string>, auth: string) {
  const response = await fetch(`${issuer}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
    body: new URLSearchParams(body),
  });
  const json = (await response.json()) as any;
  if (response.status !== 200) throw new Error(`token: ${response.status} ${JSON.stringify(json)}`);
  return json as { access_token: string; refresh_token?: string };
}

async function revokeAtEndpoint(issuer: string, token: string, auth: string): Promise<void> {
  const response = await fetch(`${issuer}/oauth/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
    body: new URLSearchParams({ token }),
  });
  if (response.status !== 200) throw new Error(`revoke: ${response.status} ${await response.text()}`);
}

describe.each(dialects)('GET /v1/revocations/stream (%s)', (dialect) => {
  let t: OAuthTestApp;
  const streams: EventStream[] = [];
  /** Opens a stream as `key` (default: the root key; null: no credential). */
  const open = async (key: string | null = t.rootKey) => {
    const stream = await EventStream.open(t.issuer + PATH, key ?? undefined);
    streams.push(stream);
    return stream;
  };
  /** A client-credentials access token, and the client's Basic credentials. */
  const clientToken = async () => {
    const client = await t.createClient({ grantTypes: ['client_credentials'], redirectUris: [], scopes: ['read'] });
    const auth = basicAuth(client.clientId, client.clientSecret);
    const { access_token } = await tokenRequest(t.issuer, { grant_type: 'client_credentials', scope: 'read' }, auth);
    return { token: access_token, auth, claims: claimsOf(access_token) };
  };

  beforeAll(async () => {
    t = await createOAuthTestApp({ dialect, env: { GATEHOUSE_REVOCATION_STREAM_MAX_CONNECTIONS: '3' } });
  });
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close();
    // Every stream the server held is cleaned up once its client has gone.
    await waitFor('the server to drop closed streams', async () => (t.services.revocations.size === 0 ? true : undefined));
  });
  afterAll(() => t.close());

  it('refuses, as JSON before any stream, a missing or bad credential, a key without keys:verify, a revoked key', async () => {
    const missing = await open(null);
    expect(missing.status).toBe(401);
    expect(missing.response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(missing.response.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse"');
    expect(await missing.response.json()).toMatchObject({ error: 'invalid_token' });

    const garbage = await open('sk_live_notarealkey');
    expect(garbage.status).toBe(401);
    expect(await garbage.response.json()).toMatchObject({ error: 'invalid_token' });

    const reader = await t.createKey({ scopes: ['keys:read', 'keys:write'] });
    const forbidden = await open(reader.key);
    expect(forbidden.status).toBe(403);
    expect(forbidden.response.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse", error="insufficient_scope", scope="keys:verify"');
    expect(await forbidden.response.json()).toMatchObject({ error: 'insufficient_scope' });

    const verifier = await t.createKey({ scopes: ['keys:verify'] });
    expect((await t.api('POST', `/v1/keys/${verifier.id}/revoke`)).status).toBe(200);
    const revoked = await open(verifier.key);
    expect(revoked.status).toBe(401);
    await revoked.response.body?.cancel();

    const inQuery = await EventStream.open(`${t.issuer}${PATH}?api_key=${t.rootKey}`);
    streams.push(inQuery);
    expect(inQuery.status).toBe(400);
    expect(await inQuery.response.json()).toMatchObject({ error: 'credentials_in_query' });
    expect(t.services.revocations.size).toBe(0);
  });

  it('streams text/event-stream with the security headers; `ready` first carries the unexpired denylist', async () => {
    const revoked = await clientToken();
    await revokeAtEndpoint(t.issuer, revoked.token, revoked.auth);
    const live = await clientToken();

    const verifier = await t.createKey({ scopes: ['keys:verify'] });
    const stream = await open(verifier.key);
    expect(stream.status).toBe(200);
    const headers = stream.response.headers;
    expect(headers.get('content-type')).toBe('text/event-stream');
    expect(headers.get('cache-control')).toBe('no-store');
    expect(headers.get('x-accel-buffering')).toBe('no');
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('x-frame-options')).toBe('DENY');
    expect(headers.get('referrer-policy')).toBe('no-referrer');
    expect(headers.get('x-request-id')).toBeTruthy();

    const ready = await stream.next();
    expect(ready.event).toBe('ready');
    expect(ready.data.deniedTokens).toContainEqual({ jti: revoked.claims.jti, exp: revoked.claims.exp });
    expect(ready.data.deniedTokens.map((entry: { jti: string }) => entry.jti)).not.toContain(live.claims.jti);
    for (const entry of ready.data.deniedTokens) expect(Object.keys(entry).sort()).toEqual(['exp', 'jti']);
  });

  it('revoking, rotating and changing an API key each send its hash, once', async () => {
    const [revoked, rotated, changed] = [await t.createKey(), await t.createKey(), await t.createKey()];
    const stream = await open();
    expect((await stream.next()).event).toBe('ready');

    expect((await t.api('POST', `/v1/keys/${revoked.id}/revoke`)).status).toBe(200);
    expect(await stream.next()).toEqual({ event: 'key', data: { hash: sha256(revoked.key) } });

    const rotation = await t.api('POST', `/v1/keys/${rotated.id}/rotate`, { body: { gracePeriodSeconds: 0 } });
    expect(rotation.status).toBe(200);
    expect(await stream.next()).toEqual({ event: 'key', data: { hash: sha256(rotated.key) } });

    expect((await t.api('PATCH', `/v1/keys/${changed.id}`, { body: { name: 'renamed' } })).status).toBe(200);
    expect(await stream.next()).toEqual({ event: 'key', data: { hash: sha256(changed.key) } });

    // Revoking again announces again (a retry must reach every node), and nothing above came twice.
    expect((await t.api('POST', `/v1/keys/${revoked.id}/revoke`)).status).toBe(200);
    expect(await stream.next()).toEqual({ event: 'key', data: { hash: sha256(revoked.key) } });
    expect(stream.pending()).toEqual([]);
  });

  it('revoking an access token at POST /oauth/revoke sends its jti and exp, once', async () => {
    const { token, auth, claims } = await clientToken();
    const stream = await open();
    expect((await stream.next()).event).toBe('ready');
    await revokeAtEndpoint(t.issuer, token, auth);
    expect(await stream.next()).toEqual({ event: 'token', data: { jti: claims.jti, exp: claims.exp } });
    // Revoking it again is not news: the next event is the next revocation.
    await revokeAtEndpoint(t.issuer, token, auth);
    const key = await t.createKey();
    await t.api('POST', `/v1/keys/${key.id}/revoke`);
    expect(await stream.next()).toEqual({ event: 'key', data: { hash: sha256(key.key) } });
  });

  it("DELETE /v1/users/{id}/grants sends each of the user's live access tokens", async () => {
    const client = await t.createClient();
    const user = await t.createUser();
    const auth = basicAuth(client.clientId, client.clientSecret);
    const grant = async () => {
      const { verifier, challenge } = pkcePair();
      const callback = await authorizeThroughForms(
        new FormBrowser(t.issuer),
        `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: 'https://app.example/callback', scope: 'read', code_challenge: challenge, code_challenge_method: 'S256' })}`,
        { email: user.email, password: 'correct horse battery staple' },
      );
      const code = callback.searchParams.get('code')!;
      return tokenRequest(t.issuer, { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example/callback', code_verifier: verifier }, auth);
    };
    const tokens = [claimsOf((await grant()).access_token), claimsOf((await grant()).access_token)];
    const stream = await open();
    expect((await stream.next()).event).toBe('ready');
    expect((await t.api('DELETE', `/v1/users/${user.id}/grants`)).body).toEqual({ revokedGrants: 2 });
    const events = [await stream.next(), await stream.next()];
    expect(events).toEqual(
      expect.arrayContaining(tokens.map(({ jti, exp }) => ({ event: 'token', data: { jti, exp } }))),
    );
  });

  it('every open stream receives each event; a client that leaves is cleaned up', async () => {
    const [one, two] = [await open(), await open()];
    for (const stream of [one, two]) expect((await stream.next()).event).toBe('ready');
    expect(t.services.revocations.size).toBe(2);
    const key = await t.createKey();
    await t.api('POST', `/v1/keys/${key.id}/revoke`);
    for (const stream of [one, two]) expect(await stream.next()).toEqual({ event: 'key', data: { hash: sha256(key.key) } });
    one.close();
    await waitFor('the server to drop the closed stream', async () => (t.services.revocations.size === 1 ? true : undefined));
  });

  it('serves at most GATEHOUSE_REVOCATION_STREAM_MAX_CONNECTIONS streams at once: beyond, 503', async () => {
    const held = [await open(), await open(), await open()];
    for (const stream of held) expect((await stream.next()).event).toBe('ready');
    const refused = await open();
    expect(refused.status).toBe(503);
    expect(refused.response.headers.get('retry-after')).toBe('5');
    expect(await refused.response.json()).toMatchObject({ error: 'temporarily_unavailable' });

    held[0]!.close();
    await waitFor('a free slot', async () => (t.services.revocations.size === 2 ? true : undefined));
    const again = await open();
    expect(again.status).toBe(200);
    expect((await again.next()).event).toBe('ready');
  });

  it('sends a keep-alive comment every 15 s', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const stream = await open();
      expect((await stream.next()).event).toBe('ready');
      expect(stream.comments).toEqual([]);
      vi.advanceTimersByTime(15_000);
      await waitFor('a keep-alive comment', async () => (stream.comments.length === 1 ? true : undefined));
      expect(stream.comments).toEqual(['keep-alive']);
      vi.advanceTimersByTime(15_000);
      await waitFor('a second keep-alive comment', async () => (stream.comments.length === 2 ? true : undefined));
      expect(stream.pending()).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('RevocationFeed and KeyRevocationRelay', () => {
  it('fans out to every subscriber, survives a throwing one, and unsubscribes', () => {
    const feed = new RevocationFeed();
    const seen: RevocationEvent[] = [];
    const off = feed.subscribe((event) => seen.push(event));
    feed.subscribe(() => {
      throw new Error('socket gone');
    });
    expect(feed.size).toBe(2);
    feed.emit({ type: 'token', jti: 'j1', exp: 100 });
    expect(seen).toEqual([{ type: 'token', jti: 'j1', exp: 100 }]);
    off();
    off();
    expect(feed.size).toBe(1);
    feed.emit({ type: 'key', hash: 'h' });
    expect(seen).toHaveLength(1);
  });

  it('emits a local invalidation at once, drops its echo while broadcasting, and passes on other processes\' hashes', async () => {
    const feed = new RevocationFeed();
    const relay = new KeyRevocationRelay(feed);
    const seen: string[] = [];
    feed.subscribe((event) => seen.push(event.type === 'key' ? event.hash : event.jti));
    // The broadcast echoes back to this process before it settles (as MemoryPubSub and RedisPubSub do).
    await relay.local('a', async () => relay.received('a'));
    expect(seen).toEqual(['a']);
    relay.received('b');
    relay.received('a');
    expect(seen).toEqual(['a', 'b', 'a']);
    // A failed broadcast still told the local streams, and does not leave the hash muted.
    await expect(relay.local('c', async () => Promise.reject(new Error('redis down')))).rejects.toThrow('redis down');
    relay.received('c');
    expect(seen).toEqual(['a', 'b', 'a', 'c', 'c']);
  });

  it('emits a change found by the database poll unless this process already told its streams of it', async () => {
    const feed = new RevocationFeed();
    let now = 1_000_000;
    const relay = new KeyRevocationRelay(feed, () => now);
    const seen: string[] = [];
    feed.subscribe((event) => seen.push(event.type === 'key' ? event.hash : event.jti));
    // Made here, then found by the poll (again and again while it looks back): once.
    await relay.local('local', async () => {});
    relay.polled('local', now);
    relay.polled('local', now);
    // Received through pub/sub a little before this clock says the row changed (clocks differ): once.
    relay.received('remote');
    relay.polled('remote', now + 1_500);
    expect(seen).toEqual(['local', 'remote']);
    // Lost by pub/sub (Redis down): the poll tells the streams, once.
    relay.polled('missed', now - 500);
    relay.polled('missed', now - 500);
    expect(seen).toEqual(['local', 'remote', 'missed']);
    // A later change of a key already told: told again.
    now += 10_000;
    relay.polled('local', now - 1_000);
    expect(seen).toEqual(['local', 'remote', 'missed', 'local']);
    // Forgetting what is older than the poll looks back does not repeat what is newer.
    relay.forget(now - 5_000);
    relay.polled('local', now - 1_000);
    relay.polled('remote', now - 20_000);
    expect(seen).toEqual(['local', 'remote', 'missed', 'local', 'remote']);
  });
});

describe('graceful shutdown with open revocation streams', () => {
  it("startServer's close() ends every stream and completes", async () => {
    const dir = tempDir('stream-shutdown');
    const rootKey = generateApiKey('live').key;
    try {
      const config = loadConfig({
        GATEHOUSE_DATA_DIR: dir.path,
        GATEHOUSE_PORT: '0',
        GATEHOUSE_BOOTSTRAP_ADMIN_KEY: rootKey,
        GATEHOUSE_LOG_LEVEL: 'silent',
        GATEHOUSE_PASSWORD_HASH_COST: '14',
      });
      const server = await startServer(config);
      const streams = [await EventStream.open(server.url + PATH, rootKey), await EventStream.open(server.url + PATH, rootKey)];
      // And one whose client left: fetch then opens a fresh connection, which must not hold the shutdown either.
      const left = await EventStream.open(server.url + PATH, rootKey);
      for (const stream of [...streams, left]) expect((await stream.next()).event).toBe('ready');
      left.close();
      await left.ended;
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        server.close().then(() => 'closed'),
        new Promise((resolve) => (timer = setTimeout(() => resolve('close() hung'), 15_000))),
      ]);
      clearTimeout(timer);
      expect(outcome).toBe('closed');
      // The clients see the end of their streams (and would reconnect elsewhere).
      await Promise.all(streams.map((stream) => stream.ended));
      expect(server.services.revocations.size).toBe(0);
    } finally {
      dir.remove();
    }
  });
});

describe.skipIf(!testDatabaseUrl || !testRedisUrl)('revocation stream in a cluster: two processes, one PostgreSQL, one Redis', () => {
  const dirs = [tempDir('stream-cluster-a'), tempDir('stream-cluster-b')];
  const rootKey = generateApiKey('live').key;
  let pg: Awaited<ReturnType<typeof createPgDatabase>> | undefined;
  let a: SpawnedServer;
  let b: SpawnedServer;
  const streams: EventStream[] = [];

  beforeAll(async () => {
    pg = await createPgDatabase();
    const masterKey = randomBytes(32).toString('base64');
    const env = (dir: string) => ({
      GATEHOUSE_DATA_DIR: dir,
      GATEHOUSE_DATABASE_URL: pg!.url,
      GATEHOUSE_REDIS_URL: testRedisUrl!,
      GATEHOUSE_MASTER_KEY: masterKey,
      GATEHOUSE_BOOTSTRAP_ADMIN_KEY: rootKey,
      GATEHOUSE_ISSUER: 'http://127.0.0.1:4000',
      GATEHOUSE_LOG_LEVEL: 'warn',
      GATEHOUSE_PASSWORD_HASH_COST: '14',
    });
    a = await spawnServer({ env: env(dirs[0]!.path) });
    b = await spawnServer({ env: env(dirs[1]!.path) });
  });

  afterAll(async () => {
    for (const stream of streams) stream.close();
    // SIGTERM with streams open (if a test left one): the processes must still exit cleanly.
    const stops = await Promise.all([a, b].map((server) => server?.stop().catch((error: unknown) => error)));
    await killSpawned();
    await pg?.drop();
    for (const dir of dirs) dir.remove();
    for (const stopped of stops) if (stopped !== undefined) expect(stopped).toEqual({ code: 0, signal: null });
  });

  it("a revocation made through A appears on B's stream (and once on A's)", async () => {
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await api(a.url, method, path, { key: rootKey, body });
      if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body;
    };
    const key = await call('POST', '/v1/keys', { name: 'cluster stream' });
    const client = await call('POST', '/v1/clients', { name: 'svc', grantTypes: ['client_credentials'], redirectUris: [], scopes: ['read'], tokenEndpointAuthMethod: 'client_secret_basic' });
    const auth = basicAuth(client.clientId, client.clientSecret);
    const { access_token } = await tokenRequest(a.url, { grant_type: 'client_credentials', scope: 'read' }, auth);
    const claims = claimsOf(access_token);

    const [onA, onB] = [await EventStream.open(a.url + PATH, rootKey), await EventStream.open(b.url + PATH, rootKey)];
    streams.push(onA, onB);
    for (const stream of [onA, onB]) {
      expect(stream.status).toBe(200);
      expect((await stream.next()).event).toBe('ready');
    }

    await call('POST', `/v1/keys/${key.id}/revoke`);
    await revokeAtEndpoint(a.url, access_token, auth);
    for (const stream of [onA, onB]) {
      expect(await stream.next()).toEqual({ event: 'key', data: { hash: sha256(key.key) } });
      expect(await stream.next()).toEqual({ event: 'token', data: { jti: claims.jti, exp: claims.exp } });
    }

    // B's next stream starts from a denylist that already holds the token revoked through A.
    const late = await EventStream.open(b.url + PATH, rootKey);
    streams.push(late);
    expect((await late.next()).data.deniedTokens).toContainEqual({ jti: claims.jti, exp: claims.exp });
    expect(onA.pending()).toEqual([]);
  });
});
