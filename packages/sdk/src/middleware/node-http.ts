import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Auth, Authenticator } from '../index.js';
import { createGuard, denialBody, resolveMetadata, socketPeerCertificate, type ProtectedResourceOptions, type RequestDenial } from './create-guard.js';

export { QUERY_CREDENTIAL_PARAMS, type ProtectedResourceOptions, type QueryCredentialDenial, type RequestDenial } from './create-guard.js';
export type { Auth } from '../index.js';

/** A request `requireAuth` has seen: `auth` on success, `authDenial` on refusal. */
export type AuthenticatedRequest = IncomingMessage & { auth?: Auth; authDenial?: RequestDenial };

export interface NodeRequireAuthOptions {
  /** Scopes the credential must all hold. */
  scopes?: readonly string[];
  /**
   * The resource's tenant id for this request (node:http has no route parameters): credentials of any other
   * tenant get 403. Returning undefined or '' is a programming error (the promise rejects).
   */
  tenant?: (req: IncomingMessage) => string | undefined;
  /**
   * The address of the client that sent the request, forwarded to Gatehouse when it verifies an API key.
   * Default: `req.socket.remoteAddress` (behind a proxy, take it from the header your proxy sets, and only when
   * the connection comes from that proxy). `() => undefined` forwards nothing; a value that is not an IP address
   * is not sent. Called only when Gatehouse is asked, never for a cached key.
   */
  clientIp?: (req: IncomingMessage) => string | undefined;
  /**
   * The API this route belongs to, as published by `protectedResourceMetadata` (RFC 9728): access tokens must
   * name its `resource` in `aud`, and every 401 and 403 challenge carries `resource_metadata="<its metadata URL>"`.
   */
  protectedResource?: ProtectedResourceOptions;
}

const socketIp = (req: IncomingMessage): string | undefined => req.socket?.remoteAddress;

/**
 * For plain `node:http` servers: returns `gatehouseRequireAuth(req, res)`, which resolves to the caller's
 * `Auth` (also set as `req.auth`, with `X-RateLimit-*` headers set on `res`), or to `undefined` after it has
 * answered the denial (401/403/429/503, or 400 for credentials in the query) with its headers and a vague
 * JSON body, keeping the cause in `req.authDenial`. When Gatehouse verifies an API key, the socket's address goes
 * along as the client's (option `clientIp`):
 *
 *     const auth = await guard(req, res);
 *     if (!auth) return;
 */
export function requireAuth(authenticator: Authenticator, options?: NodeRequireAuthOptions) {
  const guard = createGuard('gatehouse-sdk/node', authenticator, options, ['scopes', 'tenant', 'clientIp', 'protectedResource'], 'tenant', socketIp);
  const tenant = guard.tenantFunction as ((req: IncomingMessage) => string | undefined) | undefined;

  return async function gatehouseRequireAuth(req: IncomingMessage, res: ServerResponse): Promise<Auth | undefined> {
    const request = req as AuthenticatedRequest;
    const result = await guard.check(req.url, req.headers.authorization, () => tenant?.(req), socketPeerCertificate(req.socket), req);
    if (result.ok) {
      request.auth = result.auth;
      for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
      return result.auth;
    }
    request.authDenial = result;
    res.writeHead(result.status, { ...result.headers, 'content-type': 'application/json' }).end(denialBody(result));
    return undefined;
  };
}

/**
 * For plain `node:http` servers: returns `serveMetadata(req, res)`, which answers GET and HEAD at
 * `/.well-known/oauth-protected-resource/<path of the resource>` and `/.well-known/oauth-protected-resource`
 * with the Protected Resource Metadata (RFC 9728) of `options.resource` and returns true, or returns false,
 * answering nothing, for every other request:
 *
 *     if (serveMetadata(req, res)) return;
 */
export function protectedResourceMetadata(authenticator: Authenticator, options: ProtectedResourceOptions) {
  const metadata = resolveMetadata('gatehouse-sdk/node', authenticator, options);
  return function gatehouseProtectedResourceMetadata(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !metadata.paths.includes(path)) return false;
    res.writeHead(200, metadata.headers).end(req.method === 'HEAD' ? undefined : metadata.body);
    return true;
  };
}
