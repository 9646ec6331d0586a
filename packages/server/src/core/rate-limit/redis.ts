import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import { decisionFromState, gcraParameters, type RateLimitDecision, type RateLimitPolicy } from './decide.js';
import type { RateLimiter } from './rate-limiter.js';

export interface RedisRateLimiterOptions {
  /** Shared connection; the owner closes it. */
  redis: Redis;
  clock: Clock;
  /** Default 'gatehouse:rl:'. */
  keyPrefix?: string;
}

// The GCRA step of decide.ts, atomically. The caller passes its clock and the policy's parameters
// (from gcraParameters) so the arithmetic constants live in TypeScript only. Numbers cross the
// boundary as '%.17g' strings: exact for doubles, unlike Lua's 14-digit tostring and Redis's
// truncation of Lua numbers in replies to integers.
const GCRA_SCRIPT = `
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local maxDelay = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
if tat - now > maxDelay then
  return {0, string.format('%.17g', tat)}
end
local newTat = tat + interval
redis.call('SET', KEYS[1], string.format('%.17g', newTat), 'PX', math.ceil(newTat - now))
return {1, string.format('%.17g', newTat)}
`;

const COMMAND = 'gatehouseRateLimitGcra';

interface WithGcraCommand {
  [COMMAND](key: string, nowMs: string, emissionIntervalMs: string, maxDelayMs: string): Promise<unknown>;
}

export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis & WithGcraCommand;
  private readonly clock: Clock;
  private readonly keyPrefix: string;

  constructor(options: RedisRateLimiterOptions) {
    // defineCommand runs the script by EVALSHA and falls back to EVAL when Redis lacks it.
    options.redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: GCRA_SCRIPT });
    this.redis = options.redis as Redis & WithGcraCommand;
    this.clock = options.clock;
    this.keyPrefix = options.keyPrefix ?? 'gatehouse:rl:';
  }

  async consume(key: string, policy: RateLimitPolicy): Promise<RateLimitDecision> {
    const { emissionIntervalMs, maxDelayMs } = gcraParameters(policy);
    const now = this.clock.now();
    const reply = await this.redis[COMMAND](
      this.keyPrefix + key,
      String(now),
      String(emissionIntervalMs),
      String(maxDelayMs),
    );
    const [allowed, tat] = Array.isArray(reply) ? reply : [];
    const tatMs = Number(tat);
    if ((allowed !== 0 && allowed !== 1) || typeof tat !== 'string' || !Number.isFinite(tatMs)) {
      throw new Error(`unexpected rate limit script reply: ${JSON.stringify(reply)}`);
    }
    return decisionFromState(policy, allowed === 1, tatMs, now);
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(this.keyPrefix + key);
  }

  /** Does not close the connection: it is shared, and its owner closes it. */
  async close(): Promise<void> {}
}
