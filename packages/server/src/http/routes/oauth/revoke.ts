import type { FastifyInstance } from 'fastify';
import { revokeToken } from '../../../core/oauth/revoke-token.js';
import type { Services } from '../../../services.js';
import { requestOrigin } from '../../plugins/authenticate.js';
import { requireClient } from './client-authentication.js';
import { formParams } from './form-body.js';

/**
 * RFC 7009: answers 200 with an empty body whether or not there was anything to revoke. Unknown tokens (never
 * issued by Gatehouse) are counted per client, silently (audited as `oauth.revocation`, failure
 * `unknown_token`): past GATEHOUSE_DETECTION_UNKNOWN_TOKEN_LIMIT in a window the client is answered 429 until the
 * window ends.
 */
export function registerRevocationEndpoint(app: FastifyInstance, services: Services): void {
  app.post(
    '/oauth/revoke',
    { schema: { tags: ['oauth'],
        security: [{ clientBasic: [] }, {}], summary: 'Revoke a refresh token (and its grant) or an access token (RFC 7009)' } },
    async (request, reply) => {
      const params = formParams(request);
      const client = await requireClient(services, request, params);
      const limit = services.detection.unknownTokens;
      const callerId = `client:${client.id}`;
      limit?.check(callerId);
      const origin = requestOrigin(request);
      const { unknown } = await revokeToken(services.oauth, client, params, origin);
      if (unknown) {
        const details = { clientId: client.id };
        services.oauth.audit({ type: 'oauth.revocation', outcome: 'failure', reason: 'unknown_token', tenantId: client.tenantId, details }, origin);
        await limit?.count(callerId, details);
      }
      return reply.status(200).send();
    },
  );
}
