import { Type } from '@sinclair/typebox';
import { DEFAULT_ROTATION_GRACE_SECONDS } from '../../../core/api-keys/api-key-service.js';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { emptyBodyAsObject } from '../../plugins/json-body.js';
import { ApiKey, ApiKeyWithSecret, apiKeyView, KeyIdParams } from '../../schemas/api-key.js';
import { errorResponses } from '../../schemas/common.js';

export function registerRotateKey(app: App, { apiKeys, clock }: Services): void {
  app.post(
    '/v1/keys/:id/rotate',
    {
      config: { scope: 'keys:write' },
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['keys'],
        summary: 'Replace a key with a new one; the old one keeps working for the grace period',
        description: '403 when the key holds a management scope the caller does not hold itself (no caller acts on more privilege than it has).',
        security: [{ adminKey: [] }],
        params: KeyIdParams,
        body: Type.Object(
          {
            gracePeriodSeconds: Type.Optional(
              Type.Integer({
                minimum: 0,
                maximum: 30 * 86_400,
                default: DEFAULT_ROTATION_GRACE_SECONDS,
                description: 'How long the old key keeps working; 0 revokes it at once.',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Composite([ApiKeyWithSecret, Type.Object({ previous: ApiKey })]),
          ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429),
        },
      },
    },
    async (request) => {
      const { record, key, previous } = await apiKeys.rotate(request.admin!, request.params.id, request.body.gracePeriodSeconds);
      const now = clock.now();
      return { ...apiKeyView(record, now), key, previous: apiKeyView(previous, now) };
    },
  );
}
