import type { FastifyInstance } from 'fastify';
import { handleTokenRequest } from '../../../core/oauth/token-request.js';
import type { Services } from '../../../services.js';
import { peerCertificate } from '../../peer-certificate.js';
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
      const certificateThumbprint = peerCertificate(services, request)?.thumbprint;
      return handleTokenRequest(services.oauth, { client, params, origin: requestOrigin(request), certificateThumbprint });
    },
  );
}
