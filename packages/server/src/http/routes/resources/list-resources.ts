import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { resourceView, ResourceSchema } from '../../schemas/resource.js';
import { registerTenantListRoute } from '../tenant-list-route.js';

export function registerListResources(app: App, { resources }: Services): void {
  registerTenantListRoute(app, {
    path: '/v1/resources',
    scope: 'resources:read',
    tag: 'resources',
    summary: 'List resources, newest first (deleted resources are not listed)',
    item: ResourceSchema,
    list: (admin, query) => resources.list(admin, query),
    view: (items) => items.map(resourceView),
  });
}
