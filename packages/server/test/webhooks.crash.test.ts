import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { createPgDatabase, dialects, tempDir, type TestDialect } from './helpers/databases.js';
import { api, killSpawned, listAll, spawnServer, waitFor, type SpawnedServer } from './helpers/spawn-server.js';
import { startReceiver } from './helpers/webhook-receiver.js';

/**
 * kill -9 while keys are created with an endpoint subscribed to key.created, at a random moment, then a
 * restart on the same storage: every acknowledged key.created is delivered (at least once: the receiver
 * dedups by webhook-id), and nothing is delivered for a key that was not committed.
 */

const TOTAL_REQUESTS = 300;
const CONCURRENCY = 16;

afterAll(killSpawned);

describe.each(dialects)('kill -9 with webhooks being written and delivered (%s)', (dialect: TestDialect) => {
  const dir = tempDir(`wh-crash-${dialect}`);
  let pg: Awaited<ReturnType<typeof createPgDatabase>> | undefined;
  afterAll(async () => {
    await killSpawned();
    await pg?.drop();
    dir.remove();
  });

  it('delivers every acknowledged key.created, and nothing for uncommitted keys', async () => {
    const receiver = await startReceiver();
    try {
      const rootKey = generateApiKey('live').key;
      const env: Record<string, string> = {
        GATEHOUSE_DATA_DIR: dir.path,
        GATEHOUSE_BOOTSTRAP_ADMIN_KEY: rootKey,
        GATEHOUSE_LOG_LEVEL: 'warn',
        GATEHOUSE_MANAGEMENT_RATE_LIMIT: '100000/60',
        GATEHOUSE_WEBHOOKS_ALLOW_INSECURE: 'true',
        // Deliveries the killed process held are attempted again once their lease (2 x timeout + 5 s) ends.
        GATEHOUSE_WEBHOOKS_TIMEOUT_SECONDS: '1',
      };
      if (dialect === 'postgres') {
        pg = await createPgDatabase();
        env.GATEHOUSE_DATABASE_URL = pg.url;
        env.GATEHOUSE_MASTER_KEY = randomBytes(32).toString('base64');
      }

      const first: SpawnedServer = await spawnServer({ env });
      const endpoint = await api(first.url, 'POST', '/v1/webhook-endpoints', { key: rootKey, body: { url: receiver.url, events: ['key.created'] } });
      expect(endpoint.status).toBe(201);

      const killAfter = 40 + Math.floor(Math.random() * 80);
      const acknowledged: string[] = [];
      let sent = 0;
      let killed: Promise<unknown> | undefined;
      let deliveredAtKill = -1;
      const worker = async () => {
        while (sent < TOTAL_REQUESTS && !killed) {
          sent++;
          try {
            const response = await api(first.url, 'POST', '/v1/keys', { key: rootKey, body: { name: 'crash' } });
            if (response.status === 201) {
              acknowledged.push(response.body.id);
              if (acknowledged.length === killAfter && !killed) {
                deliveredAtKill = receiver.received.length;
                killed = first.kill9();
              }
            }
          } catch {
            /* connection reset by the killed process */
          }
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      expect(killed).toBeDefined();
      expect(await killed).toEqual({ code: null, signal: 'SIGKILL' });
      // Delivery was under way when the process died (not everything had been sent).
      expect(deliveredAtKill).toBeGreaterThan(0);

      const second = await spawnServer({ env });
      const keys = await listAll(second.url, '/v1/keys?limit=100', rootKey);
      const committed = new Set(keys.filter((key) => key.name === 'crash').map((key) => key.id as string));
      for (const id of acknowledged) expect(committed.has(id)).toBe(true);

      const deliveredKeyIds = () => new Set(receiver.received.map((hook) => hook.json.data.keyId as string));
      await waitFor(
        'every committed key.created delivered',
        async () => ([...committed].every((id) => deliveredKeyIds().has(id)) ? true : undefined),
        { timeoutMs: 40_000 },
      );
      // Nothing for a key that does not exist: every delivery is of a committed change.
      for (const id of deliveredKeyIds()) expect(committed.has(id), `delivered ${id}, which was never committed`).toBe(true);
      // At least once: duplicates are possible, and share their webhook-id with the original.
      const idsByKey = new Map<string, Set<string>>();
      for (const hook of receiver.received) {
        const set = idsByKey.get(hook.json.data.keyId) ?? new Set();
        set.add(String(hook.headers['webhook-id']));
        idsByKey.set(hook.json.data.keyId, set);
      }
      expect([...idsByKey.values()].every((ids) => ids.size === 1)).toBe(true);
      expect(await second.stop()).toEqual({ code: 0, signal: null });
    } finally {
      await receiver.close();
    }
  });
});
