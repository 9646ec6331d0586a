import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { RequestOrigin } from '../../core/audit/audit-event.js';
import type { Actor } from '../../core/api-keys/api-key-service.js';
import { allowsManagementScope, type ManagementScope } from '../../core/api-keys/management-scopes.js';
import { GatehouseError } from '../../core/errors.js';
import type { Services } from '../../services.js';
import { rateLimitHeaders } from '../rate-limit-headers.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The management scope a route requires; routes without one are public. */
    scope?: ManagementScope;
    /** false: the per-admin-key management limit does not apply (the verify endpoint). */
    managementRateLimit?: boolean;
  }
  interface FastifyRequest {
    auth: Actor | null;
  }
}

const REALM = 'Bearer realm="gatehouse"';
/** Query parameters that carry credentials in other APIs; here they are refused, never read. */
const QUERY_CREDENTIAL_PARAMS = ['api_key', 'apikey', 'access_token', 'token', 'key', 'client_secret'];
const BEARER = /^Bearer +([^\s]+) *$/i;

export function requestOrigin(request: FastifyRequest): RequestOrigin {
  const userAgent = request.headers['user-agent'];
  return {
    ip: request.ip,
    userAgent: userAgent ? userAgent.slice(0, 512) : null,
    route: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]!.slice(0, 256)}`,
    requestId: request.id,
  };
}

/**
 * Authenticates the management API: `Authorization: Bearer <admin key>`, checked by the same verification as
 * every other key, then the route's scope, then the per-admin-key rate limit. Runs at onRequest, before any
 * body is read, so unauthenticated requests cost no parsing.
 */
export const authenticatePlugin = fp(async (app: FastifyInstance, { services }: { services: Services }) => {
  const { apiKeys, clock, rateLimiter, config } = services;
  app.decorateRequest('auth', null);

  app.addHook('onRequest', async (request, reply) => {
    if (request.url.includes('?')) {
      const query = request.query as Record<string, unknown>;
      const param = QUERY_CREDENTIAL_PARAMS.find((name) => query[name] !== undefined);
      if (param) {
        apiKeys.record(clock.now(), { type: 'request.credentials_in_query', outcome: 'failure', reason: param }, requestOrigin(request));
        throw new GatehouseError('credentials_in_query');
      }
    }

    const scope = request.routeOptions.config.scope;
    if (!scope) return;
    const origin = requestOrigin(request);
    const fail = (reason: string, keyId: string | null = null, keyPrefix: string | null = null) => {
      apiKeys.record(clock.now(), { type: 'admin.authentication', outcome: 'failure', reason, keyId, keyPrefix }, origin);
    };

    const header = request.headers.authorization;
    if (!header) {
      fail('MISSING_CREDENTIALS');
      // RFC 6750 section 3.1: no error code when the request carried no credentials at all.
      throw new GatehouseError('invalid_token', 'Authentication required.', { headers: { 'www-authenticate': REALM } });
    }
    const token = BEARER.exec(header)?.[1];
    const result = token ? await apiKeys.authenticate(token) : null;
    if (!result || !result.valid) {
      fail(result ? result.code : 'MALFORMED_AUTHORIZATION_HEADER', result?.key?.id, result?.key?.displayPrefix ?? (result && !result.valid ? result.displayPrefix : null));
      throw new GatehouseError('invalid_token', undefined, {
        headers: { 'www-authenticate': `${REALM}, error="invalid_token"` },
      });
    }
    const key = result.key;
    if (!allowsManagementScope(key.scopes, scope)) {
      fail('INSUFFICIENT_SCOPE', key.id, key.displayPrefix);
      throw new GatehouseError('insufficient_scope', `This operation requires the ${scope} scope.`, {
        headers: { 'www-authenticate': `${REALM}, error="insufficient_scope", scope="${scope}"` },
      });
    }

    const now = clock.now();
    request.auth = { keyId: key.id, keyPrefix: key.displayPrefix, tenantId: key.tenantId, scopes: key.scopes, origin };
    apiKeys.touch(key.id, now);
    if (request.routeOptions.config.managementRateLimit === false) return;

    apiKeys.record(now, { type: 'admin.authentication', outcome: 'success', keyId: key.id, keyPrefix: key.displayPrefix, tenantId: key.tenantId }, origin);
    const policy = key.rateLimit ?? config.managementRateLimit;
    const decision = await rateLimiter.consume(`mgmt:${key.id}`, policy);
    const headers = rateLimitHeaders(decision, policy, now);
    if (!decision.allowed) throw new GatehouseError('rate_limited', undefined, { headers });
    reply.headers(headers);
  });
}, { name: 'gatehouse-authenticate', dependencies: ['gatehouse-error-handler'] });
