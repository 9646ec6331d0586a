import type { UsageBatch } from '../../storage/stores.js';
import { BatchedWriter } from '../batched-writer.js';
import type { Clock } from '../clock.js';
import { UsageAccumulator } from './usage-accumulator.js';
import { MINUTE_MS, SUCCESS_OUTCOMES, minuteOf, usageOutcomeCode, type UsageOutcome } from './usage-outcomes.js';

export interface UsageCounterOptions {
  clock: Clock;
  /** Writes a batch (UsageStore.add): set-based upserts that add into what other processes wrote. */
  write(batch: UsageBatch): Promise<void>;
  /** GATEHOUSE_USAGE_FLUSH_SECONDS, in ms. */
  intervalMs: number;
  /** Cells (credential x minute x outcome) held at most; beyond, counts are dropped and counted. */
  maxCells: number;
  onError(error: unknown, context: { buffered: number; dropped: number }): void;
}

/**
 * Counts the repetitive successes (and the verifications of known keys that failed) per credential per minute in
 * memory, and flushes them every interval and at stop(). The hot path costs two Map lookups and a few additions.
 * A failed flush keeps its counts for the next one, within `maxCells`; what does not fit is dropped and counted
 * (`dropped`, gatehouse_usage_events_dropped_total). A crash loses at most the last interval's counts.
 */
export class UsageCounter extends BatchedWriter<UsageBatch> {
  readonly #buffer: UsageAccumulator;

  constructor(private readonly options: UsageCounterOptions) {
    super(options);
    this.#buffer = new UsageAccumulator(options.maxCells);
  }

  /** Cells waiting to be written. */
  get size(): number {
    return this.#buffer.size;
  }

  /** One event measured by this server, now (`at`, when the caller already read the clock): `latencyUs` its duration. */
  count(credentialId: string, outcome: UsageOutcome, latencyUs: number | null, at: number = this.options.clock.now()): void {
    const minute = minuteOf(at);
    if (!this.#buffer.add(credentialId, minute, usageOutcomeCode(outcome), 1, latencyUs)) this.droppedCount++;
    if (SUCCESS_OUTCOMES.has(outcome) && credentialId.startsWith('key_')) this.#buffer.touch(credentialId, minute);
  }

  /** Successful verifications counted elsewhere (an SDK's cache hits), in a given minute; no latency. */
  report(keyId: string, minute: number, count: number): void {
    if (!this.#buffer.add(keyId, minute, usageOutcomeCode('VALID'), count, null)) this.droppedCount += count;
    this.#buffer.touch(keyId, minute);
  }

  /** Notes a use of an API key that is not counted as usage (an admin key authenticating a management call). */
  touch(keyId: string, at: number): void {
    this.#buffer.touch(keyId, minuteOf(at));
  }

  /** The start of the newest minute a key was used in that is not yet written, if any. */
  lastUsedAt(keyId: string): number | undefined {
    const minute = this.#buffer.lastUsedMinute(keyId);
    return minute === undefined ? undefined : minute * MINUTE_MS;
  }

  protected take(): UsageBatch | undefined {
    return this.#buffer.take();
  }

  protected write(batch: UsageBatch): Promise<void> {
    return this.options.write(batch);
  }

  protected putBack(batch: UsageBatch): void {
    this.droppedCount += this.#buffer.putBack(batch);
  }
}
