import type { Actor } from '../../../core/api-keys/api-key-service.js';
import { GatehouseError } from '../../../core/errors.js';

/** Signing keys (and IP blocks) serve every tenant: a tenant's admin key may not see or change them. */
export function assertGlobalAdmin(
  actor: Actor,
  description = "Signing keys are shared by every tenant: a tenant's key cannot manage them.",
): void {
  if (actor.tenantId !== null) throw new GatehouseError('insufficient_scope', description);
}
