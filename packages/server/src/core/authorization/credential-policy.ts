import { allowsManagementScope, isManagementScope, type ManagementScope } from '../api-keys/management-scopes.js';

/**
 * The one rule for every operation that creates a credential, hands one out, or changes what one may do: a
 * caller never obtains, confers or acts on more privilege than it holds itself.
 *
 * A credential's privilege is what it may do in Gatehouse: the management scopes it holds (`admin` implies every
 * one) and the tenant it is bound to (none: every tenant). An admin user is such a credential too: its admin roles
 * are its management scopes and its tenant binds them, so a caller may neither make a user an administrator beyond
 * its own privilege nor change (a password reset would hand it over), disable or delete one who holds more. Scopes that mean nothing to Gatehouse (`invoices:read`)
 * are the caller's own API's business and are not privileges here: a `keys:write` key mints keys for an API's
 * callers with whatever scopes that API defines.
 */
export interface Privilege {
  /** null: not bound to a tenant (acts on every tenant). */
  tenantId: string | null;
  scopes: readonly string[];
}

/** Every operation the rule governs; a new credential operation adds its name here and asks `decide`. */
export const CREDENTIAL_ACTIONS = [
  'key.create',
  'key.update',
  'key.rotate',
  'key.revoke',
  'client.create',
  'client.update',
  'client.rotate_secret',
  'client.delete',
  'client.revoke_grants',
  'certificate.issue',
  'certificate.revoke',
  // Reads a tenant's (or, for a caller bound to none, the whole deployment's) usage: the tenant rule alone applies.
  'usage.read',
  'user.create',
  'user.update',
  'user.delete',
  // Initial access tokens for Dynamic Client Registration: the tenant rule alone applies (they confer no management scope).
  'registration_token.create',
  'registration_token.revoke',
  // Resources (RFC 8707 APIs): their scopes are what tokens for them may carry; the read is the tenant rule alone.
  'resource.create',
  'resource.read',
  'resource.update',
  'resource.delete',
] as const;
export type CredentialAction = (typeof CREDENTIAL_ACTIONS)[number];

export type PolicyDecision =
  | { allowed: true }
  | {
      allowed: false;
      /** `tenant`: the target reaches beyond the caller's tenant; `scopes`: it holds management scopes the caller lacks. */
      reason: 'tenant' | 'scopes';
      /** The management scopes the caller lacks (empty for `tenant`). */
      missing: string[];
    };

/** The management scopes of `target` that `caller` does not hold (`admin` holds them all). */
function missingScopes(caller: Privilege, target: Privilege): string[] {
  const missing = new Set<string>();
  for (const scope of target.scopes) {
    if (isManagementScope(scope) && !allowsManagementScope(caller.scopes, scope as ManagementScope)) missing.add(scope);
  }
  return [...missing];
}

/**
 * Whether `caller` may perform `action` on credentials whose privileges are `targets`: the credential acted on
 * as it is, and as it will be after the change (one privilege for a creation, two for an update that changes
 * scopes). Allowed only when every target lies within the caller's own privilege: the same tenant (or the caller
 * has none), and no management scope the caller does not hold. Pure; `_action` names the operation for callers
 * that log the decision.
 */
export function decideCredentialAction(caller: Privilege, _action: CredentialAction, targets: readonly Privilege[]): PolicyDecision {
  const missing = new Set<string>();
  for (const target of targets) {
    if (caller.tenantId !== null && target.tenantId !== caller.tenantId) return { allowed: false, reason: 'tenant', missing: [] };
    for (const scope of missingScopes(caller, target)) missing.add(scope);
  }
  return missing.size === 0 ? { allowed: true } : { allowed: false, reason: 'scopes', missing: [...missing].sort() };
}

/** An unrestricted admin credential: `admin`, bound to no tenant. The last active one may not be removed. */
export function isUnrestrictedAdmin(privilege: Privilege): boolean {
  return privilege.tenantId === null && privilege.scopes.includes('admin');
}
