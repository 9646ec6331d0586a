import type { Actor } from '../api-keys/api-key-service.js';
import { actorFields, createAuditEvent, type AuditEvent, type ObservedAuditEvent } from '../audit/audit-event.js';
import type { Clock } from '../clock.js';
import { GatehouseError } from '../errors.js';
import type { WriteBehindLog } from '../write-behind-log.js';
import { decideCredentialAction, type CredentialAction, type Privilege } from './credential-policy.js';

/** What a refused action was about, for its audit event. */
export interface GuardedTarget {
  /** The credential's id (`key_...`, `cli_...`, `crt_...`), or null for one not yet created. */
  id: string | null;
  /** Its display prefix, for an API key. */
  keyPrefix?: string | null;
  tenantId: string | null;
}

/**
 * Applies the credential policy (credential-policy.ts) for the services: allowed goes on; refused throws 403
 * insufficient_scope with a vague description and audits the detail (`admin.authorization`, failure: the action,
 * the target, the management scopes the caller lacked).
 */
export class CredentialGuard {
  constructor(private readonly deps: { clock: Clock; audit: WriteBehindLog<AuditEvent, ObservedAuditEvent> }) {}

  assert(actor: Actor, action: CredentialAction, target: GuardedTarget, privileges: readonly Privilege[]): void {
    const decision = decideCredentialAction(actor, action, privileges);
    if (decision.allowed) return;
    this.deps.audit.add(
      createAuditEvent(
        this.deps.clock.now(),
        {
          type: 'admin.authorization',
          outcome: 'failure',
          reason: decision.reason === 'tenant' ? 'OUTSIDE_TENANT' : 'PRIVILEGE_EXCEEDED',
          keyId: target.id?.startsWith('key_') ? target.id : null,
          keyPrefix: target.keyPrefix ?? null,
          tenantId: target.tenantId ?? actor.tenantId,
          ...actorFields(actor),
          details: { action, targetId: target.id, missingScopes: decision.missing },
        },
        actor.origin,
      ),
    );
    throw new GatehouseError(
      'insufficient_scope',
      decision.reason === 'tenant'
        ? "This credential can only act within its own tenant."
        : 'A credential can only create, change or act on credentials whose management scopes it holds itself.',
    );
  }
}
