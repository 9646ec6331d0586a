import type { FastifyRequest } from 'fastify';
import { OAuthError } from '../../../core/errors.js';
import { issuerBase, issuerPath } from '../../../config/issuer-path.js';
import { authenticateClient, wrongMethodDescription } from '../../../core/oauth/client-auth.js';
import type { OAuthClientView } from '../../../core/oauth/oauth-deps.js';
import type { RequestParams } from '../../../core/oauth/request-params.js';
import type { Services } from '../../../services.js';
import { peerCertificate } from '../../peer-certificate.js';
import { requestOrigin } from '../../plugins/authenticate.js';
import { allowClientOrigin } from '../../plugins/cors.js';
import { firstValues } from './form-body.js';

/**
 * Authenticates the calling client of the token, revocation and introspection endpoints. A failure is a
 * 401 invalid_client with a WWW-Authenticate challenge (RFC 6749 section 5.2) and an audit event with the
 * reason; the client is told nothing more, except, when it used another method than its registered one, which
 * method that is. A browser request from an origin the client has not registered is refused (400
 * unauthorized_client, no CORS approval): http/plugins/cors.ts.
 */
export async function requireClient(services: Services, request: FastifyRequest, params: RequestParams): Promise<OAuthClientView> {
  const presented = peerCertificate(services, request);
  const certificate = presented && { certificate: presented.certificate, thumbprint: presented.thumbprint, issued: presented.kind === 'issued' };
  const result = await authenticateClient(
    { authorization: request.headers.authorization, body: firstValues(params), certificate },
    {
      clients: services.clients,
      clock: services.clock,
      // RFC 7523 section 3: aud is the token endpoint; the issuer is accepted too (RFC 7523 allows the AS's identifier).
      assertions: {
        audiences: () => {
          const issuer = services.oauth.issuer();
          const path = issuerPath(issuer);
          return [
            issuer,
            `${issuerBase(issuer)}/oauth/token`,
            ...(services.config.mtlsUrl ? [`${services.config.mtlsUrl}${path}/oauth/token`] : []),
          ];
        },
        firstUse: (clientId, jti, expiresAt) => services.clientAssertions.firstUse(clientId, jti, expiresAt),
      },
    },
  );
  if (result.ok) {
    // Failures are counted from their audit event; a success writes none.
    services.metrics.authentication('oauth_client', 'success');
    // Token and revocation: a page may call them only from an origin this client registered (CORS).
    allowClientOrigin(request, result.client.allowedOrigins, {
      enforce: true,
      onRefused: (webOrigin) =>
        services.oauth.audit(
          {
            type: 'client.authentication',
            outcome: 'failure',
            reason: 'origin_not_allowed',
            tenantId: result.client.tenantId,
            details: { clientId: result.client.id, origin: webOrigin.slice(0, 300) },
          },
          requestOrigin(request),
        ),
    });
    return result.client;
  }
  services.oauth.audit(
    { type: 'client.authentication', outcome: 'failure', reason: result.reason, details: { clientId: result.clientId ?? null } },
    requestOrigin(request),
  );
  if (result.error === 'invalid_request') throw new OAuthError('invalid_request', 'Use exactly one client authentication method.');
  // The wrong method for a known client is said (which method it must use: public metadata, nothing secret);
  // every other failure (unknown client, wrong secret, bad certificate) is the same bare invalid_client.
  const description = result.wrongMethod && wrongMethodDescription(result.wrongMethod.used, result.wrongMethod.expected);
  throw new OAuthError('invalid_client', description, { headers: { 'www-authenticate': 'Basic realm="gatehouse", charset="UTF-8"' } });
}
