import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { parseTimestamp } from '../../cursor.js';
import { ApiKeyWithSecret, apiKeyView, CreateKeyBody } from '../../schemas/api-key.js';
import { errorResponses } from '../../schemas/common.js';

export function registerCreateKey(app: App, { apiKeys, clock }: Services): void {
  app.post(
    '/v1/keys',
    {
      config: { scope: 'keys:write' },
      schema: {
        tags: ['keys'],
        summary: 'Create an API key (the plaintext key is in this response only)',
        security: [{ adminKey: [] }],
        body: CreateKeyBody,
        response: { 201: ApiKeyWithSecret, ...errorResponses(400, 401, 403, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const { record, key } = await apiKeys.create(request.admin!, {
        ...body,
        expiresAt: parseTimestamp(body.expiresAt, 'expiresAt'),
      });
      return reply.status(201).send({ ...apiKeyView(record, clock.now()), key });
    },
  );
}
