import type { FastifyInstance } from 'fastify';
import { revokeToken } from '../../../core/oauth/revoke-token.js';
import type { Services } from '../../../services.js';
import { requestOrigin } from '../../plugins/authenticate.js';
import { requireClient } from './client-authentication.js';
import { formParams } from './form-body.js';

/** RFC 7009: answers 200 with an empty body whether or not there was anything to revoke. */
export function registerRevocationEndpoint(app: FastifyInstance, services: Services): void {
  app.post(
    '/oauth/revoke',
    { schema: { tags: ['oauth'],
        security: [{ clientBasic: [] }, {}], summary: 'Revoke a refresh token (and its grant) or an access token (RFC 7009)' } },
    async (request, reply) => {
      const params = formParams(request);
      const client = await requireClient(services, request, params);
      await revokeToken(services.oauth, client, params, requestOrigin(request));
      return reply.status(200).send();
    },
  );
}
