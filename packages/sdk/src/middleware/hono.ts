import type { Context, MiddlewareHandler } from 'hono';
import type { Auth, Authenticator } from '../index.js';
import {
  createGuard,
  denialBody,
  resolveMetadata,
  socketPeerCertificate,
  type BaseRequireAuthOptions,
  type MaybeTlsSocket,
  type ProtectedResourceOptions,
  type RequestDenial,
} from './create-guard.js';

export { QUERY_CREDENTIAL_PARAMS, type ProtectedResourceOptions, type QueryCredentialDenial, type RequestDenial } from './create-guard.js';
export type { Auth } from '../index.js';

/** The context variables `requireAuth` sets: `c.get('auth')` in handlers after it. */
export interface AuthVariables {
  auth: Auth;
  /** Why the request was refused (set only on refusals, for logging middleware that runs around it). */
  authDenial: RequestDenial;
}

export interface AuthEnv {
  Variables: AuthVariables;
}

/**
 * `scopes`, `tenantParam`, `protectedResource`, and `clientIp(c)`: default the socket's address on
 * `@hono/node-server` (what its `getConnInfo` reads; X-Forwarded-For is not looked at), nothing elsewhere. Behind a proxy, or on another
 * runtime, say where the address is (e.g. Bun: `(c) => c.env.requestIP(c.req.raw)?.address`).
 */
export type RequireAuthOptions = BaseRequireAuthOptions<Context>;

/** What the node adapter hands over as c.env: the Node request, with its socket (plain or TLS). */
interface NodeBindings {
  incoming?: { socket?: MaybeTlsSocket & { remoteAddress?: string } };
}

const socketIp = (c: Context): string | undefined => (c.env as NodeBindings | undefined)?.incoming?.socket?.remoteAddress;

/**
 * Hono (4) middleware that authenticates the request with `authenticator`. `tenantParam` is read with
 * `c.req.param()`, so mount it on the route (`app.get('/t/:tenant/x', requireAuth(...), handler)`). On success
 * `c.get('auth')` is the caller and `X-RateLimit-*` headers are added to the response; otherwise it answers
 * the denial (401/403/429/503, or 400 for credentials in the query) with its headers and a vague JSON body,
 * and sets `c.get('authDenial')`. When Gatehouse verifies an API key, the client's address goes along (option
 * `clientIp`).
 */
export function requireAuth(authenticator: Authenticator, options?: RequireAuthOptions): MiddlewareHandler<AuthEnv> {
  const guard = createGuard<Context>('gatehouse-sdk/hono', authenticator, options, ['scopes', 'tenantParam', 'clientIp', 'protectedResource'], 'tenantParam', socketIp);
  const { tenantParam } = guard;

  return async function gatehouseRequireAuth(c, next) {
    // On @hono/node-server the Node request (and its TLS socket) is c.env.incoming.
    const incoming = (c.env as NodeBindings | undefined)?.incoming;
    const result = await guard.check(
      c.req.url,
      c.req.header('authorization'),
      () => (tenantParam === undefined ? undefined : (c.req.param() as Record<string, string | undefined>)[tenantParam]),
      socketPeerCertificate(incoming?.socket),
      c,
    );
    if (result.ok) {
      c.set('auth', result.auth);
      await next();
      // After next(): the handler's response exists (c.header copies it if its headers are immutable).
      for (const [name, value] of Object.entries(result.headers)) c.header(name, value);
      return;
    }
    c.set('authDenial', result);
    return new Response(denialBody(result), {
      status: result.status,
      headers: { ...result.headers, 'content-type': 'application/json' },
    });
  };
}

/**
 * Hono middleware serving the Protected Resource Metadata (RFC 9728) of `options.resource`: it answers GET and HEAD
 * at `/.well-known/oauth-protected-resource/<path of the resource>` and `/.well-known/oauth-protected-resource`
 * and passes every other request on. `app.use(protectedResourceMetadata(a, pr))` on the root app, with the same
 * options as the routes' `requireAuth(a, { protectedResource: pr })`.
 */
export function protectedResourceMetadata(authenticator: Authenticator, options: ProtectedResourceOptions): MiddlewareHandler {
  const metadata = resolveMetadata('gatehouse-sdk/hono', authenticator, options);
  return async function gatehouseProtectedResourceMetadata(c, next) {
    const { method } = c.req;
    if ((method !== 'GET' && method !== 'HEAD') || !metadata.paths.includes(c.req.path)) return next();
    // A fresh headers object: @hono/node-server's Response may write to the one it is given.
    return new Response(method === 'HEAD' ? null : metadata.body, { status: 200, headers: { ...metadata.headers } });
  };
}
