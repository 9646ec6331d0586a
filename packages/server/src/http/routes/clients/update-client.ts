import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { ClientIdParams, clientView, OAuthClientSchema, UpdateClientBody, withTlsClientAuth } from '../../schemas/client.js';
import { errorResponses } from '../../schemas/common.js';

export function registerUpdateClient(app: App, { clients, clock }: Services): void {
  app.patch(
    '/v1/clients/:id',
    {
      config: { scope: 'clients:write' },
      schema: {
        tags: ['clients'],
        summary: 'Change an OAuth client; the result is validated as a whole',
        description: 'Takes effect at once on every server process. The tenant and the secret cannot be changed here.',
        security: [{ adminKey: [] }],
        params: ClientIdParams,
        body: UpdateClientBody,
        response: { 200: OAuthClientSchema, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429) },
      },
    },
    async (request) => clientView(await clients.update(request.admin!, request.params.id, withTlsClientAuth(request.body)), clock.now()),
  );
}
