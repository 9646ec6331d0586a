import { Redis } from 'ioredis';
import { ApiKeyService } from './core/api-keys/api-key-service.js';
import { bootstrapRootKey, type BootstrapResult } from './core/api-keys/bootstrap-root-key.js';
import type { AuditEvent } from './core/audit/audit-event.js';
import { KeyCache } from './core/cache/key-cache.js';
import { systemClock, type Clock } from './core/clock.js';
import { checkMasterKey } from './core/crypto/check-master-key.js';
import { SecretBox } from './core/crypto/secret-box.js';
import { MemoryPubSub, type PubSub } from './core/pubsub/pubsub.js';
import { RedisPubSub } from './core/pubsub/redis.js';
import { MemoryRateLimiter } from './core/rate-limit/memory.js';
import type { RateLimiter } from './core/rate-limit/rate-limiter.js';
import { RedisRateLimiter } from './core/rate-limit/redis.js';
import { WriteBehind } from './core/write-behind.js';
import { WriteBehindLog } from './core/write-behind-log.js';
import type { Config } from './config/load-config.js';
import { resolveMasterKey } from './config/master-key.js';
import { buildApp, type BuildAppOptions } from './http/build-app.js';
import type { App } from './http/app-types.js';
import type { Services } from './services.js';
import { createSqlStores } from './storage/sql/create-sql-stores.js';
import { openDatabase } from './storage/sql/database.js';
import { migrateToLatest } from './storage/sql/migrate.js';

/** The composition root: the only place where things are wired together. */

const KEY_INVALIDATION_CHANNEL = 'gatehouse:invalidate:api-key';

export interface CreateServicesOptions {
  clock?: Clock;
  /** PostgreSQL schema to use (tests isolate themselves with one). */
  databaseSchema?: string;
  /** Where write-behind failures are reported; default stderr. */
  onBackgroundError?: (message: string, error: unknown) => void;
  auditFlushIntervalMs?: number;
  lastUsedFlushIntervalMs?: number;
}

export function connectRedis(url: string): Redis {
  // Fail fast while Redis is down (a 503, never a hang), and let ioredis reconnect in the background.
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
  redis.on('error', () => {});
  return redis;
}

/** Resolves once the connection is ready; rejects on its first error (ioredis's connectTimeout bounds the wait). */
function untilReady(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      redis.off('ready', onReady);
      redis.off('error', onError);
      redis.off('end', onEnd);
      if (error) reject(error);
      else resolve();
    };
    const onReady = () => settle();
    const onError = (error: Error) => settle(error);
    const onEnd = () => settle(new Error('Redis connection ended'));
    redis.on('ready', onReady);
    redis.on('error', onError);
    redis.on('end', onEnd);
  });
}

export async function createServices(config: Config, options: CreateServicesOptions = {}): Promise<Services> {
  const clock = options.clock ?? systemClock;
  const report = options.onBackgroundError ?? ((message, error) => console.error(message, error));
  const { key: masterKey } = resolveMasterKey(config);
  const secretBox = new SecretBox(masterKey);

  const database = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, schema: options.databaseSchema });
  let redis: Redis | undefined;
  let pubsub: PubSub | undefined;
  try {
    await migrateToLatest(database);
    const stores = createSqlStores(database);
    await checkMasterKey(stores.meta, secretBox);

    let rateLimiter: RateLimiter;
    if (config.redisUrl) {
      const connection = connectRedis(config.redisUrl);
      redis = connection;
      // Without an offline queue, a command sent before the connection is ready fails at once: wait for it.
      await untilReady(connection)
        .then(() => connection.ping())
        .catch((error: unknown) => {
          throw new Error(`Cannot reach Redis at GATEHOUSE_REDIS_URL`, { cause: error });
        });
      rateLimiter = new RedisRateLimiter({ redis, clock });
      pubsub = new RedisPubSub(redis);
    } else {
      rateLimiter = new MemoryRateLimiter({ clock });
      pubsub = new MemoryPubSub();
    }
    const bus: PubSub = pubsub;

    const keyCache = new KeyCache({
      load: (hash) => stores.apiKeys.findByHash(hash),
      clock,
      ttlMs: config.keyCacheTtlSeconds * 1000,
      maxEntries: 1_000_000,
    });
    await bus.subscribe(KEY_INVALIDATION_CHANNEL, (hash) => keyCache.invalidate(hash));
    // Invalidations sent while the subscription was down are lost: forget everything instead.
    bus.onResubscribe(() => keyCache.clear());

    const audit = new WriteBehindLog<AuditEvent>({
      write: (events) => stores.audit.insertMany(events),
      intervalMs: options.auditFlushIntervalMs ?? 1000,
      // Large batches: each SQLite batch rewrites one page of the audit key index per distinct key it
      // touches, so more events per batch cost less each (the interval still bounds the delay to a second).
      batchSize: 10_000,
      maxBuffered: 200_000,
      onError: (error, state) => report(`audit events could not be written (${state.buffered} waiting, ${state.dropped} dropped)`, error),
    });
    const lastUsed = new WriteBehind<string, number>({
      write: (entries) => stores.apiKeys.touchLastUsed(entries),
      intervalMs: options.lastUsedFlushIntervalMs ?? 5000,
      batchSize: 10_000,
      maxBuffered: 1_000_000,
      merge: (older, newer) => Math.max(older, newer),
      onError: (error) => report('last-used times could not be written', error),
    });
    audit.start();
    lastUsed.start();

    const apiKeys = new ApiKeyService({
      store: stores.apiKeys,
      cache: keyCache,
      rateLimiter,
      clock,
      audit,
      lastUsed,
      async invalidate(hash) {
        keyCache.invalidate(hash);
        await bus.publish(KEY_INVALIDATION_CHANNEL, hash);
      },
    });

    return {
      config,
      clock,
      stores,
      secretBox,
      apiKeys,
      keyCache,
      rateLimiter,
      audit,
      lastUsed,
      async checkReadiness() {
        const checks: Record<string, 'ok' | 'unavailable'> = {};
        checks.database = await database.ping().then(() => 'ok' as const, () => 'unavailable' as const);
        if (redis) checks.redis = await redis.ping().then(() => 'ok' as const, () => 'unavailable' as const);
        return checks;
      },
      async close() {
        await audit.stop();
        await lastUsed.stop();
        await bus.close();
        await rateLimiter.close();
        redis?.disconnect();
        await database.close();
      },
    };
  } catch (error) {
    await pubsub?.close().catch(() => {});
    redis?.disconnect();
    await database.close().catch(() => {});
    throw error;
  }
}

export interface RunningServer {
  app: App;
  services: Services;
  url: string;
  bootstrap: BootstrapResult;
  /** Graceful: stop accepting, finish in-flight requests, flush write-behind queues, close storage. */
  close(): Promise<void>;
}

export async function startServer(config: Config, options: CreateServicesOptions & BuildAppOptions = {}): Promise<RunningServer> {
  const services = await createServices(config, options);
  try {
    const bootstrap = await bootstrapRootKey({ store: services.stores.apiKeys, clock: services.clock }, config.bootstrapAdminKey);
    const app = await buildApp(services, options);
    const address = await app.listen({ port: config.port, host: config.host });
    let closing: Promise<void> | undefined;
    return {
      app,
      services,
      url: address,
      bootstrap,
      close: () =>
        (closing ??= (async () => {
          // A connection whose request was in flight at shutdown stays open (keep-alive) after its response,
          // holding app.close() until the client drops it (up to keepAliveTimeout): close each once it is idle.
          const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
          try {
            await app.close();
          } finally {
            clearInterval(sweep);
          }
          await services.close();
        })()),
    };
  } catch (error) {
    await services.close().catch(() => {});
    throw error;
  }
}
