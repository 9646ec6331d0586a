import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { RegistrationTokenSchema, registrationTokenView } from '../../schemas/registration-token.js';
import { registerTenantListRoute } from '../tenant-list-route.js';

export function registerListRegistrationTokens(app: App, { registrationTokens, clock }: Services): void {
  registerTenantListRoute(app, {
    path: '/v1/registration-tokens',
    scope: 'clients:read',
    tag: 'clients',
    summary: 'List initial access tokens for Dynamic Client Registration, newest first (revoked, expired and used-up ones too)',
    item: RegistrationTokenSchema,
    list: (admin, { filters: _filters, ...query }) => registrationTokens.list(admin, query),
    view: (items) => {
      const now = clock.now();
      return items.map((token) => registrationTokenView(token, now));
    },
  });
}
