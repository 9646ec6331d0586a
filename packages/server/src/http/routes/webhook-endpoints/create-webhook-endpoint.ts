import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { CreateWebhookEndpointBody, webhookEndpointView, WebhookEndpointWithSecret } from '../../schemas/webhook-endpoint.js';

export function registerCreateWebhookEndpoint(app: App, { webhookEndpoints, clock }: Services): void {
  app.post(
    '/v1/webhook-endpoints',
    {
      config: { scope: 'webhooks:write' },
      schema: {
        tags: ['webhooks'],
        summary: 'Register a webhook endpoint (its signing secret is in this response only)',
        security: [{ adminKey: [] }],
        body: CreateWebhookEndpointBody,
        response: { 201: WebhookEndpointWithSecret, ...errorResponses(400, 401, 403, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      const { endpoint, secret } = await webhookEndpoints.create(request.admin!, request.body);
      return reply.status(201).send({ ...webhookEndpointView(endpoint, clock.now()), secret });
    },
  );
}
