import { BatchedWriter } from './batched-writer.js';

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

/**
 * `O` is what observers are shown: `V`, or a wider type when some values are shown to them without ever being
 * written (observeOnly), such as the audit log's id-less successes (ObservedAuditEvent).
 */
export class WriteBehindLog<V extends O, O = V> extends BatchedWriter<V[]> {
  #buffer: V[] = [];
  #observers: Array<(value: O) => void> = [];
  #added = 0;

  constructor(private readonly options: WriteBehindLogOptions<V>) {
    super(options);
  }

  get size(): number {
    return this.#buffer.length;
  }

  /**
   * How many values were ever added (a running count): a caller that saw it change while handling a request
   * knows it added something, and can wait for `flush()` before answering (durable-audit.ts).
   */
  get added(): number {
    return this.#added;
  }

  /**
   * Calls `observer` synchronously with every value added, before it is buffered (also when the buffer is full
   * and the value is dropped): the one place to watch, say, every authentication as it happens. Observers run
   * on the hot path, so they must be cheap and must not throw.
   */
  observe(observer: (value: O) => void): void {
    this.#observers.push(observer);
  }

  /** Shows a value to the observers without writing it (a success the usage counters count instead). */
  observeOnly(value: O): void {
    for (const observer of this.#observers) observer(value);
  }

  add(value: V): void {
    for (const observer of this.#observers) observer(value);
    this.#added++;
    const buffer = this.#buffer;
    if (buffer.length >= this.options.maxBuffered) {
      this.droppedCount++;
      return;
    }
    buffer.push(value);
    if (buffer.length >= this.options.batchSize && !this.flushing) void this.flush();
  }

  protected take(): V[] | undefined {
    if (this.#buffer.length === 0) return undefined;
    const values = this.#buffer;
    this.#buffer = [];
    return values;
  }

  protected write(values: V[]): Promise<void> {
    return this.options.write(values);
  }

  /** In order: the failed batch goes back in front of what arrived meanwhile (oldest kept). */
  protected putBack(values: V[]): void {
    const room = Math.max(0, this.options.maxBuffered - this.#buffer.length);
    const kept = values.length <= room ? values : values.slice(0, room);
    this.droppedCount += values.length - kept.length;
    this.#buffer = kept.concat(this.#buffer);
  }
}
