import { describeFetchError, printableUrl, UnavailableError } from './unavailable-error.js';
import { UsageTally, type UsageBatch, type UsageTallyStats } from './usage-tally.js';

export interface UsageReporterOptions {
  /** `POST /v1/usage/reports` of Gatehouse. */
  url: string;
  /** The admin key (keys:verify) the authenticator verifies with. */
  verifierKey: string;
  fetch: typeof fetch;
  /** Seconds between reports. */
  intervalSeconds: number;
  timeoutMs: number;
  onError: (error: Error) => void;
  maxPendingEntries?: number;
}

/**
 * Reports the verifications an authenticator answered from its cache to Gatehouse, so that a key's usage and
 * last-used time include them: counted per key and minute (UsageTally), sent in batches every `intervalSeconds`
 * and at `close()`, one report at a time, each with a timeout. Reporting never blocks or fails a verification:
 * `count` is synchronous and a failed report only goes back to wait for the next one (bounded, then dropped and
 * counted in `stats()`).
 */
export class UsageReporter {
  readonly #options: UsageReporterOptions;
  readonly #tally: UsageTally;
  readonly #timer: ReturnType<typeof setInterval>;
  #flushing: Promise<void> | undefined;
  #closed = false;

  constructor(options: UsageReporterOptions) {
    this.#options = options;
    this.#tally = new UsageTally(options.maxPendingEntries);
    this.#timer = setInterval(() => void this.flush(), options.intervalSeconds * 1000);
    // A reporter never keeps a process alive (Node); browsers have no unref.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  /** One verification of `keyId` answered from the cache at epoch ms `now`. */
  count(keyId: string, now: number): void {
    if (!this.#closed) this.#tally.count(keyId, now);
  }

  stats(): UsageTallyStats {
    return this.#tally.stats();
  }

  /** Reports what is waiting (in batches of up to 1,000 pairs); resolves when done. Never rejects. */
  flush(): Promise<void> {
    if (this.#flushing === undefined) {
      this.#flushing = this.#reportAll().finally(() => {
        this.#flushing = undefined;
      });
    }
    return this.#flushing;
  }

  /** Stops the timer and makes the last report (what it cannot send stays in `stats().pending`). */
  async close(): Promise<void> {
    if (this.#closed) return this.#flushing;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#flushing;
    await this.flush();
  }

  async #reportAll(): Promise<void> {
    for (let batch = this.#tally.take(); batch !== undefined; batch = this.#tally.take()) {
      if (!(await this.#report(batch))) return; // a failed batch waits for the next flush
    }
  }

  /** Sends one batch; true when Gatehouse took it. */
  async #report(batch: UsageBatch): Promise<boolean> {
    const { url, verifierKey, timeoutMs, onError } = this.#options;
    let response: Response;
    try {
      const fetchImpl = this.#options.fetch; // called unbound: browsers refuse window.fetch with another `this`
      response = await fetchImpl(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${verifierKey}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ entries: batch.entries }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      this.#tally.settle(batch, 'retry');
      onError(new UnavailableError(`usage report: ${printableUrl(url)} unreachable: ${describeFetchError(error)}`, { cause: error }));
      return false;
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      body = undefined;
    }
    if (response.status === 202) {
      const ignored = (body as { ignored?: unknown } | undefined)?.ignored;
      this.#tally.settle(batch, { accepted: true, ignored: Number.isSafeInteger(ignored) ? (ignored as number) : 0 });
      return true;
    }
    // Retried (bounded): 5xx, 408, 429, and 400, which a clock ahead of Gatehouse's earns for the current minute
    // (`minute is in the future`) until Gatehouse's clock gets there. Dropped: the rest (401, 403, a Gatehouse
    // without the endpoint), which a retry cannot change.
    const retry = response.status >= 500 || response.status === 400 || response.status === 408 || response.status === 429;
    this.#tally.settle(batch, retry ? 'retry' : 'refused');
    const code = (body as { error?: unknown } | undefined)?.error;
    onError(
      new UnavailableError(
        `usage report: HTTP ${response.status}${typeof code === 'string' ? ` ${code}` : ''}` +
          (retry ? ', retried with the next report' : `, ${batch.total} counts dropped`),
      ),
    );
    return false;
  }
}
