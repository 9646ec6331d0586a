import type { DetectionCounters } from './counters.js';

/** Failed logins an account may have before its attempts are slowed down. */
export const FREE_LOGIN_ATTEMPTS = 3;
const BASE_DELAY_MS = 250;
/** Failures are counted per account in windows this long. */
export const LOGIN_FAILURE_WINDOW_MS = 15 * 60_000;

/**
 * The delay before a login attempt on an account with `failures` recent failures: none for the first few, then
 * doubling per failure up to `maxMs`. Never a refusal: once the delay has passed, the right password works.
 */
export function loginDelayMs(failures: number, maxMs: number): number {
  if (failures < FREE_LOGIN_ATTEMPTS) return 0;
  return Math.min(maxMs, BASE_DELAY_MS * 2 ** Math.min(failures - FREE_LOGIN_ATTEMPTS, 30));
}

export interface LoginThrottleOptions {
  counters: DetectionCounters;
  maxDelayMs: number;
  /** Injected so that tests do not wait in real time. */
  sleep(ms: number): Promise<void>;
}

/**
 * Per-account protection of the login form: repeated failures for one account (by a fingerprint of its email,
 * whether or not it exists, so timing tells nothing) slow every further attempt on it, by at most
 * `maxDelayMs`. An attacker can make the real user wait a few seconds, never lock them out. A successful
 * login clears the count.
 */
export class LoginThrottle {
  constructor(private readonly options: LoginThrottleOptions) {}

  /** Waits as long as the account's recent failures call for; resolves to the delay (ms). */
  async beforeAttempt(account: string): Promise<number> {
    const failures = await this.options.counters.get(`login:${account}`, LOGIN_FAILURE_WINDOW_MS);
    const delay = loginDelayMs(failures, this.options.maxDelayMs);
    if (delay > 0) await this.options.sleep(delay);
    return delay;
  }

  async failed(account: string): Promise<void> {
    await this.options.counters.increment(`login:${account}`, LOGIN_FAILURE_WINDOW_MS);
  }

  async succeeded(account: string): Promise<void> {
    await this.options.counters.reset(`login:${account}`, LOGIN_FAILURE_WINDOW_MS);
  }
}
