import type { Clock } from '../../core/clock.js';
import { isStorageUnavailable } from '../is-storage-unavailable.js';

/** How long a write that failed for a storage reason keeps the database unready, unless a write succeeds first. */
export const WRITE_FAILURE_WINDOW_MS = 10_000;

/**
 * The outcome of the database's most recent writes, for readiness. A full disk or a read-only file still answers
 * `select 1`, so a ping alone would call such a database ready while every write fails: this remembers the last
 * write that failed for a storage reason (see isStorageUnavailable) until a write succeeds or
 * WRITE_FAILURE_WINDOW_MS pass. The window lets readiness recover once the cause is gone even when nothing
 * writes meanwhile (a load balancer sends no traffic to an unready process); while the write-behind queues keep
 * retrying and failing, each failure renews it.
 */
export class WriteHealth {
  #failure: { at: number; error: unknown } | undefined;

  constructor(private readonly clock: Clock) {}

  /** Records a failed write: only storage failures count (a constraint violation says nothing about the disk). */
  failed(error: unknown): void {
    if (isStorageUnavailable(error)) this.#failure = { at: this.clock.now(), error };
  }

  succeeded(): void {
    this.#failure = undefined;
  }

  /** The storage failure of the most recent write, when it is recent and no write has succeeded since. */
  recentFailure(): { at: number; error: unknown } | undefined {
    if (this.#failure && this.clock.now() - this.#failure.at < WRITE_FAILURE_WINDOW_MS) return this.#failure;
    return undefined;
  }
}
