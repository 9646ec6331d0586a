import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { tempDir } from './helpers/databases.js';
import { startThrowawayRedis } from './helpers/redis-server.js';
import {
  api,
  killSpawned,
  listAll,
  spawnProcess,
  spawnServer,
  waitFor,
  waitForExit,
} from './helpers/spawn-server.js';

/** Process lifecycle: graceful shutdown (SIGTERM) and readiness while a dependency is down. */

const dirs: Array<{ remove(): void }> = [];
function setup(label: string) {
  const dir = tempDir(label);
  dirs.push(dir);
  const rootKey = generateApiKey('live').key;
  const env = { GATEHOUSE_DATA_DIR: dir.path, GATEHOUSE_BOOTSTRAP_ADMIN_KEY: rootKey, GATEHOUSE_LOG_LEVEL: 'warn' };
  return { dir: dir.path, rootKey, env };
}

afterAll(async () => {
  await killSpawned();
  for (const dir of dirs) dir.remove();
});

async function createKey(url: string, rootKey: string, body: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const response = await api(url, 'POST', '/v1/keys', { key: rootKey, body: { name: 'lifecycle', ...body } });
  if (response.status !== 201) throw new Error(`create key: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

describe('graceful shutdown (SIGTERM)', () => {
  it('flushes buffered audit events, usage counts and last-used times before exiting 0', async () => {
    const { rootKey, env } = setup('lifecycle-flush');
    const first = await spawnServer({ env });
    const { id, key } = await createKey(first.url, rootKey);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => api(first.url, 'POST', '/v1/keys/verify', { key: rootKey, body: { key, ...(i % 5 === 0 ? { scopes: ['missing'] } : {}) } })),
    );
    expect(results.filter((r) => r.body.code === 'VALID')).toHaveLength(40);
    expect(results.filter((r) => r.body.code === 'INSUFFICIENT_SCOPE')).toHaveLength(10);
    // At once: the failures' events are still in the write-behind buffer (flushed every second), the counts in
    // memory (flushed every GATEHOUSE_USAGE_FLUSH_SECONDS).
    expect(await first.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(first.stderr()).toBe('');

    const second = await spawnServer({ env });
    const events = await listAll(second.url, `/v1/audit-events?type=key.verification&keyId=${id}&limit=200`, rootKey);
    expect(events).toHaveLength(10);
    expect(new Set(events.map((event) => event.id)).size).toBe(10);
    expect(events.every((event) => event.outcome === 'failure' && event.keyId === id)).toBe(true);
    const usage = await api(second.url, 'GET', `/v1/keys/${id}/usage`, { key: rootKey });
    expect(usage.body.data.map((point: { total: number; byOutcome: object }) => [point.total, point.byOutcome])).toEqual([[50, { VALID: 40, INSUFFICIENT_SCOPE: 10 }]]);
    const stored = await api(second.url, 'GET', `/v1/keys/${id}`, { key: rootKey });
    expect(stored.status).toBe(200);
    expect(stored.body.lastUsedAt, 'last-used time flushed at shutdown').not.toBeNull();
    expect(await second.stop()).toEqual({ code: 0, signal: null });
  });

  it('lets a request in flight when SIGTERM arrives complete, then exits 0', async () => {
    const { rootKey, env } = setup('lifecycle-inflight');
    // debug: request logging on, so the test can see the request has arrived ("incoming request").
    const first = await spawnServer({ env: { ...env, GATEHOUSE_LOG_LEVEL: 'debug' } });
    const url = new URL(first.url);
    const body = Buffer.from(JSON.stringify({ name: 'in-flight at shutdown', scopes: ['orders:read'] }));
    const split = 10;

    // Headers and part of the body now, the rest after SIGTERM: the request is in flight throughout.
    // A keep-alive client that never drops idle connections by itself: shutdown must not wait for it.
    const agent = new Agent({ keepAlive: true });
    onTestFinished(() => agent.destroy());
    const request = httpRequest({
      agent,
      host: url.hostname,
      port: url.port,
      method: 'POST',
      path: '/v1/keys',
      headers: { authorization: `Bearer ${rootKey}`, 'content-type': 'application/json', 'content-length': body.length },
    });
    const response = new Promise<{ status: number; body: any }>((resolve, reject) => {
      request.once('response', (res: IncomingMessage) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.once('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
        res.once('error', reject);
      });
      request.once('error', reject);
    });
    request.setTimeout(20_000, () => request.destroy(new Error('in-flight request timed out')));
    request.write(body.subarray(0, split));

    await first.waitForStdout(/"path":"\/v1\/keys"[^\n]*"msg":"incoming request"/, 'the server to receive the request');
    first.process.kill('SIGTERM');
    await first.waitForStdout(/"signal":"SIGTERM"[^\n]*"msg":"shutting down"/, 'the server to begin shutting down');
    expect(first.process.exitCode).toBeNull(); // still waiting for our request
    request.end(body.subarray(split));

    const answer = await response;
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.body.key).toMatch(/^sk_live_/);
    // Bounded by waitForExit (20 s), well below the server's keep-alive timeout (72 s).
    expect(await waitForExit(first, 'shutdown after the in-flight request')).toEqual({ code: 0, signal: null });

    const second = await spawnServer({ env });
    const verified = await api(second.url, 'POST', '/v1/keys/verify', { key: rootKey, body: { key: answer.body.key } });
    expect(verified.body).toMatchObject({ valid: true, code: 'VALID', keyId: answer.body.id });
    expect(await second.stop()).toEqual({ code: 0, signal: null });
  });
});

describe('readiness while Redis is down', () => {
  it('answers 503 from /readyz and from verifications that need Redis, and recovers', async () => {
    const { rootKey, env } = setup('lifecycle-redis');
    let redis = await startThrowawayRedis();
    const { port } = redis;
    const server = await spawnServer({ env: { ...env, GATEHOUSE_REDIS_URL: `redis://127.0.0.1:${port}` } });

    const limited = await createKey(server.url, rootKey, { rateLimit: { limit: 1000, windowSeconds: 60 } });
    const verify = () => api(server.url, 'POST', '/v1/keys/verify', { key: rootKey, body: { key: limited.key } });
    expect((await verify()).body).toMatchObject({ valid: true, code: 'VALID', rateLimit: { limit: 1000 } });
    expect(await api(server.url, 'GET', '/readyz')).toMatchObject({
      status: 200,
      body: { status: 'ready', checks: { database: 'ok', redis: 'ok' } },
    });

    await redis.kill();

    const down = await waitFor('/readyz to report Redis unavailable', async () => {
      const response = await api(server.url, 'GET', '/readyz');
      return response.status === 503 ? response : undefined;
    });
    expect(down.body).toEqual({ status: 'unavailable', checks: { database: 'ok', redis: 'unavailable' } });
    expect(await api(server.url, 'GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });

    // A key with a rate limit cannot be checked without Redis: 503, never "invalid", never 401.
    for (let i = 0; i < 5; i++) {
      const response = await verify();
      expect(response.status, JSON.stringify(response.body)).toBe(503);
      expect(response.body.error).toBe('temporarily_unavailable');
      expect(response.headers.get('retry-after')).toBe('5');
    }

    // Redis back (on the same port): the server reconnects by itself.
    redis = await startThrowawayRedis(port);
    await waitFor('/readyz to report ready again', async () => {
      const response = await api(server.url, 'GET', '/readyz');
      return response.status === 200 ? response : undefined;
    });
    expect((await verify()).body).toMatchObject({ valid: true, code: 'VALID' });

    expect(await server.stop()).toEqual({ code: 0, signal: null });
    await redis.kill();
  });
});
