/**
 * What both write-behind buffers share: a flush timer, one write at a time, a failed batch handed back for
 * the next attempt, and a count of what a full buffer had to drop. Subclasses decide how values are buffered.
 */
export abstract class BatchedWriter<Batch> {
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  /** Values dropped because the buffer was full (only during a long storage outage). */
  protected droppedCount = 0;

  constructor(
    private readonly timing: {
      intervalMs: number;
      onError(error: unknown, context: { buffered: number; dropped: number }): void;
    },
  ) {}

  /** How many values wait. */
  abstract get size(): number;
  /** Empties the buffer and returns what it held; undefined when it was empty. */
  protected abstract take(): Batch | undefined;
  protected abstract write(batch: Batch): Promise<void>;
  /** After a failed write: puts the batch back, in front of what arrived meanwhile, within the bound. */
  protected abstract putBack(batch: Batch): void;

  get dropped(): number {
    return this.droppedCount;
  }

  protected get flushing(): boolean {
    return this.#flushing !== undefined;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.flush(), this.timing.intervalMs);
    this.#timer.unref();
  }

  /** Writes everything buffered; resolves when the write is done (errors go to onError). */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    const batch = this.take();
    if (batch === undefined) return;
    this.#flushing = this.write(batch)
      .catch((error: unknown) => {
        this.putBack(batch);
        this.timing.onError(error, { buffered: this.size, dropped: this.droppedCount });
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
