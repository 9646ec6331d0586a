import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { credentialInQuery } from 'gatehouse-sdk';
import type { RequestOrigin } from '../../core/audit/audit-event.js';
import type { Actor } from '../../core/api-keys/api-key-service.js';
import { allowsManagementScope, isManagementScope, type ManagementScope } from '../../core/api-keys/management-scopes.js';
import type { ApiKeyVerification } from '../../core/api-keys/verify-api-key.js';
import { checkConsoleToken, consolePrivilege } from '../../core/authorization/console-token.js';
import { consoleAudience } from '../../core/oauth/console-client.js';
import type { UserRecord } from '../../storage/stores.js';
import { BEARER_TOKEN, GatehouseError, insufficientScopeError, invalidTokenError, missingCredentialsError } from '../../core/errors.js';
import type { Services } from '../../services.js';
import { rateLimitHeaders } from '../rate-limit-headers.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The management scope a route requires; routes without one are public. ANY_MANAGEMENT_SCOPE: any admin
     * credential (one holding at least one management scope) will do.
     */
    scope?: ManagementScope | typeof ANY_MANAGEMENT_SCOPE;
    /** false: the per-admin-key management limit does not apply (the verify endpoint). */
    managementRateLimit?: boolean;
    /**
     * true: an admin key is one way in, not the only one. A request without an `Authorization: Bearer` token
     * goes on with `request.admin` null and the route authenticates it otherwise (introspection: OAuth clients).
     */
    bearerOptional?: boolean;
  }
  interface FastifyRequest {
    /** The admin key or admin user that authenticated the request (null on routes that authenticate otherwise). */
    admin: Actor | null;
  }
}

/** Where a request came from, for audit events. `routeUrl` saves a read of request.routeOptions (a getter
 * that builds an object each time). */
export function requestOrigin(request: FastifyRequest, routeUrl = request.routeOptions.url): RequestOrigin {
  const userAgent = request.headers['user-agent'];
  return {
    ip: request.ip,
    userAgent: userAgent ? userAgent.slice(0, 512) : null,
    route: `${request.method} ${routeUrl ?? request.url.split('?')[0]!.slice(0, 256)}`,
    requestId: request.id,
  };
}

type Done = (error?: Error) => void;

/** A route's `scope` for "any admin credential" (GET /v1/me). */
export const ANY_MANAGEMENT_SCOPE = 'any';

/** Whether management scopes `granted` allow a route needing `required`. */
function allows(granted: readonly string[], required: ManagementScope | typeof ANY_MANAGEMENT_SCOPE): boolean {
  return required === ANY_MANAGEMENT_SCOPE ? granted.some(isManagementScope) : allowsManagementScope(granted, required);
}

function scopeError(required: ManagementScope | typeof ANY_MANAGEMENT_SCOPE): GatehouseError {
  return required === ANY_MANAGEMENT_SCOPE
    ? insufficientScopeError('admin', 'This operation requires an admin credential (any management scope).')
    : insufficientScopeError(required);
}

/** A JWT (three dot-separated parts); an API key has no dot. */
const isJwt = (token: string): boolean => token.indexOf('.') > 0;

/**
 * Authenticates the management API: `Authorization: Bearer <admin key>`, checked by the same verification as
 * every other key, then the route's scope, then the per-admin-key rate limit. Runs at onRequest, before any
 * body is read, so unauthenticated requests cost no parsing. Written with callbacks rather than async so a
 * cached key (the hot path) is authenticated without a promise.
 *
 * Or `Authorization: Bearer <console access token>`: a JWT verified in memory with Gatehouse's own signing keys
 * (signature, typ at+jwt, iss, exp), issued to the console client for `<issuer>/v1` with gatehouse:admin and not
 * revoked; the caller is then its user, who acts with the admin roles the user record holds now (read on each
 * call: a role removed or a user disabled takes effect at the next request), through the same scope check, policy
 * and per-caller rate limit as a key.
 */
export const authenticatePlugin = fp(async (app: FastifyInstance, { services }: { services: Services }) => {
  const { apiKeys, clock, managementRateLimiter, config, metrics, oauth, stores } = services;
  app.decorateRequest('admin', null);

  const refuse = (request: FastifyRequest, reason: string, key?: { id: string | null; prefix: string | null }, userId: string | null = null) =>
    apiKeys.record(
      clock.now(),
      { type: 'admin.authentication', outcome: 'failure', reason, keyId: key?.id ?? null, keyPrefix: key?.prefix ?? null, actorUserId: userId },
      requestOrigin(request),
    );

  interface Pending {
    request: FastifyRequest;
    reply: FastifyReply;
    scope: ManagementScope | typeof ANY_MANAGEMENT_SCOPE;
    limited: boolean;
    routeUrl: string | undefined;
    done: Done;
  }

  function admit(pending: Pending, result: ApiKeyVerification) {
    const { request, scope, limited, routeUrl, done } = pending;
    if (!result.valid) {
      refuse(request, result.code, { id: result.key?.id ?? null, prefix: result.key?.displayPrefix ?? result.displayPrefix });
      return done(invalidTokenError());
    }
    const key = result.key;
    if (!allows(key.scopes, scope)) {
      refuse(request, 'INSUFFICIENT_SCOPE', { id: key.id, prefix: key.displayPrefix });
      return done(scopeError(scope));
    }
    const now = clock.now();
    const origin = requestOrigin(request, routeUrl);
    request.admin = { keyId: key.id, keyPrefix: key.displayPrefix, userId: null, tenantId: key.tenantId, scopes: key.scopes, origin };
    apiKeys.touch(key.id, now);
    // The verify endpoint records each verification with its caller; other calls record the authentication.
    if (!limited) return done();
    apiKeys.record(now, { type: 'admin.authentication', outcome: 'success', keyId: key.id, keyPrefix: key.displayPrefix, tenantId: key.tenantId }, origin);
    limit(pending, `mgmt:${key.id}`, key.rateLimit ?? config.managementRateLimit, now);
  }

  /** A console access token: its claims checked in memory, then its user's roles as they are now. */
  function admitUser(pending: Pending, token: string) {
    const { request, scope, limited, routeUrl, done } = pending;
    const checked = checkConsoleToken(oauth.verifyAccessToken(token), { audience: consoleAudience(oauth.issuer()), isDenied: (jti) => oauth.denylist.isDenied(jti) });
    if (!checked.ok) {
      refuse(request, checked.reason);
      return done(invalidTokenError());
    }
    const userId = checked.userId;
    stores.users.findById(userId).then((user: UserRecord | undefined) => {
      const held = consolePrivilege(user);
      if (!held.ok) {
        refuse(request, held.reason, undefined, userId);
        return done(invalidTokenError());
      }
      const { tenantId, scopes } = held.privilege;
      if (!allows(scopes, scope)) {
        refuse(request, 'INSUFFICIENT_SCOPE', undefined, userId);
        return done(scopeError(scope));
      }
      const now = clock.now();
      const origin = requestOrigin(request, routeUrl);
      request.admin = { keyId: null, keyPrefix: null, userId, tenantId, scopes, origin };
      if (!limited) return done();
      apiKeys.record(now, { type: 'admin.authentication', outcome: 'success', actorUserId: userId, tenantId }, origin);
      limit(pending, `mgmt:${userId}`, config.managementRateLimit, now);
    }, done);
  }

  /** The management rate limit, per admin key or per admin user. */
  function limit({ reply, done }: Pending, bucket: string, policy: typeof config.managementRateLimit, now: number) {
    managementRateLimiter.consume(bucket, policy).then((decision) => {
      const headers = rateLimitHeaders(decision, policy, now);
      if (!decision.allowed) {
        metrics.rateLimitRejection('management');
        return done(new GatehouseError('rate_limited', undefined, { headers }));
      }
      reply.headers(headers);
      done();
    }, done);
  }

  app.addHook('onRequest', (request, reply, done) => {
    // Query parameters that carry credentials in other APIs are refused, never read, under every spelling the
    // SDK's middleware refuses too (one list, one matcher: `API_KEY`, `api_key[]`, `access-token`). The audit
    // reason is the list's name, never the name as sent.
    if (request.url.includes('?')) {
      const param = credentialInQuery(request.url);
      if (param) {
        apiKeys.record(clock.now(), { type: 'request.credentials_in_query', outcome: 'failure', reason: param }, requestOrigin(request));
        return done(new GatehouseError('credentials_in_query'));
      }
    }
    const { config: routeConfig, url: routeUrl } = request.routeOptions;
    const scope = routeConfig.scope;
    if (!scope) return done();
    const header = request.headers.authorization;
    const token = header ? BEARER_TOKEN.exec(header)?.[1] : undefined;
    if (!token && routeConfig.bearerOptional) return done();
    if (!header) {
      refuse(request, 'MISSING_CREDENTIALS');
      // RFC 6750 section 3.1: no error code when the request carried no credentials at all.
      return done(missingCredentialsError());
    }
    if (!token) {
      refuse(request, 'MALFORMED_AUTHORIZATION_HEADER');
      return done(invalidTokenError());
    }
    const limited = routeConfig.managementRateLimit !== false;
    const pending: Pending = { request, reply, scope, limited, routeUrl, done };
    if (isJwt(token)) return admitUser(pending, token);
    let result: ApiKeyVerification | Promise<ApiKeyVerification>;
    try {
      result = apiKeys.authenticate(token);
    } catch (error) {
      return done(error as Error);
    }
    if (result instanceof Promise) result.then((r) => admit(pending, r), done);
    else admit(pending, result);
  });
}, { name: 'gatehouse-authenticate', dependencies: ['gatehouse-error-handler'] });
