import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { ClientIdParams, clientView, OAuthClientSchema } from '../../schemas/client.js';
import { errorResponses } from '../../schemas/common.js';

export function registerGetClient(app: App, { clients, clock }: Services): void {
  app.get(
    '/v1/clients/:id',
    {
      config: { scope: 'clients:read' },
      schema: {
        tags: ['clients'],
        summary: 'Get an OAuth client',
        security: [{ adminKey: [] }],
        params: ClientIdParams,
        response: { 200: OAuthClientSchema, ...errorResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => clientView(await clients.get(request.admin!, request.params.id), clock.now()),
  );
}
