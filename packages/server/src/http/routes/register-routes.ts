import type { Services } from '../../services.js';
import type { App } from '../app-types.js';
import { registerAuditEvents } from './audit-events.js';
import { registerCreateClient } from './clients/create-client.js';
import { registerDeleteClient } from './clients/delete-client.js';
import { registerGetClient } from './clients/get-client.js';
import { registerListClients } from './clients/list-clients.js';
import { registerRotateClientSecret } from './clients/rotate-client-secret.js';
import { registerUpdateClient } from './clients/update-client.js';
import { registerHealthRoutes } from './health.js';
import { registerCreateKey } from './keys/create-key.js';
import { registerGetKey } from './keys/get-key.js';
import { registerListKeys } from './keys/list-keys.js';
import { registerRevokeKey } from './keys/revoke-key.js';
import { registerRotateKey } from './keys/rotate-key.js';
import { registerUpdateKey } from './keys/update-key.js';
import { registerVerifyKey } from './keys/verify-key.js';
import { registerCreateUser } from './users/create-user.js';
import { registerDeleteUser } from './users/delete-user.js';
import { registerGetUser } from './users/get-user.js';
import { registerListUsers } from './users/list-users.js';

/** Every endpoint, registered in one place. */
export function registerRoutes(app: App, services: Services): void {
  registerHealthRoutes(app, services);
  registerVerifyKey(app, services);
  registerCreateKey(app, services);
  registerListKeys(app, services);
  registerGetKey(app, services);
  registerUpdateKey(app, services);
  registerRotateKey(app, services);
  registerRevokeKey(app, services);
  registerAuditEvents(app, services);
  registerCreateClient(app, services);
  registerListClients(app, services);
  registerGetClient(app, services);
  registerUpdateClient(app, services);
  registerDeleteClient(app, services);
  registerRotateClientSecret(app, services);
  registerCreateUser(app, services);
  registerListUsers(app, services);
  registerGetUser(app, services);
  registerDeleteUser(app, services);
}
