import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError } from '../../../core/errors.js';
import { issuerPath } from '../../../config/issuer-path.js';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { escapeHtml } from '../../pages/html.js';
import type { ConsoleFile } from './console-files.js';

/**
 * The console's pages may run only the console's own script and style, talk only to this server, and never
 * be framed. `base-uri 'self'` allows the <base href> that places the console under the issuer's path.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const BASE_TAG = '<base href="/console/" />';

function consoleHeaders(reply: FastifyReply, contentType: string, cacheControl: string): FastifyReply {
  return reply.headers({
    'content-type': contentType,
    'cache-control': cacheControl,
    'content-security-policy': CONSOLE_CSP,
    'cross-origin-opener-policy': 'same-origin',
  });
}

/** The page answered for /console when the console was not built (a checkout that skipped the build). */
function notBuiltPage(reply: FastifyReply): FastifyReply {
  return reply
    .code(503)
    .headers({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
      'retry-after': '3600',
    })
    .send(
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Console not built · Gatehouse</title></head><body>' +
        '<h1>The Gatehouse console is not built</h1>' +
        '<p>This server found no built console (dist-console/ in the gatehouse-server package). Build it with ' +
        '<code>npm run build</code> at the root of the Gatehouse repository, then restart the server.</p>' +
        '<p>The admin API itself works: see <a href="../docs">the API documentation</a>.</p></body></html>',
    );
}

/**
 * The admin console at /console: the built single-page app's files, and its index.html for every other path
 * below /console/ (client-side routes such as /console/keys/key_1). Hashed assets are cached forever, index.html
 * never (a new build is picked up at once). `/console/setup`, the first-run page, is its own route.
 */
export function registerServeConsole(app: App, { config }: Services, files: ReadonlyMap<string, ConsoleFile> | null): void {
  const index = files?.get('index.html');
  const indexText = index?.body.toString('utf8');
  if (indexText !== undefined && !indexText.includes(BASE_TAG)) {
    throw new Error(`The built console's index.html has no ${BASE_TAG}: rebuild packages/console.`);
  }

  const sendIndex = (reply: FastifyReply) => {
    const base = `${issuerPath(config.issuer)}/console/`;
    return consoleHeaders(reply, 'text/html; charset=utf-8', 'no-cache').send(
      indexText!.replace(BASE_TAG, `<base href="${escapeHtml(base)}" />`),
    );
  };

  const sendFile = (request: FastifyRequest, reply: FastifyReply, file: ConsoleFile) => {
    consoleHeaders(reply, file.contentType, file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (file.gzip) {
      reply.header('vary', 'accept-encoding');
      if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) return reply.header('content-encoding', 'gzip').send(file.gzip);
    }
    return reply.send(file.body);
  };

  // Relative, so it stays under the issuer's path: /t1/console -> /t1/console/.
  app.get('/console', { schema: { hide: true } }, (_request, reply) => reply.redirect('console/', 308));

  app.get<{ Params: { '*': string } }>('/console/*', { schema: { hide: true } }, (request, reply) => {
    if (!files || indexText === undefined) return notBuiltPage(reply);
    const path = request.params['*'];
    const file = path === 'index.html' ? undefined : files.get(path);
    if (file) return sendFile(request, reply, file);
    // A missing asset is a 404, not the app: a stale page asking for an old build's file must not get HTML.
    if (path.startsWith('assets/') || /\.[a-z0-9]+$/i.test(path)) {
      throw new GatehouseError('not_found', 'No such file in the console.');
    }
    return sendIndex(reply);
  });
}
