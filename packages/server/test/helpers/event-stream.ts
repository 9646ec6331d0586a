/**
 * A server-sent-events reader over a real socket (fetch with a streaming body), for tests of
 * GET /v1/revocations/stream. Events are queued in arrival order; `next()` takes them one at a time, so a test
 * can assert the exact sequence (and so that nothing arrived twice).
 */

export interface ServerSentEvent {
  event: string;
  data: any;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export class EventStream {
  readonly response: Response;
  /** Every event received, in order. */
  readonly events: ServerSentEvent[] = [];
  /** Comment lines received (without the leading colon and space). */
  readonly comments: string[] = [];
  /** Resolves when the server ends the stream (or the connection breaks). */
  readonly ended: Promise<void>;
  #taken = 0;
  #waiters = new Set<() => void>();
  #done = false;
  readonly #abort: AbortController;

  private constructor(response: Response, abort: AbortController) {
    this.response = response;
    this.#abort = abort;
    this.ended = this.#read().finally(() => {
      this.#done = true;
      this.#wake();
    });
  }

  /** Opens a stream. A non-200 answer is returned as `{ status, body }` with its body read as JSON. */
  static async open(url: string, key?: string): Promise<EventStream> {
    const abort = new AbortController();
    const response = await fetch(url, {
      headers: key ? { authorization: `Bearer ${key}` } : {},
      signal: abort.signal,
    });
    return new EventStream(response, abort);
  }

  get status(): number {
    return this.response.status;
  }

  /** The next event not yet taken, waiting (bounded) for it to arrive. */
  async next(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ServerSentEvent> {
    const deadline = Date.now() + timeoutMs;
    while (this.#taken >= this.events.length) {
      if (this.#done) throw new Error(`the stream ended; events so far: ${JSON.stringify(this.events)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event within ${timeoutMs} ms; events so far: ${JSON.stringify(this.events)}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#waiters.add(wake);
      });
    }
    return this.events[this.#taken++]!;
  }

  /** Events received but not taken yet. */
  pending(): ServerSentEvent[] {
    return this.events.slice(this.#taken);
  }

  close(): void {
    this.#abort.abort();
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  async #read(): Promise<void> {
    // An error answer (JSON) is left for the test to read.
    if (!this.response.body || this.response.status !== 200) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of this.response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.#parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
        this.#wake();
      }
    } catch {
      // Aborted by close(), or the connection broke: the stream has ended either way.
    }
  }

  #parse(block: string): void {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) this.comments.push(line.slice(1).trimStart());
      else if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    }
    if (data.length === 0) return;
    const text = data.join('\n');
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    this.events.push({ event, data: parsed });
  }
}
