import type { FastifyInstance, FastifyRequest } from 'fastify';
import { allowsManagementScope } from '../../../core/api-keys/management-scopes.js';
import { GatehouseError, OAuthError } from '../../../core/errors.js';
import { introspectToken, type IntrospectionCaller } from '../../../core/oauth/introspect-token.js';
import { param, type RequestParams } from '../../../core/oauth/request-params.js';
import type { Services } from '../../../services.js';
import { requestOrigin } from '../../plugins/authenticate.js';
import { requireClient } from './client-authentication.js';
import { formParams } from './form-body.js';

const BEARER = /^Bearer +(\S+) *$/i;

/** The caller: an admin key holding tokens:introspect (Bearer), or an authenticated client. */
async function caller(services: Services, request: FastifyRequest, params: RequestParams): Promise<IntrospectionCaller> {
  const header = request.headers.authorization;
  const bearer = header ? BEARER.exec(header)?.[1] : undefined;
  if (bearer === undefined) return { kind: 'client', clientId: (await requireClient(services, request, params)).id };
  const result = await services.apiKeys.authenticate(bearer);
  const origin = requestOrigin(request);
  if (!result.valid) {
    services.apiKeys.record(services.clock.now(), { type: 'admin.authentication', outcome: 'failure', reason: result.code }, origin);
    throw new GatehouseError('invalid_token', undefined, { headers: { 'www-authenticate': 'Bearer realm="gatehouse", error="invalid_token"' } });
  }
  if (!allowsManagementScope(result.key.scopes, 'tokens:introspect')) {
    throw new GatehouseError('insufficient_scope', 'This operation requires the tokens:introspect scope.', {
      headers: { 'www-authenticate': 'Bearer realm="gatehouse", error="insufficient_scope", scope="tokens:introspect"' },
    });
  }
  services.apiKeys.record(
    services.clock.now(),
    { type: 'admin.authentication', outcome: 'success', keyId: result.key.id, keyPrefix: result.key.displayPrefix, tenantId: result.key.tenantId },
    origin,
  );
  return { kind: 'admin', tenantId: result.key.tenantId };
}

/** RFC 7662. */
export function registerIntrospectionEndpoint(app: FastifyInstance, services: Services): void {
  app.post(
    '/oauth/introspect',
    {
      schema: {
        tags: ['oauth'],
        security: [{ clientBasic: [] }, { adminKey: [] }],
        summary: 'Token introspection (RFC 7662), for clients (their own tokens) and admin keys with tokens:introspect',
      },
    },
    async (request) => {
      const params = formParams(request);
      const who = await caller(services, request, params);
      const token = param(params, 'token');
      if (token === undefined) throw new OAuthError('invalid_request', 'The token parameter is required.');
      return introspectToken(services.oauth, who, token);
    },
  );
}
