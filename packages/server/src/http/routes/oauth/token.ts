import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../../../core/errors.js';
import { param } from '../../../core/oauth/request-params.js';
import { handleTokenRequest } from '../../../core/oauth/token-request.js';
import type { Services } from '../../../services.js';
import { peerCertificate } from '../../peer-certificate.js';
import { requestOrigin } from '../../plugins/authenticate.js';
import { requireClient } from './client-authentication.js';
import { formParams } from './form-body.js';

/** The grants whose request carries a credential of its own (counted as an authentication, like a key). */
const isCredentialGrant = (grantType: string | undefined): grantType is 'authorization_code' | 'refresh_token' =>
  grantType === 'authorization_code' || grantType === 'refresh_token';

/**
 * RFC 6749 section 3.2: the token endpoint. Every response, errors included, is `no-store`.
 * Metrics: tokens issued by grant, and codes and refresh tokens accepted or refused (invalid_grant): these
 * leave no audit event of their own on the write-behind log that counts the other authentications.
 */
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
      const certificateThumbprint = peerCertificate(services, request)?.thumbprint;
      const grantType = param(params, 'grant_type');
      try {
        const response = await handleTokenRequest(services.oauth, { client, params, origin, certificateThumbprint });
        services.metrics.tokenIssued(grantType!);
        if (isCredentialGrant(grantType)) services.metrics.authentication(grantType, 'success');
        return response;
      } catch (error) {
        // A code or refresh token that does not work is a failed authentication, like a wrong secret: audited
        // (so failed-authentication tracking counts it) and counted.
        if (error instanceof OAuthError && error.code === 'invalid_grant') {
          services.oauth.audit(
            {
              type: 'oauth.token',
              outcome: 'failure',
              reason: error.reason ?? 'invalid_grant',
              tenantId: client.tenantId,
              details: { clientId: client.id, grantType: grantType ?? null },
            },
            origin,
          );
          if (isCredentialGrant(grantType)) services.metrics.authentication(grantType, 'failure', 'invalid_grant');
        }
        throw error;
      }
    },
  );
}
