import { createAuditEvent, type AuditEvent } from '../audit/audit-event.js';
import type { Clock } from '../clock.js';

export type AlertType = 'alert.credential_stuffing' | 'alert.brute_force' | 'alert.key_anomaly' | 'alert.key_leaked' | 'alert.pkce_challenge_reused' | 'alert.unknown_tokens';

export interface AlertInput {
  type: AlertType;
  /** What the alert is about (say `ip:203.0.113.7`); repeats of one type and cause within a window are aggregated. */
  cause: string;
  reason: string;
  ip?: string | null;
  keyId?: string | null;
  keyPrefix?: string | null;
  tenantId?: string | null;
  details?: Record<string, unknown>;
}

export interface AlertsOptions {
  clock: Clock;
  /** Repeats of one cause within this long after an alert make one follow-up alert with their count. */
  windowMs: number;
  /** Writes alert events at once (AuditStore.insertNow: the transactional path, which also feeds webhooks). */
  write(events: AuditEvent[]): Promise<void>;
  onError(message: string, error: unknown): void;
}

interface OpenWindow {
  until: number;
  /** Repeats since the last alert of this cause, and the latest of them. */
  count: number;
  latest: AlertInput;
  firstAt: number;
}

/**
 * Raises alerts without flooding: the first occurrence of a cause is an alert at once (`details.count` 1);
 * further occurrences within the window are counted, and when the window ends they become one alert carrying
 * their count (and a new window opens, so a sustained attack gives one alert per window). Every alert is an
 * audit event written at once and is handed to the listeners (the app logs it at warn level).
 * Aggregation is per process: in a cluster each process reports what it saw.
 */
export class Alerts {
  readonly #open = new Map<string, OpenWindow>();
  readonly #listeners: Array<(event: AuditEvent) => void> = [];
  #timer: NodeJS.Timeout | undefined;
  #pending = new Set<Promise<void>>();

  constructor(private readonly options: AlertsOptions) {}

  /** Called with every alert emitted (after it is queued for writing). */
  onAlert(listener: (event: AuditEvent) => void): void {
    this.#listeners.push(listener);
  }

  raise(input: AlertInput): void {
    const now = this.options.clock.now();
    const key = `${input.type} ${input.cause}`;
    let open = this.#open.get(key);
    if (open && open.until <= now) {
      this.#close(key, open, now);
      open = this.#open.get(key);
    }
    if (open) {
      open.count++;
      open.latest = input;
      return;
    }
    this.#open.set(key, { until: now + this.options.windowMs, count: 0, latest: input, firstAt: now });
    this.#emit(input, 1, now, now);
  }

  /** Emits the follow-up alerts of every window that has ended (a timer calls it; tests call it directly). */
  async flushDue(): Promise<void> {
    const now = this.options.clock.now();
    for (const [key, open] of this.#open) if (open.until <= now) this.#close(key, open, now);
    await this.settled();
  }

  /** Resolves once every alert emitted so far has been written (or has failed). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  start(intervalMs = 1000): void {
    this.#timer ??= setInterval(() => void this.flushDue(), intervalMs);
    this.#timer.unref();
  }

  /** Emits what is still aggregated (shutdown) and waits for the writes. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    const now = this.options.clock.now();
    for (const [key, open] of this.#open) {
      if (open.count > 0) this.#emit(open.latest, open.count, open.firstAt, now);
      this.#open.delete(key);
    }
    await this.settled();
  }

  /** A window ended: its repeats (if any) become one alert, and a new window opens for further repeats. */
  #close(key: string, open: OpenWindow, now: number): void {
    this.#open.delete(key);
    if (open.count === 0) return;
    this.#emit(open.latest, open.count, open.firstAt, now);
    this.#open.set(key, { until: now + this.options.windowMs, count: 0, latest: open.latest, firstAt: now });
  }

  #emit(input: AlertInput, count: number, firstAt: number, now: number): void {
    const event = createAuditEvent(now, {
      type: input.type,
      outcome: 'failure',
      reason: input.reason,
      ip: input.ip ?? null,
      keyId: input.keyId ?? null,
      keyPrefix: input.keyPrefix ?? null,
      tenantId: input.tenantId ?? null,
      details: { ...input.details, cause: input.cause, count, firstAt: new Date(firstAt).toISOString() },
    });
    const write = this.options
      .write([event])
      .catch((error: unknown) => this.options.onError(`alert ${input.type} could not be written`, error))
      .finally(() => this.#pending.delete(write));
    this.#pending.add(write);
    for (const listener of this.#listeners) listener(event);
  }
}
