import { createSseParser, type SseEvent } from './sse-parser.js';

/** A revoked access token, denylisted until `exp` (Unix seconds). */
export interface DeniedToken {
  jti: string;
  exp: number;
}

export interface RevocationHandlers {
  /** The first event of every connection: the server's current denylist of unexpired access tokens. */
  onReady(deniedTokens: DeniedToken[]): void;
  /** An API key (named by the SHA-256 hex of its plaintext) was revoked, rotated or changed. */
  onKey(hash: string): void;
  /** An access token was revoked. */
  onToken(token: DeniedToken): void;
}

export type RevocationStreamState = 'connecting' | 'open' | 'waiting' | 'closed';

export interface RevocationStreamOptions {
  /** e.g. https://auth.example.com/v1/revocations/stream */
  url: string;
  /** An admin key holding keys:verify. */
  verifierKey: string;
  handlers: RevocationHandlers;
  fetch?: typeof fetch;
  /** First reconnection delay; doubles on each failed attempt up to maxBackoffMs. Default 250 ms. */
  initialBackoffMs?: number;
  /** Default 30 s. */
  maxBackoffMs?: number;
  /** A connection that delivers nothing (not even the 15 s keep-alive) for this long is dropped. Default 45 s. */
  idleTimeoutMs?: number;
  /** Connection failures and malformed events (never thrown: the stream reconnects by itself). */
  onError?: (error: Error) => void;
}

export interface RevocationStream {
  readonly state: RevocationStreamState;
  /** Connections that reached their `ready` event so far. */
  readonly connections: number;
  close(): void;
}

const HASH_PATTERN = /^[0-9a-f]{64}$/;

function isDeniedToken(value: unknown): value is DeniedToken {
  const v = value as DeniedToken;
  return typeof v === 'object' && v !== null && typeof v.jti === 'string' && v.jti.length > 0 && Number.isFinite(v.exp);
}

/**
 * Subscribes to Gatehouse's revocation stream (server-sent events over fetch, so it runs wherever fetch
 * streams response bodies) and keeps it up: any failure (refused connection, HTTP error, end of stream,
 * silence past idleTimeoutMs) is followed by a reconnection after an exponential backoff with jitter, reset
 * once a connection reaches its `ready` event. Starts connecting at once.
 */
export function startRevocationStream(options: RevocationStreamOptions): RevocationStream {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const initialBackoff = options.initialBackoffMs ?? 250;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  const idleTimeout = options.idleTimeoutMs ?? 45_000;
  const { handlers } = options;
  const report = (error: unknown) => options.onError?.(error instanceof Error ? error : new Error(String(error)));

  let state: RevocationStreamState = 'connecting';
  let connections = 0;
  let controller: AbortController | undefined;
  let wake: (() => void) | undefined;
  let sleepTimer: ReturnType<typeof setTimeout> | undefined;

  const dispatch = (event: SseEvent) => {
    let data: any;
    try {
      data = JSON.parse(event.data);
    } catch {
      return report(new Error(`revocation stream: unparsable ${event.event} event`));
    }
    switch (event.event) {
      case 'ready': {
        const denied = Array.isArray(data?.deniedTokens) ? data.deniedTokens.filter(isDeniedToken) : [];
        state = 'open';
        connections++;
        handlers.onReady(denied);
        return;
      }
      case 'key':
        if (typeof data?.hash === 'string' && HASH_PATTERN.test(data.hash)) return handlers.onKey(data.hash);
        return report(new Error('revocation stream: malformed key event'));
      case 'token':
        if (isDeniedToken(data)) return handlers.onToken({ jti: data.jti, exp: data.exp });
        return report(new Error('revocation stream: malformed token event'));
      default:
        return; // unknown event types are for newer SDKs
    }
  };

  const connectOnce = async (): Promise<void> => {
    controller = new AbortController();
    const signal = controller.signal;
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    const armIdle = () => {
      if (idleTimer !== undefined) clearTimeout(idleTimer);
      idleTimer = setTimeout(() => controller?.abort(new Error('revocation stream: idle timeout')), idleTimeout);
    };
    try {
      armIdle();
      const response = await fetchImpl(options.url, {
        headers: { authorization: `Bearer ${options.verifierKey}`, accept: 'text/event-stream', 'cache-control': 'no-store' },
        signal,
      });
      const type = response.headers.get('content-type') ?? '';
      if (!response.ok || !type.toLowerCase().startsWith('text/event-stream') || !response.body) {
        await response.body?.cancel().catch(() => {});
        throw new Error(`revocation stream: HTTP ${response.status}${response.ok ? ` (${type || 'no content type'})` : ''}`);
      }
      const parser = createSseParser(dispatch);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          armIdle();
          parser.feed(value);
        }
      } finally {
        reader.cancel().catch(() => {});
      }
      throw new Error('revocation stream: the server ended the stream');
    } finally {
      if (idleTimer !== undefined) clearTimeout(idleTimer);
    }
  };

  const run = async () => {
    let attempt = 0;
    while (state !== 'closed') {
      state = 'connecting';
      const before = connections;
      try {
        await connectOnce();
      } catch (error) {
        if ((state as RevocationStreamState) === 'closed') return;
        report(error);
      }
      if ((state as RevocationStreamState) === 'closed') return;
      state = 'waiting';
      if (connections > before) attempt = 0;
      const ceiling = Math.min(maxBackoff, initialBackoff * 2 ** Math.min(attempt, 30));
      attempt++;
      const delay = ceiling / 2 + (Math.random() * ceiling) / 2;
      await new Promise<void>((resolve) => {
        wake = resolve;
        sleepTimer = setTimeout(resolve, delay);
        (sleepTimer as { unref?: () => void }).unref?.();
      });
      wake = undefined;
    }
  };
  void run();

  return {
    get state() {
      return state;
    },
    get connections() {
      return connections;
    },
    close() {
      if (state === 'closed') return;
      state = 'closed';
      controller?.abort(new Error('revocation stream closed'));
      if (sleepTimer !== undefined) clearTimeout(sleepTimer);
      wake?.();
    },
  };
}
