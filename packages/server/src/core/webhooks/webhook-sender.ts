import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ForbiddenDestinationError, guardedLookup, isForbiddenAddress } from './destination-guard.js';

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** What came back: a status code, or an error (no answer); the latency either way. */
export interface WebhookResponse {
  statusCode: number | null;
  retryAfter: string | undefined;
  error: string | null;
  latencyMs: number;
}

export interface WebhookSenderOptions {
  timeoutMs: number;
  /** Deliver to any address (tests, development): turns the SSRF guard off. */
  allowInsecure: boolean;
  /** Response bytes read before the connection is dropped (default 4 KiB); the body is never kept. */
  maxResponseBytes?: number;
  maxSockets?: number;
}

/** Webhook POSTs over keep-alive connections, through the SSRF guard, bounded in time and in what is read. */
export class WebhookSender {
  readonly #http: http.Agent;
  readonly #https: https.Agent;

  constructor(private readonly options: WebhookSenderOptions) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 256, scheduling: 'lifo' as const };
    this.#http = new http.Agent(agentOptions);
    this.#https = new https.Agent(agentOptions);
  }

  send(request: WebhookRequest): Promise<WebhookResponse> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    return new Promise((resolve) => {
      let settled = false;
      // Declared before finish() can run: a refusal below settles before any timer exists.
      let timer: NodeJS.Timeout | undefined;
      const finish = (statusCode: number | null, error: string | null, retryAfter?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ statusCode, error, retryAfter, latencyMs: elapsed() });
      };
      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        return finish(null, 'invalid url');
      }
      const secure = url.protocol === 'https:';
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      if (!this.options.allowInsecure) {
        // Node connects to an IP literal without calling lookup: check it here.
        if (!secure) return finish(null, 'url must use https');
        if (isIP(host) && isForbiddenAddress(host)) return finish(null, new ForbiddenDestinationError(host).message);
      }
      const body = Buffer.from(request.body, 'utf8');
      const req = (secure ? https : http).request(
        url,
        {
          method: 'POST',
          agent: secure ? this.#https : this.#http,
          headers: { ...request.headers, 'content-length': String(body.length) },
          ...(this.options.allowInsecure ? {} : { lookup: guardedLookup }),
        },
        (res) => {
          const statusCode = res.statusCode ?? null;
          const retryAfter = res.headers['retry-after'];
          let read = 0;
          res.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > (this.options.maxResponseBytes ?? 4096)) {
              // Enough: the status is known, and a large body is not worth the bandwidth or the memory.
              res.destroy();
              finish(statusCode, null, retryAfter);
            }
          });
          res.on('end', () => finish(statusCode, null, retryAfter));
          res.on('error', () => finish(statusCode, null, retryAfter));
          res.on('close', () => finish(statusCode, null, retryAfter));
        },
      );
      timer = setTimeout(() => {
        req.destroy(new Error('timeout'));
        finish(null, `timeout after ${this.options.timeoutMs} ms`);
      }, this.options.timeoutMs);
      req.on('error', (error: NodeJS.ErrnoException) => {
        finish(null, error instanceof ForbiddenDestinationError ? error.message : `${error.code ?? 'error'}: ${error.message}`.slice(0, 300));
      });
      req.end(body);
    });
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}
