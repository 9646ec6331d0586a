import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { ApiKey, apiKeyView, KeyIdParams } from '../../schemas/api-key.js';
import { errorResponses } from '../../schemas/common.js';

export function registerRevokeKey(app: App, { apiKeys, clock }: Services): void {
  app.post(
    '/v1/keys/:id/revoke',
    {
      config: { scope: 'keys:write' },
      schema: {
        tags: ['keys'],
        summary: 'Revoke a key at once, on every server process (idempotent)',
        description: '403 when the key holds a management scope the caller does not hold itself (no caller acts on more privilege than it has). 409 last_admin_credential for the last active admin key bound to no tenant.',
        security: [{ adminKey: [] }],
        params: KeyIdParams,
        response: { 200: ApiKey, ...errorResponses(400, 401, 403, 404, 409, 429, 503) },
      },
    },
    async (request) => apiKeyView(await apiKeys.revoke(request.admin!, request.params.id), clock.now()),
  );
}
