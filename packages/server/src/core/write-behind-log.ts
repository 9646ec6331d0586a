/**
 * An append-only write-behind buffer for values that are never merged (audit events): the same batching,
 * retry and bounds as WriteBehind, without a Map keyed per value. On the verification hot path every request
 * adds one event, and a Map entry keyed by a fresh id (hashing the id, growing the table, then copying the
 * entries out at flush) cost more than building the event itself; an array push costs next to nothing.
 */
export interface WriteBehindLogOptions<V> {
  write(values: V[]): Promise<void>;
  intervalMs: number;
  /** Flush early once this many values wait. */
  batchSize: number;
  maxBuffered: number;
  onError(error: unknown, context: { buffered: number; dropped: number }): void;
}

export class WriteBehindLog<V> {
  #buffer: V[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #dropped = 0;

  constructor(private readonly options: WriteBehindLogOptions<V>) {}

  get size(): number {
    return this.#buffer.length;
  }

  /** Values dropped because the buffer was full (only during a long storage outage). */
  get dropped(): number {
    return this.#dropped;
  }

  add(value: V): void {
    const buffer = this.#buffer;
    if (buffer.length >= this.options.maxBuffered) {
      this.#dropped++;
      return;
    }
    buffer.push(value);
    if (buffer.length >= this.options.batchSize && !this.#flushing) void this.flush();
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.flush(), this.options.intervalMs);
    this.#timer.unref();
  }

  /** Writes everything buffered, in order; resolves when the write is done (errors go to onError). */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#buffer.length === 0) return;
    const values = this.#buffer;
    this.#buffer = [];
    this.#flushing = this.options
      .write(values)
      .catch((error: unknown) => {
        // Put the failed batch back in front of what arrived meanwhile, within the bound (oldest kept).
        const room = Math.max(0, this.options.maxBuffered - this.#buffer.length);
        const kept = values.length <= room ? values : values.slice(0, room);
        this.#dropped += values.length - kept.length;
        this.#buffer = kept.concat(this.#buffer);
        this.options.onError(error, { buffered: this.#buffer.length, dropped: this.#dropped });
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
