import { Type } from '@sinclair/typebox';
import { revokeGrants } from '../../../core/oauth/revoke-grants.js';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { ClientIdParams } from '../../schemas/client.js';
import { errorResponses } from '../../schemas/common.js';

export function registerDeleteClient(app: App, { clients, oauth }: Services): void {
  app.delete(
    '/v1/clients/:id',
    {
      config: { scope: 'clients:write' },
      schema: {
        tags: ['clients'],
        summary: 'Delete an OAuth client: it never authenticates again, on every server process (idempotent)',
        security: [{ adminKey: [] }],
        params: ClientIdParams,
        response: { 204: Type.Null({ description: 'Deleted.' }), ...errorResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const actor = request.admin!;
      const deleted = await clients.delete(actor, request.params.id);
      // Its users' grants end with it: refresh tokens stop, live access tokens are denied.
      await revokeGrants(oauth, { clientId: deleted.id }, { reason: 'client deleted', tenantId: deleted.tenantId, origin: actor.origin, actor });
      return reply.status(204).send(null);
    },
  );
}
