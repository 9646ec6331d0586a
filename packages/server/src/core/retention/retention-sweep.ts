import type { Clock } from '../clock.js';
import type { RetentionKind } from '../metrics/metrics.js';

const DAY_MS = 86_400_000;

/** One kind of history that is kept for a while, then deleted. */
export interface RetentionPolicy {
  kind: RetentionKind;
  /** How long rows are kept; 0 keeps them for ever. */
  days: number;
  /** Deletes up to `limit` rows older than `cutoff`, oldest first; returns how many. */
  purge(cutoff: number, limit: number): Promise<number>;
}

export interface RetentionSweepOptions {
  clock: Clock;
  policies: readonly RetentionPolicy[];
  intervalMs: number;
  /** Rows per purge call: small batches keep each delete (and the lock it holds) short. */
  batchSize?: number;
  onPurged?(kind: RetentionKind, rows: number): void;
  /** Runs at the start of every sweep, before any purge (usage rollups); a failure is reported and the sweep goes on. */
  beforeSweep?(): Promise<void>;
  onError(message: string, error: unknown): void;
}

/**
 * Deletes audit events, webhook delivery history and usage counters once they are older than their retention
 * period (rolling usage minutes up into hours and days first): a
 * periodic sweep in bounded batches, oldest first, yielding to other work between batches. Several processes
 * sweeping at once delete disjoint or already-deleted rows, which is harmless.
 */
export class RetentionSweep {
  #timer: NodeJS.Timeout | undefined;
  #firstRun: NodeJS.Timeout | undefined;
  #running: Promise<Map<RetentionKind, number>> | undefined;
  #stopped = false;
  readonly #policies: readonly RetentionPolicy[];
  readonly #hasWork: boolean;

  constructor(private readonly options: RetentionSweepOptions) {
    this.#policies = options.policies.filter((policy) => policy.days > 0);
    this.#hasWork = this.#policies.length > 0 || options.beforeSweep !== undefined;
  }

  start(): void {
    if (this.#timer || !this.#hasWork) return;
    this.#stopped = false;
    const sweep = () => void this.run().catch((error: unknown) => this.options.onError('retention sweep failed', error));
    this.#timer = setInterval(sweep, this.options.intervalMs);
    this.#timer.unref();
    // Once soon after start too: a process that never lives a whole interval still purges.
    this.#firstRun = setTimeout(sweep, Math.min(this.options.intervalMs, 30_000));
    this.#firstRun.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearTimeout(this.#firstRun);
    this.#timer = undefined;
    await this.#running?.catch(() => {});
  }

  /** Purges everything due now; returns the rows deleted per kind. One run at a time. */
  run(): Promise<Map<RetentionKind, number>> {
    return (this.#running ??= this.#sweep().finally(() => {
      this.#running = undefined;
    }));
  }

  async #sweep(): Promise<Map<RetentionKind, number>> {
    const batchSize = this.options.batchSize ?? 1_000;
    await this.options.beforeSweep?.().catch((error: unknown) => this.options.onError('usage rollup failed', error));
    const totals = new Map<RetentionKind, number>();
    for (const policy of this.#policies) {
      const cutoff = this.options.clock.now() - policy.days * DAY_MS;
      let total = 0;
      for (;;) {
        const rows = await policy.purge(cutoff, batchSize);
        total += rows;
        if (rows > 0) this.options.onPurged?.(policy.kind, rows);
        if (rows < batchSize || this.#stopped) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      totals.set(policy.kind, total);
    }
    return totals;
  }
}
