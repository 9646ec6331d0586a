import type { Actor } from '../../../core/api-keys/api-key-service.js';
import { GatehouseError } from '../../../core/errors.js';

/** Signing keys serve every tenant: a tenant's admin key may not see or change them. */
export function assertGlobalAdmin(actor: Actor): void {
  if (actor.tenantId !== null) {
    throw new GatehouseError('insufficient_scope', "Signing keys are shared by every tenant: a tenant's key cannot manage them.");
  }
}
