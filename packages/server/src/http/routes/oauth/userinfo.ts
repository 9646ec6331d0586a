import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BEARER_TOKEN } from '../../../core/errors.js';
import { userinfo } from '../../../core/oauth/userinfo.js';
import type { Services } from '../../../services.js';
import { peerCertificate } from '../../peer-certificate.js';
import { allowClientOrigin } from '../../plugins/cors.js';

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return header ? BEARER_TOKEN.exec(header)?.[1] : undefined;
}

/** OpenID Connect Core 5.3: GET or POST with the access token in the Authorization header (and, for a
 * certificate-bound token, over mTLS with its certificate). A page may read the answer from the web origins the
 * token's client registered (CORS, http/plugins/cors.ts). */
export function registerUserinfoEndpoint(app: FastifyInstance, services: Services): void {
  const handler = async (request: FastifyRequest) => {
    const { claims, clientId } = await userinfo(services.oauth, bearer(request), peerCertificate(services, request)?.thumbprint);
    const client = await services.clients.lookup(clientId);
    // No side effect to prevent: an origin the client did not register just gets no CORS approval.
    allowClientOrigin(request, client && client.deletedAt === null ? client.allowedOrigins : [], { enforce: false });
    return claims;
  };
  const schema = { tags: ['oauth'], summary: 'OpenID Connect UserInfo', security: [{ bearerAccessToken: [] }] };
  app.get('/oauth/userinfo', { schema }, handler);
  app.post('/oauth/userinfo', { schema }, handler);
}
