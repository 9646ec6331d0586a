import type { Services } from '../../services.js';
import type { App } from '../app-types.js';
import { registerAuditEvents } from './audit-events.js';
import { registerHealthRoutes } from './health.js';
import { registerCreateKey } from './keys/create-key.js';
import { registerGetKey } from './keys/get-key.js';
import { registerListKeys } from './keys/list-keys.js';
import { registerRevokeKey } from './keys/revoke-key.js';
import { registerRotateKey } from './keys/rotate-key.js';
import { registerUpdateKey } from './keys/update-key.js';
import { registerVerifyKey } from './keys/verify-key.js';
import { registerJwks } from './signing-keys/jwks.js';
import { registerListSigningKeys } from './signing-keys/list-signing-keys.js';
import { registerRotateSigningKey } from './signing-keys/rotate-signing-key.js';

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
  registerJwks(app, services);
  registerListSigningKeys(app, services);
  registerRotateSigningKey(app, services);
}
