import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { KeyIdParams } from '../../schemas/api-key.js';
import { errorResponses } from '../../schemas/common.js';
import { readUsageSeries, UsageQueryString, UsageSeries } from '../usage/usage-series.js';

export function registerGetKeyUsage(app: App, services: Services): void {
  app.get(
    '/v1/keys/:id/usage',
    {
      config: { scope: 'keys:read' },
      schema: {
        tags: ['usage'],
        summary: "An API key's usage per minute, hour or day: verifications by outcome (SDK cache hits included) and latency",
        security: [{ adminKey: [] }],
        params: KeyIdParams,
        querystring: UsageQueryString,
        response: { 200: UsageSeries, ...errorResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      // Not found for a key of another tenant, as GET /v1/keys/{id}.
      const key = await services.apiKeys.get(request.admin!, request.params.id);
      return (await readUsageSeries(services, request.query, { credentialId: key.id })).body;
    },
  );
}
