import type { FastifyPluginCallback, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
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

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; set by `requireAuth` (only on routes it protects). */
    auth: Auth;
    /** Why `requireAuth` refused this request (for logs and metrics; the client sees a vague body). */
    authDenial?: RequestDenial;
  }
}

/** `scopes`, `tenantParam`, `clientIp(request)` (default `request.ip`), and `protectedResource`. */
export type RequireAuthOptions = BaseRequireAuthOptions<FastifyRequest>;

/** Fastify's client address: the socket's, or X-Forwarded-For's per Fastify's own `trustProxy`. */
const requestIp = (request: FastifyRequest): string | undefined => request.ip;

/**
 * A Fastify hook (use it as the route's `onRequest`, so unauthenticated bodies are never parsed) that
 * authenticates the request with `authenticator`: on success `request.auth` is set and `X-RateLimit-*`
 * headers are added to the reply; otherwise it answers the denial (401/403/429/503, or 400 for credentials
 * in the query) with its headers and a vague JSON body, and keeps the cause in `request.authDenial`.
 * When Gatehouse verifies an API key, `request.ip` goes along as the client's address (option `clientIp`).
 */
export function requireAuth(authenticator: Authenticator, options?: RequireAuthOptions) {
  const guard = createGuard('gatehouse-sdk/fastify', authenticator, options, ['scopes', 'tenantParam', 'clientIp', 'protectedResource'], 'tenantParam', requestIp);
  const { tenantParam } = guard;
  const noTenant = () => undefined;

  const readTenant = (request: FastifyRequest) =>
    tenantParam === undefined ? noTenant : () => (request.params as Record<string, string | undefined> | undefined)?.[tenantParam];

  const finish = (request: FastifyRequest, reply: FastifyReply, result: GuardResult, done: HookHandlerDoneFunction): void => {
    if (result.ok) {
      request.auth = result.auth;
      for (const name in result.headers) reply.header(name, result.headers[name]);
      done();
      return;
    }
    request.authDenial = result;
    // A callback-style hook that answers sends the reply and does not call done().
    reply.code(result.status).headers(result.headers).type('application/json').send(denialBody(result));
  };

  // Callback style, not async: a cached credential is answered without a single promise, which on a route
  // doing little else is a measurable share of the request's cost.
  return function gatehouseRequireAuth(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    let result;
    try {
      result = guard.check(request.url, request.headers.authorization, readTenant(request), socketPeerCertificate(request.raw.socket), request);
    } catch (error) {
      done(error as Error);
      return;
    }
    if (result instanceof Promise) result.then((r) => finish(request, reply, r, done), done);
    else finish(request, reply, result, done);
  };
}

/**
 * A Fastify plugin serving the Protected Resource Metadata (RFC 9728) of `options.resource` at
 * `/.well-known/oauth-protected-resource/<path of the resource>` and at `/.well-known/oauth-protected-resource`
 * (GET, and HEAD by Fastify's default). Register it without a prefix: `app.register(protectedResourceMetadata(a, pr))`,
 * with the same options as the routes' `requireAuth(a, { protectedResource: pr })`.
 */
export function protectedResourceMetadata(authenticator: Authenticator, options: ProtectedResourceOptions): FastifyPluginCallback {
  const metadata = resolveMetadata('gatehouse-sdk/fastify', authenticator, options);
  const handler = (_request: FastifyRequest, reply: FastifyReply): void => {
    reply.headers(metadata.headers).send(metadata.body);
  };
  return function gatehouseProtectedResourceMetadata(app, _options, done) {
    try {
      for (const url of metadata.paths) app.get(url, handler);
    } catch (error) {
      // A path already routed (another protected resource's bare well-known path): app.ready() rejects with it.
      done(error as Error);
      return;
    }
    done();
  };
}
