import { BatchedWriter } from './batched-writer.js';

/**
 * Buffers writes in memory and flushes them in batches, off the request path.
 * Entries with the same key are merged, so a hot key costs one row per flush. A failed flush
 * puts its entries back for the next attempt; the buffer is bounded, and what overflows is counted and
 * reported rather than allowed to exhaust memory during a long outage.
 */
export interface WriteBehindOptions<K, V> {
  write(entries: Array<[K, V]>): Promise<void>;
  intervalMs: number;
  /** Flush early once this many entries wait. */
  batchSize: number;
  maxBuffered: number;
  /** How two values for one key combine (default: the newer replaces the older). */
  merge?(older: V, newer: V): V;
  onError(error: unknown, context: { buffered: number; dropped: number }): void;
}

export class WriteBehind<K, V> extends BatchedWriter<Array<[K, V]>> {
  #buffer = new Map<K, V>();

  constructor(private readonly options: WriteBehindOptions<K, V>) {
    super(options);
  }

  get size(): number {
    return this.#buffer.size;
  }

  /** The value waiting to be written for a key, if any. */
  peek(key: K): V | undefined {
    return this.#buffer.get(key);
  }

  add(key: K, value: V): void {
    const older = this.#buffer.get(key);
    if (older !== undefined) {
      this.#buffer.set(key, this.options.merge ? this.options.merge(older, value) : value);
      return;
    }
    if (this.#buffer.size >= this.options.maxBuffered) {
      this.droppedCount++;
      return;
    }
    this.#buffer.set(key, value);
    if (this.#buffer.size >= this.options.batchSize && !this.flushing) void this.flush();
  }

  protected take(): Array<[K, V]> | undefined {
    if (this.#buffer.size === 0) return undefined;
    const entries = [...this.#buffer];
    this.#buffer = new Map();
    return entries;
  }

  protected write(entries: Array<[K, V]>): Promise<void> {
    return this.options.write(entries);
  }

  protected putBack(entries: Array<[K, V]>): void {
    for (const [key, value] of entries) {
      const newer = this.#buffer.get(key);
      if (newer !== undefined) {
        this.#buffer.set(key, this.options.merge ? this.options.merge(value, newer) : newer);
      } else if (this.#buffer.size < this.options.maxBuffered) {
        this.#buffer.set(key, value);
      } else {
        this.droppedCount++;
      }
    }
  }
}
