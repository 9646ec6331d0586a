import { Writable } from 'node:stream';
import { bootstrapRootKey } from '../../src/core/api-keys/bootstrap-root-key.js';
import { generateApiKey } from '../../src/core/api-keys/key-format.js';
import { ManualClock } from '../../src/core/clock.js';
import { loadConfig, type Config } from '../../src/config/load-config.js';
import type { App } from '../../src/http/app-types.js';
import { buildApp } from '../../src/http/build-app.js';
import { createServices } from '../../src/main.js';
import type { Services } from '../../src/services.js';
import { createPgSchema, tempDir, type TestDialect } from './databases.js';
import { testRedisUrl } from './env.js';
import { sinkCredential, sinkCredentialsIn, sinkLogLines } from './log-sink.js';

export interface TestApp {
  app: App;
  services: Services;
  clock: ManualClock;
  config: Config;
  /** The root admin key (scope admin). */
  rootKey: string;
  dataDir: string;
  /** Every log line the app wrote. */
  logs: string[];
  /** Calls the API as the root key unless `key` says otherwise. */
  api(method: string, url: string, options?: { body?: unknown; key?: string | null; headers?: Record<string, string> }): Promise<{
    status: number;
    headers: Record<string, string | string[] | number | undefined>;
    body: any;
  }>;
  /** Creates a key through the API and returns the response body (with the plaintext `key`). */
  createKey(body?: Record<string, unknown>, key?: string): Promise<any>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  dialect?: TestDialect;
  redis?: boolean;
  env?: Record<string, string>;
  /** PostgreSQL: use this schema (shared with another app, kept at close) instead of a fresh one. */
  pgSchema?: { url: string; schema: string };
  /** The root admin key to bootstrap (default: a fresh one). */
  rootKey?: string;
  /** How the login slow-down waits (default: it really waits). */
  sleep?: (ms: number) => Promise<void>;
  /** The data directory to use (the caller's: kept at close) instead of a fresh temporary one. */
  dataDir?: string;
  /** Receives the write-behind and other background failures (default: ignored). */
  onBackgroundError?: (message: string, error: unknown) => void;
  /** The built console's directory (default: the real build of packages/console); null: not built. */
  consoleDir?: string | null;
  /** One more CA trusted when fetching client metadata documents (test-only; see CreateServicesOptions). */
  metadataDocumentExtraCa?: string;
}

/** A real app over a real database (SQLite in a temp dir, or a fresh PostgreSQL schema), with a frozen clock. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dir = options.dataDir ? { path: options.dataDir, remove() {} } : tempDir('app');
  const ownSchema = options.dialect === 'postgres' && !options.pgSchema ? await createPgSchema() : undefined;
  const pgSchema = options.pgSchema ?? ownSchema;
  const clock = new ManualClock(Date.UTC(2026, 10, 22, 12, 0, 0));
  const rootKey = options.rootKey ?? generateApiKey('live').key;
  const config = loadConfig({
    GATEHOUSE_DATA_DIR: dir.path,
    GATEHOUSE_LOG_LEVEL: 'debug',
    GATEHOUSE_BOOTSTRAP_ADMIN_KEY: rootKey,
    // The cheapest scrypt cost allowed: tests hash many passwords; production defaults to 17.
    GATEHOUSE_PASSWORD_HASH_COST: '14',
    ...(pgSchema ? { GATEHOUSE_DATABASE_URL: pgSchema.url, GATEHOUSE_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') } : {}),
    ...(options.redis ? { GATEHOUSE_REDIS_URL: testRedisUrl! } : {}),
    ...options.env,
  });
  const services = await createServices(config, {
    clock,
    databaseSchema: pgSchema?.schema,
    onBackgroundError: options.onBackgroundError ?? (() => {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.metadataDocumentExtraCa ? { metadataDocumentExtraCa: options.metadataDocumentExtraCa } : {}),
  });
  await bootstrapRootKey({ store: services.stores.apiKeys, clock }, rootKey);
  sinkCredential(rootKey);
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      sinkLogLines(String(chunk));
      done();
    },
  });
  const app = await buildApp(services, { logStream, consoleDir: options.consoleDir });

  const api: TestApp['api'] = async (method, url, opts = {}) => {
    const key = opts.key === undefined ? rootKey : opts.key;
    const response = await app.inject({
      method: method as 'GET',
      url,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...opts.headers,
      },
      ...(opts.body !== undefined ? { payload: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
    });
    let body: unknown = response.body;
    try {
      body = response.json();
    } catch {
      /* not JSON */
    }
    sinkCredentialsIn(body);
    return { status: response.statusCode, headers: response.headers, body };
  };

  return {
    app,
    services,
    clock,
    config,
    rootKey,
    dataDir: dir.path,
    logs,
    api,
    async createKey(body = {}, key) {
      const response = await api('POST', '/v1/keys', { body: { name: 'test key', ...body }, key });
      if (response.status !== 201) throw new Error(`createKey: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body;
    },
    async close() {
      await app.close();
      await services.close();
      await ownSchema?.drop();
      dir.remove();
    },
  };
}
