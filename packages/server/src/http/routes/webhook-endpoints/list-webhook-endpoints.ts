import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { webhookEndpointView, WebhookEndpointSchema } from '../../schemas/webhook-endpoint.js';
import { registerTenantListRoute } from '../tenant-list-route.js';

export function registerListWebhookEndpoints(app: App, { webhookEndpoints, clock }: Services): void {
  registerTenantListRoute(app, {
    path: '/v1/webhook-endpoints',
    scope: 'webhooks:read',
    tag: 'webhooks',
    summary: 'List webhook endpoints, newest first',
    item: WebhookEndpointSchema,
    list: (admin, query) => webhookEndpoints.list(admin, query),
    view: (items) => {
      const now = clock.now();
      return items.map((endpoint) => webhookEndpointView(endpoint, now));
    },
  });
}
