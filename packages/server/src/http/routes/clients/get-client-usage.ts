import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { ClientIdParams } from '../../schemas/client.js';
import { errorResponses } from '../../schemas/common.js';
import { readUsageSeries, UsageQueryString, UsageSeries } from '../usage/usage-series.js';

export function registerGetClientUsage(app: App, services: Services): void {
  app.get(
    '/v1/clients/:id/usage',
    {
      config: { scope: 'clients:read' },
      schema: {
        tags: ['usage'],
        summary: "An OAuth client's usage per minute, hour or day: client_credentials tokens issued (TOKEN_ISSUED) and its tokens introspected (TOKEN_INTROSPECTED)",
        security: [{ adminKey: [] }],
        params: ClientIdParams,
        querystring: UsageQueryString,
        response: { 200: UsageSeries, ...errorResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      // Not found for a client of another tenant, as GET /v1/clients/{id}.
      const client = await services.clients.get(request.admin!, request.params.id);
      return (await readUsageSeries(services, request.query, { credentialId: client.id })).body;
    },
  );
}
