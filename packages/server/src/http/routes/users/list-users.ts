import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { User, userView } from '../../schemas/user.js';
import { registerTenantListRoute } from '../tenant-list-route.js';

export function registerListUsers(app: App, { users }: Services): void {
  registerTenantListRoute(app, {
    path: '/v1/users',
    scope: 'users:read',
    tag: 'users',
    summary: 'List users, newest first',
    item: User,
    moreErrors: [503],
    list: (admin, query) => users.list(admin, query),
    view: (items) => items.map(userView),
  });
}
