import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../../../core/errors.js';
import { param } from '../../../core/oauth/request-params.js';
import { handleTokenRequest } from '../../../core/oauth/token-request.js';
import type { Services } from '../../../services.js';
import { requestOrigin } from '../../plugins/authenticate.js';
import { requireClient } from './client-authentication.js';
import { formParams } from './form-body.js';

/** RFC 6749 section 3.2: the token endpoint. Every response, errors included, is `no-store`. */
export function registerTokenEndpoint(app: FastifyInstance, services: Services): void {
  app.post(
    '/oauth/token',
    {
      schema: {
        tags: ['oauth'],
        security: [{ clientBasic: [] }, {}],
        summary: 'Token endpoint: authorization_code (with PKCE), refresh_token, client_credentials',
        description: 'application/x-www-form-urlencoded body per RFC 6749. Errors use RFC 6749 section 5.2 codes.',
      },
      onRequest: (_request, reply, done) => {
        reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
        done();
      },
    },
    async (request) => {
      const params = formParams(request);
      const client = await requireClient(services, request, params);
      const origin = requestOrigin(request);
      try {
        return await handleTokenRequest(services.oauth, { client, params, origin });
      } catch (error) {
        // A code or refresh token that does not work is a failed authentication, like a wrong secret.
        if (error instanceof OAuthError && error.code === 'invalid_grant') {
          services.oauth.audit(
            {
              type: 'oauth.token',
              outcome: 'failure',
              reason: error.reason ?? 'invalid_grant',
              tenantId: client.tenantId,
              details: { clientId: client.id, grantType: param(params, 'grant_type') ?? null },
            },
            origin,
          );
        }
        throw error;
      }
    },
  );
}
