import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { createPgDatabase, dialects, tempDir, type TestDialect } from './helpers/databases.js';
import { api, killSpawned, listAll, spawnServer, type SpawnedServer } from './helpers/spawn-server.js';

/**
 * kill -9 in the middle of a burst of key creations, then a restart on the same storage: every acknowledged
 * key survives, and no key exists without its key.created audit event (or the other way round).
 */

const TOTAL_REQUESTS = 200;
const CONCURRENCY = 32;
const KILL_AFTER_ACKS = 60;

afterAll(killSpawned);

describe.each(dialects)('kill -9 while keys are being created (%s)', (dialect: TestDialect) => {
  const dir = tempDir(`crash-${dialect}`);
  let pg: Awaited<ReturnType<typeof createPgDatabase>> | undefined;
  afterAll(async () => {
    await killSpawned();
    await pg?.drop();
    dir.remove();
  });

  it('keeps every acknowledged key, and keys and key.created events agree', async () => {
    const rootKey = generateApiKey('live').key;
    const env: Record<string, string> = {
      GATEHOUSE_DATA_DIR: dir.path,
      GATEHOUSE_BOOTSTRAP_ADMIN_KEY: rootKey,
      GATEHOUSE_LOG_LEVEL: 'warn',
      GATEHOUSE_MANAGEMENT_RATE_LIMIT: '100000/60',
    };
    if (dialect === 'postgres') {
      pg = await createPgDatabase();
      env.GATEHOUSE_DATABASE_URL = pg.url;
      env.GATEHOUSE_MASTER_KEY = randomBytes(32).toString('base64');
    }

    const first: SpawnedServer = await spawnServer({ env });
    const acknowledged: Array<{ id: string; key: string }> = [];
    const unexpected: Array<{ status: number; body: unknown }> = [];
    let networkErrors = 0;
    let inFlight = 0;
    let inFlightAtKill = -1;
    let sent = 0;
    let killed: Promise<unknown> | undefined;

    const worker = async () => {
      while (sent < TOTAL_REQUESTS && !killed) {
        const i = sent++;
        inFlight++;
        try {
          const response = await api(first.url, 'POST', '/v1/keys', {
            key: rootKey,
            body: { name: `crash-${i}`, scopes: ['orders:read'], metadata: { i } },
          });
          if (response.status === 201) {
            acknowledged.push({ id: response.body.id, key: response.body.key });
            if (acknowledged.length === KILL_AFTER_ACKS) {
              inFlightAtKill = inFlight - 1; // the others, still waiting for their answer
              killed = first.kill9(); // the signal is sent synchronously, right here
            }
          } else {
            unexpected.push({ status: response.status, body: response.body });
          }
        } catch {
          networkErrors++; // connection reset / refused by the killed process
        } finally {
          inFlight--;
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(killed, `the server was never killed: ${acknowledged.length} acknowledgments`).toBeDefined();
    expect(await killed).toEqual({ code: null, signal: 'SIGKILL' });
    expect(unexpected).toEqual([]);
    // The scenario really happened: requests were outstanding when the process died.
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(acknowledged.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);

    const second = await spawnServer({ env });
    const ready = await api(second.url, 'GET', '/readyz');
    expect(ready.status, JSON.stringify(ready.body)).toBe(200);

    // Every acknowledged key verifies.
    const codes = new Map<string, string>();
    for (let i = 0; i < acknowledged.length; i += 20) {
      await Promise.all(
        acknowledged.slice(i, i + 20).map(async ({ id, key }) => {
          const response = await api(second.url, 'POST', '/v1/keys/verify', { key: rootKey, body: { key } });
          codes.set(id, response.status === 200 ? response.body.code : `HTTP ${response.status}`);
        }),
      );
    }
    const notValid = [...codes].filter(([, code]) => code !== 'VALID');
    expect(notValid, 'acknowledged keys that do not verify after the restart').toEqual([]);

    // Each key was committed together with its audit event: the two sets are identical.
    const keys = await listAll(second.url, '/v1/keys?limit=100', rootKey);
    const keyIds = keys.filter((key) => key.name !== 'root').map((key) => key.id as string);
    const events = await listAll(second.url, '/v1/audit-events?type=key.created&limit=200', rootKey);
    const eventKeyIds = events.map((event) => event.keyId as string);
    expect(new Set(eventKeyIds).size, 'duplicate key.created events').toBe(eventKeyIds.length);
    expect(keyIds.length).toBe(eventKeyIds.length);
    expect([...keyIds].sort()).toEqual([...eventKeyIds].sort());
    for (const { id } of acknowledged) expect(keyIds).toContain(id);
    // Keys can only have been committed for requests that were sent.
    expect(keyIds.length).toBeLessThanOrEqual(sent);
    expect(keys.filter((key) => key.name === 'root')).toHaveLength(1);

    expect(await second.stop()).toEqual({ code: 0, signal: null });

    if (dialect === 'sqlite') {
      const db = new SQLite(join(dir.path, 'gatehouse.db'), { readonly: true });
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      } finally {
        db.close();
      }
    }
  });
});
