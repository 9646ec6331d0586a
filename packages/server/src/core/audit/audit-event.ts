import { newSortableId } from '../random.js';

/** Every kind of audit event. Lifecycle events are written in the same transaction as the change; the
 * high-volume authentication events are written behind, in batches. */
export const AUDIT_EVENT_TYPES = [
  'system.bootstrap',
  'system.recovery',
  'key.created',
  'key.updated',
  'key.rotated',
  'key.revoked',
  'key.verification',
  'admin.authentication',
  'admin.authorization',
  'request.credentials_in_query',
  'client.created',
  'client.updated',
  'client.deleted',
  'client.secret_rotated',
  'client.authentication',
  'user.created',
  'user.updated',
  'user.sessions_ended',
  'user.deleted',
  'signing_key.created',
  'signing_key.rotated',
  'oauth.authorization',
  'oauth.login',
  'oauth.logout',
  'oauth.token',
  'oauth.revocation',
  'oauth.introspection',
  'grant.revoked',
  'token.reuse_detected',
  'ip.blocked',
  'ip.unblocked',
  'alert.credential_stuffing',
  'alert.brute_force',
  'alert.key_anomaly',
  'alert.key_leaked',
  'alert.pkce_challenge_reused',
  'alert.unknown_tokens',
  'key.expired',
  'webhook_endpoint.created',
  'webhook_endpoint.updated',
  'webhook_endpoint.deleted',
  'webhook_endpoint.secret_rotated',
  'webhook_endpoint.disabled',
  'webhook_delivery.retried',
  'webhook_delivery.test_sent',
  'ca.created',
  'ca.rotated',
  'certificate.issued',
  'certificate.revoked',
  'mtls.certificate_refused',
  'client.registered',
  'client.expired',
  'registration_token.created',
  'registration_token.revoked',
  'resource.created',
  'resource.updated',
  'resource.deleted',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export interface AuditEvent {
  id: string;
  type: AuditEventType;
  occurredAt: number;
  outcome: 'success' | 'failure';
  /** Internal reason for a failure (e.g. REVOKED); never shown to the failing client. */
  reason: string | null;
  /** The key the event is about, by id and display prefix only. */
  keyId: string | null;
  keyPrefix: string | null;
  /** The admin key that made the call. */
  actorKeyId: string | null;
  /** The admin user that made the call (signed in to the console), when a user did rather than a key. */
  actorUserId: string | null;
  tenantId: string | null;
  ip: string | null;
  userAgent: string | null;
  route: string | null;
  requestId: string | null;
  details: Record<string, unknown> | null;
}

/** Where a request came from, copied onto the audit events it causes. */
export interface RequestOrigin {
  ip: string | null;
  userAgent: string | null;
  route: string | null;
  requestId: string | null;
  /**
   * `ip` is an end client's address that a tenant-bound verifier claimed (`clientIp`): recorded, and refused when
   * blocked, but never counted toward a block, which would apply to every tenant.
   */
  ipClaimedByTenant?: boolean;
}

/**
 * What the audit log's observers see (WriteBehindLog.observe): an event as it is written, or a repetitive success
 * that is only shown to them (WriteBehindLog.observeOnly) and never written, which therefore has no id. Drawing an
 * id (the time and a sequence in base 36, ten random characters) cost more than the rest of a verification's
 * bookkeeping, for a value no observer reads.
 */
export type ObservedAuditEvent = Omit<AuditEvent, 'id'>;

export type AuditEventInput = Partial<Omit<AuditEvent, 'id' | 'occurredAt' | 'type' | 'outcome'>> &
  Pick<AuditEvent, 'type' | 'outcome'>;

/** The audit fields naming who acted: an admin key or an admin user (the console), or no one. */
export function actorFields(actor: { keyId: string | null; userId?: string | null } | null | undefined): { actorKeyId: string | null; actorUserId: string | null } {
  return { actorKeyId: actor?.keyId ?? null, actorUserId: actor?.userId ?? null };
}

/** Fills in id, time and the empty fields. */
export function createAuditEvent(now: number, input: AuditEventInput, origin?: RequestOrigin | null): AuditEvent {
  // Written out rather than spread from observedAuditEvent's: a spread made every audited event slower to build.
  return {
    id: newSortableId('evt', now),
    occurredAt: now,
    type: input.type,
    outcome: input.outcome,
    reason: input.reason ?? null,
    keyId: input.keyId ?? null,
    keyPrefix: input.keyPrefix ?? null,
    actorKeyId: input.actorKeyId ?? null,
    actorUserId: input.actorUserId ?? null,
    tenantId: input.tenantId ?? null,
    ip: input.ip ?? origin?.ip ?? null,
    userAgent: input.userAgent ?? origin?.userAgent ?? null,
    route: input.route ?? origin?.route ?? null,
    requestId: input.requestId ?? origin?.requestId ?? null,
    details: input.details ?? null,
  };
}

/** Fills in time and the empty fields, without an id: a success shown to the observers only, never written. */
export function observedAuditEvent(now: number, input: AuditEventInput, origin?: RequestOrigin | null): ObservedAuditEvent {
  return {
    occurredAt: now,
    type: input.type,
    outcome: input.outcome,
    reason: input.reason ?? null,
    keyId: input.keyId ?? null,
    keyPrefix: input.keyPrefix ?? null,
    actorKeyId: input.actorKeyId ?? null,
    actorUserId: input.actorUserId ?? null,
    tenantId: input.tenantId ?? null,
    ip: input.ip ?? origin?.ip ?? null,
    userAgent: input.userAgent ?? origin?.userAgent ?? null,
    route: input.route ?? origin?.route ?? null,
    requestId: input.requestId ?? origin?.requestId ?? null,
    details: input.details ?? null,
  };
}
