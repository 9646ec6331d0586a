import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import { windowOf, type DetectionCounters } from './counters.js';

// INCR, and on the first increment of a window an expiry, atomically.
const INCREMENT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
`;
const COMMAND = 'gatehouseDetectionIncrement';

interface WithIncrement {
  [COMMAND](key: string, ttlMs: string): Promise<number>;
}

/** Shared by every process of a cluster: one key per (key, window), expiring after the window. */
export class RedisCounters implements DetectionCounters {
  private readonly redis: Redis & WithIncrement;

  constructor(
    redis: Redis,
    private readonly clock: Clock,
    private readonly keyPrefix = 'gatehouse:detect:',
  ) {
    redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: INCREMENT_SCRIPT });
    this.redis = redis as Redis & WithIncrement;
  }

  #key(key: string, windowMs: number): string {
    return `${this.keyPrefix}${key}:${windowMs}:${windowOf(this.clock.now(), windowMs)}`;
  }

  async increment(key: string, windowMs: number): Promise<number> {
    return Number(await this.redis[COMMAND](this.#key(key, windowMs), String(windowMs)));
  }

  async get(key: string, windowMs: number): Promise<number> {
    return Number((await this.redis.get(this.#key(key, windowMs))) ?? 0);
  }

  async reset(key: string, windowMs: number): Promise<void> {
    await this.redis.del(this.#key(key, windowMs));
  }
}
