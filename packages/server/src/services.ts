import type { ApiKeyService } from './core/api-keys/api-key-service.js';
import type { AuditEvent } from './core/audit/audit-event.js';
import type { KeyCache } from './core/cache/key-cache.js';
import type { Clock } from './core/clock.js';
import type { SecretBox } from './core/crypto/secret-box.js';
import type { RateLimiter } from './core/rate-limit/rate-limiter.js';
import type { WriteBehind } from './core/write-behind.js';
import type { WriteBehindLog } from './core/write-behind-log.js';
import type { Config } from './config/load-config.js';
import type { Stores } from './storage/stores.js';

/** Everything the HTTP layer needs, wired by main.ts. */
export interface Services {
  config: Config;
  clock: Clock;
  stores: Stores;
  secretBox: SecretBox;
  apiKeys: ApiKeyService;
  keyCache: KeyCache;
  rateLimiter: RateLimiter;
  audit: WriteBehindLog<AuditEvent>;
  lastUsed: WriteBehind<string, number>;
  /** 'ok' or 'unavailable' per dependency. */
  checkReadiness(): Promise<Record<string, 'ok' | 'unavailable'>>;
  /** Flushes the write-behind queues and closes connections. */
  close(): Promise<void>;
}
