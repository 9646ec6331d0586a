import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { Actor } from '../core/api-keys/api-key-service.js';
import { allowsManagementScope } from '../core/api-keys/management-scopes.js';
import { BEARER_TOKEN } from '../core/errors.js';
import type { ApiKeyVerification } from '../core/api-keys/verify-api-key.js';
import type { Services } from '../services.js';
import { statusOf, toHttpError } from './plugins/error-handler.js';
import { SECURITY_HEADERS } from './plugins/security-headers.js';
import { setPrereadBody } from './preread-body.js';
import { newRequestId } from './request-id.js';
import { VERIFY_KEY_PATH, VERIFY_KEY_SCOPE } from './routes/keys/verify-key.js';
import { verificationView } from './schemas/api-key.js';
import { verifyOnBehalfOf } from './verify-on-behalf.js';

/**
 * The data plane's fast path: POST /v1/keys/verify answered straight from node:http, in front of Fastify.
 *
 * Why: on a 2-core machine the benchmark (bench/README.md) asks for at least 0.75x the throughput of a
 * hello-world Fastify route, and Fastify's per-request machinery (request and reply objects, hook runners,
 * the content-type parser, the serializer) costs about as much as that whole hello-world route, before any
 * verification work. This path does only what a verification needs.
 *
 * What keeps it honest: it answers only requests whose outcome is exactly the one the Fastify route would
 * give, and hands everything else to Fastify (the one implementation of every rule and every error):
 * - before reading the body, when anything is unusual: another method or path, a query string, a content
 *   type other than plain JSON, no or an oversized Content-Length, chunked bodies, `Expect`, and any
 *   authentication that is not a cached, valid admin key holding keys:verify (failures are then audited
 *   and answered by authenticate.ts);
 * - after reading it, when the body is not valid UTF-8 or JSON, or not exactly `{key, scopes?, clientIp?}`
 *   with values the route schema accepts, or names a `clientIp` that is not an address or is blocked: the bytes
 *   already read are replayed to Fastify (preread-body.ts), which answers as it always does;
 * - and, first of all, when the socket's address is blocked (Fastify's ip-block plugin answers 429).
 * It is off whenever its answers could differ: behind a trusted proxy (client address), with request
 * logging on (debug/trace), and while the server is closing (Fastify answers 503).
 * The verification itself, its audit event and last-used time are the same ApiKeyService.verify call, and
 * the response is the same verificationView; test/fast-verify.test.ts checks both paths answer alike.
 */
export interface FastVerify {
  /** True when this path took the request (it answers it, or hands it to Fastify after reading its body). */
  (request: IncomingMessage, response: ServerResponse): boolean;
  /** Requests answered here, and requests handed to Fastify after their body was read (for tests). */
  readonly stats: { answered: number; handedOver: number };
}

export interface FastVerifyOptions {
  services: Services;
  bodyLimit: number;
  /** Fastify's request handler, for requests handed over after their body was read. */
  handler(request: IncomingMessage, response: ServerResponse): void;
  /** The app's logger (it exists only once the app does). */
  logger(): FastifyBaseLogger;
  isClosing(): boolean;
}

const ROUTE = `POST ${VERIFY_KEY_PATH}`;
const SCOPE = /^[A-Za-z0-9_.:/*-]{1,64}$/;
const MAX_KEY_LENGTH = 256;
const MAX_SCOPES = 50;
const MAX_CLIENT_IP_LENGTH = 64;
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

interface VerifyInput {
  key: string;
  scopes?: string[];
  clientIp?: string;
}

/** True only for bodies the route's schema (VerifyKeyBody) certainly accepts as they are. */
function isPlainVerifyInput(value: unknown): value is VerifyInput {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  let fields = 0;
  for (const name in value) {
    if (name !== 'key' && name !== 'scopes' && name !== 'clientIp') return false;
    fields++;
  }
  const { key, scopes, clientIp } = value as { key?: unknown; scopes?: unknown; clientIp?: unknown };
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) return false;
  let expected = 1;
  if (clientIp !== undefined) {
    // Its value (an IP address, not blocked) is checked by verifyOnBehalfOf, which hands over otherwise.
    if (typeof clientIp !== 'string' || clientIp.length < 2 || clientIp.length > MAX_CLIENT_IP_LENGTH) return false;
    expected++;
  }
  if (scopes === undefined) return fields === expected;
  if (!Array.isArray(scopes) || scopes.length > MAX_SCOPES) return false;
  for (const scope of scopes) if (typeof scope !== 'string' || !SCOPE.test(scope)) return false;
  return fields === expected + 1;
}

export function createFastVerify({ services, bodyLimit, handler, logger, isClosing }: FastVerifyOptions): FastVerify {
  const { apiKeys, clock } = services;
  const { blocks } = services.detection;
  const baseHeaders = Object.entries(SECURITY_HEADERS).flat();

  function writeJson(response: ServerResponse, status: number, requestId: string, body: string, extra: Record<string, string> = {}) {
    const headers = ['x-request-id', requestId, ...baseHeaders];
    for (const name in extra) headers.push(name, extra[name]!);
    headers.push('content-type', JSON_CONTENT_TYPE, 'content-length', String(Buffer.byteLength(body)));
    response.writeHead(status, headers);
    response.end(body);
  }

  /** As the error handler would answer (it is not reachable from here): same shape, same logging. */
  function fail(response: ServerResponse, requestId: string, error: Error) {
    const httpError = toHttpError(error);
    const status = statusOf(httpError);
    if (status >= 500) logger().error({ reqId: requestId, err: error, code: httpError.code }, 'request failed');
    const body = JSON.stringify({ error: httpError.code, error_description: httpError.description, request_id: requestId });
    writeJson(response, status, requestId, body, httpError.headers);
  }

  // A valid key without a rate limit always gets the same answer, until the record changes; and a changed key
  // is a new record (the cache drops the old one on every change), so the text can be kept per record.
  const validBodies = new WeakMap<object, string>();
  function verificationBody(result: ApiKeyVerification): string {
    if (!result.valid || result.rateLimit !== null) return JSON.stringify(verificationView(result, clock.now()));
    let body = validBodies.get(result.key);
    if (body === undefined) {
      body = JSON.stringify(verificationView(result, clock.now()));
      validBodies.set(result.key, body);
    }
    return body;
  }

  const stats = { answered: 0, handedOver: 0 };
  const fastVerify = (request: IncomingMessage, response: ServerResponse): boolean => {
    if (request.method !== 'POST' || request.url !== VERIFY_KEY_PATH) return false;
    // A blocked client address is answered by Fastify (429 ip_blocked, from the ip-block plugin).
    if (blocks.size > 0 && blocks.retryAfterSeconds(request.socket.remoteAddress) > 0) return false;
    const headers = request.headers;
    const contentType = headers['content-type'];
    if (contentType !== 'application/json' && contentType !== JSON_CONTENT_TYPE) return false;
    const contentLength = headers['content-length'];
    if (contentLength === undefined || headers['transfer-encoding'] !== undefined || headers.expect !== undefined) return false;
    const length = Number(contentLength);
    if (!(length > 0 && length <= bodyLimit) || !/^[0-9]+$/.test(contentLength)) return false;
    const authorization = headers.authorization;
    if (authorization === undefined || isClosing()) return false;
    const token = BEARER_TOKEN.exec(authorization)?.[1];
    if (token === undefined) return false;
    let caller: ApiKeyVerification | Promise<ApiKeyVerification>;
    try {
      caller = apiKeys.authenticate(token);
    } catch {
      return false;
    }
    if (caller instanceof Promise) {
      // Not cached: Fastify's authentication waits for the same (single-flight) load.
      caller.catch(() => {});
      return false;
    }
    if (!caller.valid || !allowsManagementScope(caller.key.scopes, VERIFY_KEY_SCOPE)) return false;
    const admin = caller.key;

    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('error', () => response.destroy());
    request.on('end', () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      let input: unknown;
      if (isUtf8(body)) {
        try {
          input = JSON.parse(body.toString('utf8'));
        } catch {
          input = undefined;
        }
      }
      const handOver = () => {
        setPrereadBody(request, body);
        stats.handedOver++;
        handler(request, response);
      };
      if (!isPlainVerifyInput(input)) return handOver();
      const requestId = newRequestId();
      const now = clock.now();
      const userAgent = headers['user-agent'];
      let actor: Actor = {
        keyId: admin.id,
        keyPrefix: admin.displayPrefix,
        userId: null,
        tenantId: admin.tenantId,
        scopes: admin.scopes,
        origin: {
          ip: request.socket.remoteAddress ?? null,
          userAgent: userAgent ? userAgent.slice(0, 512) : null,
          route: ROUTE,
          requestId,
        },
      };
      if (input.clientIp !== undefined) {
        try {
          actor = verifyOnBehalfOf(actor, input.clientIp, blocks);
        } catch {
          // Not an address, or a blocked one: Fastify's route gives the same answer as always.
          return handOver();
        }
      }
      stats.answered++;
      apiKeys.touch(admin.id, now);
      const answer = (result: ApiKeyVerification) => writeJson(response, 200, requestId, verificationBody(result));
      let result: ApiKeyVerification | Promise<ApiKeyVerification>;
      try {
        result = apiKeys.verify(actor, input);
      } catch (error) {
        fail(response, requestId, error as Error);
        return;
      }
      if (result instanceof Promise) result.then(answer, (error: Error) => fail(response, requestId, error));
      else answer(result);
    });
    return true;
  };
  return Object.assign(fastVerify, { stats });
}
