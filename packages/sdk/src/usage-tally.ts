/** One line of `POST /v1/usage/reports`: `count` successful verifications of `keyId` in the minute starting at `minute`. */
export interface UsageEntry {
  keyId: string;
  /** ISO 8601, on a minute boundary (`2026-12-06T20:41:00.000Z`). */
  minute: string;
  count: number;
}

/** What Gatehouse accepts in one report (docs/usage.md). */
export const MAX_REPORT_ENTRIES = 1000;
export const MAX_ENTRY_COUNT = 1_000_000;
/** A count is sent at most this many times (the first report and its retries), then dropped. */
export const MAX_REPORT_ATTEMPTS = 3;
/** Default bound of the (key, minute) pairs waiting to be reported. */
export const DEFAULT_MAX_PENDING_ENTRIES = 20_000;

const MINUTE_MS = 60_000;

interface Pending {
  keyId: string;
  minuteMs: number;
  count: number;
  /** Reports of this count that failed so far. */
  failures: number;
}

/** A batch taken for one report; hand it back with `settle`. */
export interface UsageBatch {
  readonly entries: readonly UsageEntry[];
  /** Total of the entries' counts. */
  readonly total: number;
  readonly items: readonly Pending[];
}

export interface UsageTallyStats {
  /** Verifications counted (cache hits answered as successes). */
  counted: number;
  /** Counts Gatehouse acknowledged (202). */
  reported: number;
  /** Counts waiting to be reported (retries included). */
  pending: number;
  /** Counts given up: too many failed reports, a report Gatehouse refused (4xx), or the memory bound. */
  dropped: number;
  /** Reports that failed (network, timeout, non-202). */
  failedReports: number;
  /** Entries Gatehouse answered as ignored (e.g. a key deleted meanwhile). */
  ignoredEntries: number;
}

/**
 * Counts per key id per minute, in memory, for batched reports: pure (the clock is passed in), no I/O.
 *
 * - The current minute's counts are one Map of key id -> count; when the clock enters a new minute they move
 *   to the pending list (one pair per key and minute). The hot path costs a Map lookup and an increment.
 * - `take()` removes up to MAX_REPORT_ENTRIES pairs (the current minute included) for one report; `settle()`
 *   records its outcome. A failed report puts its pairs back (merged with counts added meanwhile) to go with
 *   the next batch, until a pair has failed MAX_REPORT_ATTEMPTS times: then it is dropped and counted.
 * - Memory is bounded: at most `maxPendingEntries` pairs wait; a count for a new pair beyond that is dropped
 *   and counted (a pair already waiting still takes increments).
 */
export class UsageTally {
  readonly #maxEntries: number;
  #minuteMs = -1;
  #current = new Map<string, number>();
  /** Pairs of finished minutes (and of failed reports), by `${minuteMs} ${keyId}`. */
  readonly #pending = new Map<string, Pending>();
  #pendingTotal = 0;
  #inFlight = 0;
  readonly #stats = { counted: 0, reported: 0, dropped: 0, failedReports: 0, ignoredEntries: 0 };

  constructor(maxPendingEntries = DEFAULT_MAX_PENDING_ENTRIES) {
    this.#maxEntries = maxPendingEntries;
  }

  /** One successful verification of `keyId` at epoch ms `now`. */
  count(keyId: string, now: number): void {
    const minuteMs = now - (now % MINUTE_MS);
    if (minuteMs !== this.#minuteMs) this.#rollOver(minuteMs);
    const current = this.#current.get(keyId);
    if (current !== undefined) {
      this.#current.set(keyId, current + 1);
    } else if (this.#current.size + this.#pending.size < this.#maxEntries) {
      this.#current.set(keyId, 1);
    } else {
      this.#stats.dropped++;
      return;
    }
    this.#stats.counted++;
    this.#pendingTotal++;
  }

  /** Up to MAX_REPORT_ENTRIES pairs for one report (removed until settled), or undefined when there is none. */
  take(): UsageBatch | undefined {
    this.#rollOver(this.#minuteMs);
    if (this.#pending.size === 0) return undefined;
    const items: Pending[] = [];
    const entries: UsageEntry[] = [];
    const rest: Pending[] = [];
    let total = 0;
    for (const [id, whole] of this.#pending) {
      if (items.length === MAX_REPORT_ENTRIES) break;
      this.#pending.delete(id);
      let item = whole;
      if (item.count > MAX_ENTRY_COUNT) {
        // The rest waits for the next report (one line per key and minute in a report).
        rest.push({ ...item, count: item.count - MAX_ENTRY_COUNT });
        item = { ...item, count: MAX_ENTRY_COUNT };
      }
      items.push(item);
      entries.push({ keyId: item.keyId, minute: new Date(item.minuteMs).toISOString(), count: item.count });
      total += item.count;
    }
    for (const item of rest) this.#pending.set(`${item.minuteMs} ${item.keyId}`, item);
    this.#pendingTotal -= total;
    this.#inFlight += total;
    return { entries, total, items };
  }

  /**
   * The outcome of a batch's report: `accepted` (with Gatehouse's `ignored` entries), `retry` (the pairs go
   * back, up to MAX_REPORT_ATTEMPTS reports) or `refused` (a refusal a retry cannot change: dropped).
   */
  settle(batch: UsageBatch, outcome: { accepted: true; ignored: number } | 'retry' | 'refused'): void {
    this.#inFlight -= batch.total;
    if (typeof outcome === 'object') {
      this.#stats.reported += batch.total;
      this.#stats.ignoredEntries += outcome.ignored;
      return;
    }
    this.#stats.failedReports++;
    if (outcome === 'refused') {
      this.#stats.dropped += batch.total;
      return;
    }
    for (const item of batch.items) {
      const failures = item.failures + 1;
      const id = `${item.minuteMs} ${item.keyId}`;
      const waiting = this.#pending.get(id);
      if (failures >= MAX_REPORT_ATTEMPTS || (waiting === undefined && this.#pending.size + this.#current.size >= this.#maxEntries)) {
        this.#stats.dropped += item.count;
        continue;
      }
      this.#pendingTotal += item.count;
      if (waiting) {
        waiting.count += item.count;
        waiting.failures = Math.max(waiting.failures, failures);
      } else {
        this.#pending.set(id, { ...item, failures });
      }
    }
  }

  stats(): UsageTallyStats {
    return { ...this.#stats, pending: this.#pendingTotal + this.#inFlight };
  }

  /** Moves the current minute's counts to the pending pairs and starts `minuteMs`. */
  #rollOver(minuteMs: number): void {
    const finished = this.#minuteMs;
    this.#minuteMs = minuteMs;
    if (this.#current.size === 0) return;
    for (const [keyId, count] of this.#current) {
      const id = `${finished} ${keyId}`;
      const waiting = this.#pending.get(id);
      if (waiting) waiting.count += count;
      else this.#pending.set(id, { keyId, minuteMs: finished, count, failures: 0 });
    }
    this.#current = new Map();
  }
}
