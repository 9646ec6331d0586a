import type { NextFunction, Request, Response } from 'express';
import type { Auth, Authenticator } from '../index.js';
import {
  createGuard,
  denialBody,
  resolveMetadata,
  socketPeerCertificate,
  type BaseRequireAuthOptions,
  type GuardResult,
  type ProtectedResourceOptions,
  type RequestDenial,
} from './create-guard.js';

export { QUERY_CREDENTIAL_PARAMS, type ProtectedResourceOptions, type QueryCredentialDenial, type RequestDenial } from './create-guard.js';
export type { Auth } from '../index.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Who is calling; set by `requireAuth` (only on routes it protects). */
      auth?: Auth;
      /** Why `requireAuth` refused this request (for logs and metrics; the client sees a vague body). */
      authDenial?: RequestDenial;
    }
  }
}

/** `scopes`, `tenantParam`, `clientIp(req)` (default `req.ip`), and `protectedResource`. */
export type RequireAuthOptions = BaseRequireAuthOptions<Request>;

/** Express's client address: the socket's, or X-Forwarded-For's per `app.set('trust proxy', ...)`. */
const requestIp = (req: Request): string | undefined => req.ip;

/**
 * Express (5) middleware that authenticates the request with `authenticator`. Mount it on the route
 * (`app.get('/t/:tenant/x', requireAuth(a, { tenantParam: 'tenant' }), handler)`) so `req.params` holds the
 * tenant. On success `req.auth` is set and `X-RateLimit-*` headers are added; otherwise it answers the denial
 * (401/403/429/503, or 400 for credentials in the query) with its headers and a vague JSON body, and keeps
 * the cause in `req.authDenial` (and `res.locals.authDenial`). When Gatehouse verifies an API key, `req.ip` goes
 * along as the client's address (option `clientIp`).
 */
export function requireAuth(authenticator: Authenticator, options?: RequireAuthOptions) {
  const guard = createGuard('gatehouse-sdk/express', authenticator, options, ['scopes', 'tenantParam', 'clientIp', 'protectedResource'], 'tenantParam', requestIp);
  const { tenantParam } = guard;

  const finish = (req: Request, res: Response, next: NextFunction, result: GuardResult): void => {
    if (result.ok) {
      req.auth = result.auth;
      res.set(result.headers);
      next();
      return;
    }
    req.authDenial = result;
    res.locals.authDenial = result;
    res.status(result.status).set(result.headers).type('application/json').send(denialBody(result));
  };

  // Not async: a cached credential is answered without a promise.
  return function gatehouseRequireAuth(req: Request, res: Response, next: NextFunction): void {
    let result;
    try {
      result = guard.check(
        req.originalUrl ?? req.url,
        req.headers.authorization,
        () => (tenantParam === undefined ? undefined : (req.params as Record<string, string | undefined>)[tenantParam]),
        socketPeerCertificate(req.socket),
        req,
      );
    } catch (error) {
      next(error);
      return;
    }
    if (result instanceof Promise) result.then((r) => finish(req, res, next, r), next);
    else finish(req, res, next, result);
  };
}

/**
 * Express middleware serving the Protected Resource Metadata (RFC 9728) of `options.resource`: it answers GET and
 * HEAD at `/.well-known/oauth-protected-resource/<path of the resource>` and `/.well-known/oauth-protected-resource`
 * and passes every other request on. Mount it on the app, not under a path: `app.use(protectedResourceMetadata(a, pr))`,
 * with the same options as the routes' `requireAuth(a, { protectedResource: pr })`.
 */
export function protectedResourceMetadata(authenticator: Authenticator, options: ProtectedResourceOptions) {
  const metadata = resolveMetadata('gatehouse-sdk/express', authenticator, options);
  return function gatehouseProtectedResourceMetadata(req: Request, res: Response, next: NextFunction): void {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !metadata.paths.includes(req.path)) return next();
    res.set(metadata.headers).send(metadata.body);
  };
}
