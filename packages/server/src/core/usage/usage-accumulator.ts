import type { UsageBatch, UsageCell, UsageCounts } from '../../storage/stores.js';
import { LATENCY_BUCKETS, latencyBucket } from './usage-outcomes.js';

/** Cells are keyed per credential by minute and outcome in one number: minute * OUTCOME_SLOTS + outcome. */
const OUTCOME_SLOTS = 64;

const emptyCell = (credentialId: string, minute: number, outcome: number): UsageCell => ({
  credentialId,
  minute,
  outcome,
  count: 0,
  latencyCount: 0,
  latencySumUs: 0,
  latencyMaxUs: 0,
  histogram: new Array<number>(LATENCY_BUCKETS).fill(0),
});

/** Adds `from` into `into` (counts and histograms add, the maximum is the larger). */
export function mergeCounts(into: UsageCounts, from: UsageCounts): void {
  into.count += from.count;
  into.latencyCount += from.latencyCount;
  into.latencySumUs += from.latencySumUs;
  if (from.latencyMaxUs > into.latencyMaxUs) into.latencyMaxUs = from.latencyMaxUs;
  for (let i = 0; i < LATENCY_BUCKETS; i++) into.histogram[i]! += from.histogram[i] ?? 0;
}

/**
 * Usage counted in memory: per credential, per minute, per outcome, a count and latency statistics (count, sum,
 * maximum, fixed-bucket histogram); and the newest minute each API key was used in. Pure: the caller says which
 * minute it is. Bounded: past `maxCells` cells, counts for new cells are dropped (and said so), never memory.
 */
export class UsageAccumulator {
  #cells = new Map<string, Map<number, UsageCell>>();
  #size = 0;
  #lastUsed = new Map<string, number>();

  constructor(private readonly maxCells: number) {}

  /** Cells held. */
  get size(): number {
    return this.#size;
  }

  /**
   * Counts `count` events of `outcome` (a code of USAGE_OUTCOMES) for a credential in `minute`; `latencyUs` when
   * the server measured them (one event), null otherwise. False when the cell was new and there was no room.
   */
  add(credentialId: string, minute: number, outcome: number, count: number, latencyUs: number | null): boolean {
    const perCredential = this.#cells.get(credentialId);
    const slot = minute * OUTCOME_SLOTS + outcome;
    let cell = perCredential?.get(slot);
    if (cell === undefined) {
      cell = emptyCell(credentialId, minute, outcome);
      if (!this.#insert(credentialId, perCredential, slot, cell)) return false;
    }
    cell.count += count;
    if (latencyUs !== null) {
      cell.latencyCount++;
      cell.latencySumUs += latencyUs;
      if (latencyUs > cell.latencyMaxUs) cell.latencyMaxUs = latencyUs;
      cell.histogram[latencyBucket(latencyUs)]!++;
    }
    return true;
  }

  /** Notes that an API key was used in `minute` (never moves backwards). */
  touch(keyId: string, minute: number): void {
    const older = this.#lastUsed.get(keyId);
    if (older === undefined || older < minute) this.#lastUsed.set(keyId, minute);
  }

  /** The newest minute a key was used in, as far as this buffer knows (not yet written). */
  lastUsedMinute(keyId: string): number | undefined {
    return this.#lastUsed.get(keyId);
  }

  /** Empties the buffer; undefined when it held nothing. */
  take(): UsageBatch | undefined {
    if (this.#size === 0 && this.#lastUsed.size === 0) return undefined;
    const cells: UsageCell[] = [];
    for (const perCredential of this.#cells.values()) for (const cell of perCredential.values()) cells.push(cell);
    const batch: UsageBatch = { cells, lastUsed: [...this.#lastUsed] };
    this.#cells = new Map();
    this.#size = 0;
    this.#lastUsed = new Map();
    return batch;
  }

  /**
   * After a failed write: merges the batch back in (what arrived meanwhile adds to it); returns how many counted
   * events were dropped because their cells did not fit.
   */
  putBack(batch: UsageBatch): number {
    let dropped = 0;
    for (const cell of batch.cells) {
      const slot = cell.minute * OUTCOME_SLOTS + cell.outcome;
      const perCredential = this.#cells.get(cell.credentialId);
      const newer = perCredential?.get(slot);
      if (newer !== undefined) mergeCounts(newer, cell);
      else if (!this.#insert(cell.credentialId, perCredential, slot, cell)) dropped += cell.count;
    }
    for (const [keyId, minute] of batch.lastUsed) this.touch(keyId, minute);
    return dropped;
  }

  /** Puts a new cell in its empty slot (its credential's map made if there is none yet); false when full. */
  #insert(credentialId: string, perCredential: Map<number, UsageCell> | undefined, slot: number, cell: UsageCell): boolean {
    if (this.#size >= this.maxCells) return false;
    if (perCredential === undefined) this.#cells.set(credentialId, (perCredential = new Map()));
    perCredential.set(slot, cell);
    this.#size++;
    return true;
  }
}
