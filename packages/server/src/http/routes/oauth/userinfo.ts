import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BEARER_TOKEN } from '../../../core/errors.js';
import { userinfo } from '../../../core/oauth/userinfo.js';
import type { Services } from '../../../services.js';
import { peerCertificate } from '../../peer-certificate.js';

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return header ? BEARER_TOKEN.exec(header)?.[1] : undefined;
}

/** OpenID Connect Core 5.3: GET or POST with the access token in the Authorization header (and, for a
 * certificate-bound token, over mTLS with its certificate). */
export function registerUserinfoEndpoint(app: FastifyInstance, services: Services): void {
  const handler = async (request: FastifyRequest) => userinfo(services.oauth, bearer(request), peerCertificate(services, request)?.thumbprint);
  const schema = { tags: ['oauth'], summary: 'OpenID Connect UserInfo', security: [{ bearerAccessToken: [] }] };
  app.get('/oauth/userinfo', { schema }, handler);
  app.post('/oauth/userinfo', { schema }, handler);
}
