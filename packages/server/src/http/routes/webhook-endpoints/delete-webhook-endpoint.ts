import { Type } from '@sinclair/typebox';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { WebhookEndpointIdParams } from '../../schemas/webhook-endpoint.js';

export function registerDeleteWebhookEndpoint(app: App, { webhookEndpoints }: Services): void {
  app.delete(
    '/v1/webhook-endpoints/:id',
    {
      config: { scope: 'webhooks:write' },
      schema: {
        tags: ['webhooks'],
        summary: 'Delete a webhook endpoint with its delivery log; nothing more is sent to it',
        security: [{ adminKey: [] }],
        params: WebhookEndpointIdParams,
        response: { 204: Type.Null({ description: 'Deleted.' }), ...errorResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      await webhookEndpoints.delete(request.admin!, request.params.id);
      return reply.status(204).send(null);
    },
  );
}
