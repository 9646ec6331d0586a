import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { createPgDatabase, tempDir } from './helpers/databases.js';
import { testDatabaseUrl } from './helpers/env.js';
import { api, killSpawned, listAll, spawnServer, waitFor, type SpawnedServer } from './helpers/spawn-server.js';
import { startReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

/**
 * Two server processes delivering one PostgreSQL outbox: each delivery is attempted by one process, once.
 * The receiver answers slowly, so both processes are busy at once and poll into each other's work.
 */

const KEYS = 80;

describe.skipIf(!testDatabaseUrl)('webhooks in a cluster: two processes, one PostgreSQL', () => {
  const dirs = [tempDir('wh-cluster-a'), tempDir('wh-cluster-b')];
  const rootKey = generateApiKey('live').key;
  let pg: Awaited<ReturnType<typeof createPgDatabase>> | undefined;
  let servers: SpawnedServer[] = [];
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startReceiver((_request, response) => {
      setTimeout(() => response.writeHead(200).end(), 20);
    });
    pg = await createPgDatabase();
    const masterKey = randomBytes(32).toString('base64');
    const env = (dir: string) => ({
      GATEHOUSE_DATA_DIR: dir,
      GATEHOUSE_DATABASE_URL: pg!.url,
      GATEHOUSE_MASTER_KEY: masterKey,
      GATEHOUSE_BOOTSTRAP_ADMIN_KEY: rootKey,
      GATEHOUSE_LOG_LEVEL: 'warn',
      GATEHOUSE_MANAGEMENT_RATE_LIMIT: '100000/60',
      GATEHOUSE_WEBHOOKS_ALLOW_INSECURE: 'true',
      GATEHOUSE_WEBHOOKS_CONCURRENCY: '8',
    });
    servers = await Promise.all(dirs.map((dir) => spawnServer({ env: env(dir.path) })));
  });

  afterAll(async () => {
    const stops = await Promise.all(servers.map((server) => server.stop().catch((error: unknown) => error)));
    await killSpawned();
    await receiver.close();
    await pg?.drop();
    for (const dir of dirs) dir.remove();
    for (const stopped of stops) expect(stopped).toEqual({ code: 0, signal: null });
  });

  it('delivers every event exactly once, whichever process committed it', async () => {
    const [a, b] = servers as [SpawnedServer, SpawnedServer];
    const endpoint = await api(a.url, 'POST', '/v1/webhook-endpoints', { key: rootKey, body: { url: receiver.url, events: ['key.created'] } });
    expect(endpoint.status).toBe(201);

    const created: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, worker) => {
        for (let i = worker; i < KEYS; i += 8) {
          const server = i % 2 === 0 ? a : b;
          const response = await api(server.url, 'POST', '/v1/keys', { key: rootKey, body: { name: `k${i}` } });
          expect(response.status).toBe(201);
          created.push(response.body.id);
        }
      }),
    );
    await waitFor('every key.created delivered', async () => (new Set(receiver.received.map((h) => h.json.data.keyId)).size >= KEYS ? true : undefined), {
      timeoutMs: 30_000,
    });
    // Long enough for both processes to poll again (1 s): a second attempt would show now.
    await new Promise((resolve) => setTimeout(resolve, 2_500));

    const perId = new Map<string, number>();
    for (const hook of receiver.received) perId.set(String(hook.headers['webhook-id']), (perId.get(String(hook.headers['webhook-id'])) ?? 0) + 1);
    expect(perId.size).toBe(KEYS);
    expect([...perId.values()].filter((n) => n !== 1)).toEqual([]);
    expect(new Set(receiver.received.map((h) => h.json.data.keyId))).toEqual(new Set(created));

    const log = await listAll(b.url, `/v1/webhook-endpoints/${endpoint.body.id}/deliveries?limit=100`, rootKey);
    expect(log).toHaveLength(KEYS);
    expect(log.every((d) => d.status === 'delivered' && d.attempts === 1 && d.attemptLog.length === 1)).toBe(true);
  });
});
