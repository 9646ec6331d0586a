import { Type } from '@sinclair/typebox';
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
    filters: {
      registration: Type.Optional(Type.Union([Type.Literal('admin'), Type.Literal('dynamic')], { description: 'Only clients registered this way.' })),
    },
    list: (admin, { filters, ...query }) =>
      clients.list(admin, { ...query, ...(filters.registration !== undefined ? { registration: filters.registration as 'admin' | 'dynamic' } : {}) }),
    view: (items) => {
      const now = clock.now();
      return items.map((client) => clientView(client, now));
    },
  });
}
