import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { ApiKey, apiKeyView, KeyIdParams } from '../../schemas/api-key.js';
import { errorResponses } from '../../schemas/common.js';

export function registerGetKey(app: App, { apiKeys, clock }: Services): void {
  app.get(
    '/v1/keys/:id',
    {
      config: { scope: 'keys:read' },
      schema: {
        tags: ['keys'],
        summary: 'Get an API key',
        security: [{ adminKey: [] }],
        params: KeyIdParams,
        response: { 200: ApiKey, ...errorResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const key = await apiKeys.get(request.admin!, request.params.id);
      return apiKeyView(key, clock.now(), apiKeys.pendingLastUsedAt(key.id));
    },
  );
}
