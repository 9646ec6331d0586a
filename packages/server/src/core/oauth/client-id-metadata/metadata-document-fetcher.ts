import https from 'node:https';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { ForbiddenDestinationError, guardedLookup, isForbiddenAddress } from '../../webhooks/destination-guard.js';
import type { CacheHeaders } from './cache-lifetime.js';

/** The draft's suggested bound on a metadata document. */
export const DEFAULT_MAX_DOCUMENT_BYTES = 5 * 1024;

export interface FetcherOptions {
  /** Loopback and private targets allowed (GATEHOUSE_CIMD_ALLOW_LOOPBACK): the DNS-level SSRF guard is off. */
  allowLoopback: boolean;
  /** The whole exchange, connection included, is abandoned after this long. */
  timeoutMs: number;
  /** The TCP and TLS handshake must be done within this. */
  connectTimeoutMs: number;
  /** A larger body is refused (the download is aborted as soon as it is past this). */
  maxBytes: number;
  /**
   * Test-only: one more trusted CA (PEM), besides Node's own store (which NODE_EXTRA_CA_CERTS extends in a real
   * deployment). Never set by configuration.
   */
  extraCa?: string | undefined;
}

export type FetchedDocument = { ok: true; body: string; headers: CacheHeaders } | { ok: false; reason: string };

const JSON_CONTENT_TYPE = /^application\/(json|[a-z0-9.+-]+\+json)\s*(;|$)/i;

/**
 * Fetches a client metadata document: GET over https only, redirects never followed (a 3xx is a failure), through
 * the webhook SSRF guard (the connection's own DNS lookup refuses private, loopback, link-local and reserved
 * addresses, so a rebinding name cannot slip through), bounded in time and size, JSON content type only, no
 * compression (the size bound is on the bytes that arrive). Never throws: a failure is a reason.
 */
export function fetchMetadataDocument(url: string, options: FetcherOptions): Promise<FetchedDocument> {
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let connectTimer: NodeJS.Timeout | undefined;
    const finish = (result: FetchedDocument) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(connectTimer);
      resolve(result);
    };
    const fail = (reason: string) => finish({ ok: false, reason });
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return fail('url_invalid');
    }
    if (parsed.protocol !== 'https:') return fail('url_not_https');
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    // Node connects to an IP literal without calling lookup: check it here.
    if (!options.allowLoopback && isIP(host) !== 0 && isForbiddenAddress(host)) return fail('forbidden_address');
    let req: ReturnType<typeof https.request>;
    try {
      req = https.request(parsed, {
        method: 'GET',
        agent: false,
        headers: { accept: 'application/json', 'accept-encoding': 'identity', 'user-agent': 'Gatehouse (client metadata document fetch)' },
        ...(options.allowLoopback ? {} : { lookup: guardedLookup }),
        ...(options.extraCa !== undefined ? { ca: [...rootCertificates, options.extraCa] } : {}),
      });
    } catch {
      return fail('request_failed');
    }
    timer = setTimeout(() => {
      fail('timeout');
      req.destroy();
    }, options.timeoutMs);
    connectTimer = setTimeout(() => {
      fail('connect_timeout');
      req.destroy();
    }, options.connectTimeoutMs);
    req.on('socket', (socket) => {
      socket.once('secureConnect', () => clearTimeout(connectTimer));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof ForbiddenDestinationError) return fail('forbidden_address');
      fail(`fetch_error:${(error.code ?? 'error').slice(0, 60)}`);
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const drop = (reason: string) => {
        fail(reason);
        res.destroy();
        req.destroy();
      };
      if (status >= 300 && status < 400) return drop('redirect_not_followed');
      if (status !== 200) return drop(`http_status_${status}`);
      const contentType = res.headers['content-type'] ?? '';
      if (!JSON_CONTENT_TYPE.test(contentType)) return drop('content_type_not_json');
      const encoding = res.headers['content-encoding'];
      if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return drop('content_encoded');
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > options.maxBytes) return drop('document_too_large');
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) return drop('document_too_large');
        chunks.push(chunk);
      });
      res.on('end', () => {
        const header = (name: string) => {
          const value = res.headers[name];
          return Array.isArray(value) ? value.join(', ') : value;
        };
        finish({
          ok: true,
          body: Buffer.concat(chunks).toString('utf8'),
          headers: { cacheControl: header('cache-control'), expires: header('expires'), date: header('date'), age: header('age') },
        });
      });
      res.on('error', () => fail('fetch_error:response'));
      res.on('aborted', () => fail('fetch_error:aborted'));
    });
    req.end();
  });
}
