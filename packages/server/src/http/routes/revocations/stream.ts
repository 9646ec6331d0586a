import { Type } from '@sinclair/typebox';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { GatehouseError } from '../../../core/errors.js';
import type { RevocationEvent } from '../../../core/revocation-feed.js';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';

export const REVOCATION_STREAM_PATH = '/v1/revocations/stream';
/** A comment line this often keeps proxies and load balancers from closing an idle stream. */
export const KEEP_ALIVE_INTERVAL_MS = 15_000;
/** A client this far behind (bytes queued on its socket) is dropped; it reconnects and starts from `ready`. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/** One server-sent event, as the SSE format frames it (the data is one line of JSON). */
export function formatServerSentEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function frame(event: RevocationEvent): string {
  return event.type === 'key'
    ? formatServerSentEvent('key', { hash: event.hash })
    : formatServerSentEvent('token', { jti: event.jti, exp: event.exp });
}

/**
 * `GET /v1/revocations/stream`: server-sent events for SDKs that cache verified credentials. `ready` first (the
 * current access-token denylist, so a reconnecting client catches up), then `key` and `token` events as this
 * process learns of revocations (its own and, in a cluster, every other process's), and a keep-alive comment
 * every 15 s. Authentication, scope and the management rate limit are checked once, at connect, by the
 * authenticate plugin; after that the response is written to the socket directly (reply.hijack()).
 */
export function registerRevocationStream(app: App, services: Services): void {
  const { revocations, oauth, clock, config } = services;
  const open = new Set<ServerResponse>();
  let closing = false;

  // Every stream ends when the server shuts down, so that closing it does not wait on clients that never leave.
  app.addHook('preClose', (done) => {
    closing = true;
    for (const response of open) response.end();
    done();
  });

  app.get(
    REVOCATION_STREAM_PATH,
    {
      config: { scope: 'keys:verify' },
      schema: {
        tags: ['keys'],
        summary: 'Stream revocations (server-sent events) to drop cached API keys and access tokens at once',
        description:
          'A `text/event-stream` that stays open. First `event: ready` with `{"deniedTokens":[{"jti","exp"}]}` ' +
          '(the access-token denylist, unexpired entries), then `event: key` with `{"hash"}` (SHA-256 hex of an ' +
          'API key that was revoked, rotated or changed) and `event: token` with `{"jti","exp"}` (a revoked ' +
          'access token; exp in unix seconds), and a `: keep-alive` comment every 15 s. Errors (401, 403, 429, ' +
          '503) are answered as JSON before the stream starts. See docs/revocation-stream.md.',
        security: [{ adminKey: [] }],
        response: {
          200: {
            description: 'The event stream.',
            content: { 'text/event-stream': { schema: Type.String({ description: 'Server-sent events.' }) } },
          },
          ...errorResponses(400, 401, 403, 429, 503),
        },
      },
    },
    (request, reply) => {
      if (closing || open.size >= config.revocationStreamMaxConnections) {
        throw new GatehouseError('temporarily_unavailable', 'Too many open revocation streams; retry later.', {
          headers: { 'retry-after': '5' },
        });
      }
      reply.hijack();
      const response = reply.raw;
      open.add(response);
      // The security headers, request id and rate-limit headers the hooks set, then the stream's own.
      const headers: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value;
      response.writeHead(200, {
        ...headers,
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        // Nothing follows a stream on its connection: when it ends (shutdown), the socket closes with it.
        connection: 'close',
      });
      const write = (chunk: string) => {
        if (response.writableEnded || response.destroyed) return;
        response.write(chunk);
        if (response.writableLength > MAX_BUFFERED_BYTES) response.destroy();
      };
      // Synchronously, so no revocation falls between the denylist read and the subscription.
      const deniedTokens = oauth.denylist.list(clock.now()).map((token) => ({ jti: token.jti, exp: Math.ceil(token.expiresAt / 1000) }));
      write(formatServerSentEvent('ready', { deniedTokens }));
      const unsubscribe = revocations.subscribe((event) => write(frame(event)));
      const keepAlive = setInterval(() => write(': keep-alive\n\n'), KEEP_ALIVE_INTERVAL_MS);
      keepAlive.unref();
      response.once('close', () => {
        clearInterval(keepAlive);
        unsubscribe();
        open.delete(response);
      });
    },
  );
}
