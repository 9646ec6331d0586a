import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { clientView, OAuthClientSchema } from '../../schemas/client.js';
import { registerTenantListRoute } from '../tenant-list-route.js';

export function registerListClients(app: App, { clients, clock }: Services): void {
  registerTenantListRoute(app, {
    path: '/v1/clients',
    scope: 'clients:read',
    tag: 'clients',
    summary: 'List OAuth clients, newest first (deleted clients are not listed)',
    item: OAuthClientSchema,
    list: (admin, query) => clients.list(admin, query),
    view: (items) => {
      const now = clock.now();
      return items.map((client) => clientView(client, now));
    },
  });
}
