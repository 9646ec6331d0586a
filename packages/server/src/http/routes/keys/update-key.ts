import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { parseTimestamp } from '../../cursor.js';
import { ApiKey, apiKeyView, KeyIdParams, UpdateKeyBody } from '../../schemas/api-key.js';
import { errorResponses } from '../../schemas/common.js';

export function registerUpdateKey(app: App, { apiKeys, clock }: Services): void {
  app.patch(
    '/v1/keys/:id',
    {
      config: { scope: 'keys:write' },
      schema: {
        tags: ['keys'],
        summary: 'Change the name, scopes, rate limit, metadata or expiry of an active key',
        description: '403 when the key holds a management scope the caller does not hold itself (no caller acts on more privilege than it has). Taking `admin` from the last active admin key bound to no tenant answers 409 last_admin_credential.',
        security: [{ adminKey: [] }],
        params: KeyIdParams,
        body: UpdateKeyBody,
        response: { 200: ApiKey, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429) },
      },
    },
    async (request) => {
      const { expiresAt, ...rest } = request.body;
      const key = await apiKeys.update(request.admin!, request.params.id, {
        ...rest,
        ...(expiresAt !== undefined ? { expiresAt: expiresAt === null ? null : parseTimestamp(expiresAt, 'expiresAt')! } : {}),
      });
      return apiKeyView(key, clock.now(), apiKeys.pendingLastUsedAt(key.id));
    },
  );
}
