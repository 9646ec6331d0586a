/**
 * Buffers writes in memory and flushes them in batches, off the request path (audit events, last-used times).
 * Entries with the same key are merged, so a hot key's last-used time costs one row per flush. A failed flush
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

export class WriteBehind<K, V> {
  #buffer = new Map<K, V>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #dropped = 0;

  constructor(private readonly options: WriteBehindOptions<K, V>) {}

  get size(): number {
    return this.#buffer.size;
  }

  /** Entries dropped because the buffer was full (only during a long storage outage). */
  get dropped(): number {
    return this.#dropped;
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
      this.#dropped++;
      return;
    }
    this.#buffer.set(key, value);
    if (this.#buffer.size >= this.options.batchSize && !this.#flushing) void this.flush();
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.flush(), this.options.intervalMs);
    this.#timer.unref();
  }

  /** Writes everything buffered; resolves when the write is done (errors go to onError). */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#buffer.size === 0) return;
    const entries = [...this.#buffer];
    this.#buffer = new Map();
    this.#flushing = this.options
      .write(entries)
      .catch((error: unknown) => {
        for (const [key, value] of entries) {
          const newer = this.#buffer.get(key);
          if (newer !== undefined) {
            this.#buffer.set(key, this.options.merge ? this.options.merge(value, newer) : newer);
          } else if (this.#buffer.size < this.options.maxBuffered) {
            this.#buffer.set(key, value);
          } else {
            this.#dropped++;
          }
        }
        this.options.onError(error, { buffered: this.#buffer.size, dropped: this.#dropped });
      })
      .finally(() => {
        this.#flushing = undefined;
      });
    await this.#flushing;
  }

  /** Stops the timer and flushes what is left. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
