import { revokeGrants } from '../../../core/oauth/revoke-grants.js';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { ClientIdParams } from '../../schemas/client.js';
import { errorResponses } from '../../schemas/common.js';
import { RevokedGrants } from './revoke-user-grants.js';

/** Ends every grant of a client, for all its users. */
export function registerRevokeClientGrants(app: App, services: Services): void {
  app.delete(
    '/v1/clients/:id/grants',
    {
      config: { scope: 'clients:write' },
      schema: {
        tags: ['clients'],
        summary: "Revoke all of a client's OAuth grants (refresh tokens and the access tokens issued from them)",
        security: [{ adminKey: [] }],
        params: ClientIdParams,
        response: { 200: RevokedGrants, ...errorResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => {
      const actor = request.admin!;
      const client = await services.clients.get(actor, request.params.id);
      services.guard.assert(actor, 'client.revoke_grants', { id: client.id, tenantId: client.tenantId }, [client]);
      const revoked = await revokeGrants(services.oauth, { clientId: client.id }, {
        reason: 'revoked by an administrator',
        tenantId: client.tenantId,
        origin: actor.origin,
        actor,
      });
      return { revokedGrants: revoked.length };
    },
  );
}
