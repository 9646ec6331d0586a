import type { ChangedRecord } from '../../storage/stores.js';
import type { Clock } from '../clock.js';
import { CoalescedRun } from '../coalesced-run.js';

/** A poll looks this far back before the start of the previous successful one: clocks of processes that differ a
 * little, and transactions that commit a little after the time they wrote, are still seen. */
export const CHANGE_POLL_OVERLAP_MS = 60_000;

/** Reads what changed since `since` (ms) and applies it to this process's in-memory state. */
export type ChangePollTask = (since: number) => Promise<void>;

export interface ChangePollOptions {
  clock: Clock;
  intervalMs: number;
  tasks: ChangePollTask[];
  onError(message: string, error: unknown): void;
}

/**
 * The database-polled fallback for pub/sub (cluster mode). Pub/sub tells every process of a change at once, but
 * it loses messages while Redis is down, hung or partitioned from some processes, and nothing tells a process
 * that it missed one. So every process also reads, every `intervalMs` whatever Redis does, what changed in the
 * database since shortly before its previous successful poll: a change reaches every process within one interval
 * (plus the time of the read) even when no message arrives. Each poll is a few indexed reads of recent rows.
 * Runs never overlap; a failed run (the database unreachable) is reported and looked at again by the next.
 */
export class ChangePoll {
  readonly #options: ChangePollOptions;
  readonly #runs = new CoalescedRun(() => this.#poll());
  #lastStarted: number;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: ChangePollOptions) {
    this.#options = options;
    this.#lastStarted = options.clock.now();
  }

  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  /** Polls now (joining a poll under way); resolves when done, never rejects. */
  poll(): Promise<void> {
    return this.#runs.run().catch(() => {});
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#runs.settled();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.poll().then(() => this.#schedule()), this.#options.intervalMs);
    this.#timer.unref();
  }

  async #poll(): Promise<void> {
    const started = this.#options.clock.now();
    const since = this.#lastStarted - CHANGE_POLL_OVERLAP_MS;
    const results = await Promise.allSettled(this.#options.tasks.map((task) => task(since)));
    const failed = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    for (const failure of failed) this.#options.onError('changes could not be read from the database (pub/sub fallback)', failure.reason);
    if (failed.length === 0) this.#lastStarted = Math.max(this.#lastStarted, started);
  }
}

/**
 * A poll task over a store's changed records: every record changed since `since` is handed to `changed`, on every
 * poll that sees it (a change is seen by the polls of about one overlap; forgetting a cache entry again costs one
 * reload, and the revocation relay tells streams of each change once). Not deduplicated by `updatedAt`: two
 * changes within one millisecond carry the same one. When `limit` records come back, more may have changed:
 * `overflow` is called too (a cache forgets everything).
 */
export function changedRecordsTask(options: {
  list(since: number, limit: number): Promise<ChangedRecord[]>;
  changed(record: ChangedRecord): void;
  overflow(): void;
  limit?: number;
}): ChangePollTask {
  const limit = options.limit ?? 10_000;
  return async (since) => {
    const records = await options.list(since, limit);
    for (const record of records) options.changed(record);
    if (records.length >= limit) options.overflow();
  };
}
