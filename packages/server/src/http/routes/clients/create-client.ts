import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { clientView, CreateClientBody, OAuthClientWithSecret, withTlsClientAuth } from '../../schemas/client.js';
import { errorResponses } from '../../schemas/common.js';

export function registerCreateClient(app: App, { clients, clock }: Services): void {
  app.post(
    '/v1/clients',
    {
      config: { scope: 'clients:write' },
      schema: {
        tags: ['clients'],
        summary: 'Register an OAuth client (a confidential client gets its secret in this response only)',
        security: [{ adminKey: [] }],
        body: CreateClientBody,
        response: { 201: OAuthClientWithSecret, ...errorResponses(400, 401, 403, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      const { client, clientSecret } = await clients.create(request.admin!, withTlsClientAuth(request.body));
      return reply.status(201).send({ ...clientView(client, clock.now()), ...(clientSecret ? { clientSecret } : {}) });
    },
  );
}
