import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Auth, Authenticator } from '../index.js';
import { createGuard, denialBody, type RequestDenial, type RequireAuthOptions } from './create-guard.js';

export { QUERY_CREDENTIAL_PARAMS, type QueryCredentialDenial, type RequestDenial, type RequireAuthOptions } from './create-guard.js';
export type { Auth } from '../index.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; set by `requireAuth` (only on routes it protects). */
    auth: Auth;
    /** Why `requireAuth` refused this request (for logs and metrics; the client sees a vague body). */
    authDenial?: RequestDenial;
  }
}

/**
 * A Fastify hook (use it as the route's `onRequest`, so unauthenticated bodies are never parsed) that
 * authenticates the request with `authenticator`: on success `request.auth` is set and `X-RateLimit-*`
 * headers are added to the reply; otherwise it answers the denial (401/403/429/503, or 400 for credentials
 * in the query) with its headers and a vague JSON body, and keeps the cause in `request.authDenial`.
 */
export function requireAuth(authenticator: Authenticator, options?: RequireAuthOptions) {
  const guard = createGuard('@gatehouse/sdk/fastify', authenticator, options, ['scopes', 'tenantParam'], 'tenantParam');
  const { tenantParam } = guard;
  const noTenant = () => undefined;

  return async function gatehouseRequireAuth(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const result = await guard.check(
      request.url,
      request.headers.authorization,
      tenantParam === undefined ? noTenant : () => (request.params as Record<string, string | undefined> | undefined)?.[tenantParam],
    );
    if (result.ok) {
      request.auth = result.auth;
      for (const name in result.headers) reply.header(name, result.headers[name]);
      return;
    }
    request.authDenial = result;
    await reply.code(result.status).headers(result.headers).type('application/json').send(denialBody(result));
  };
}
