import type { ApiKeyEnvironment } from 'gatehouse-sdk';
import type { AuditEvent, AuditEventType } from '../../core/audit/audit-event.js';
import type {
  ApiKeyRecord,
  UserRecord,
  WebhookAttemptOutcome,
  WebhookAttemptRecord,
  WebhookDeliveryRecord,
  WebhookDeliveryStatus,
  WebhookEndpointPatch,
  WebhookEndpointRecord,
  WebhookScheme,
} from '../stores.js';
import type {
  ApiKeysTable,
  AuditEventsTable,
  UsersTable,
  WebhookAttemptsTable,
  WebhookDeliveriesTable,
  WebhookEndpointsTable,
} from './schema.js';

/** Conversions between records and rows, in one place for both dialects. */

export function apiKeyToRow(key: ApiKeyRecord): ApiKeysTable {
  return {
    id: key.id,
    hash: key.hash,
    display_prefix: key.displayPrefix,
    environment: key.environment,
    name: key.name,
    scopes: JSON.stringify(key.scopes),
    tenant_id: key.tenantId,
    metadata: JSON.stringify(key.metadata),
    rate_limit_limit: key.rateLimit?.limit ?? null,
    rate_limit_window_seconds: key.rateLimit?.windowSeconds ?? null,
    created_at: key.createdAt,
    updated_at: key.updatedAt,
    expires_at: key.expiresAt,
    revoked_at: key.revokedAt,
    last_used_at: key.lastUsedAt,
    rotated_from_id: key.rotatedFromId,
    rotated_to_id: key.rotatedToId,
    created_by: key.createdBy,
    anomaly_action: key.anomalyAction,
  };
}

export function rowToApiKey(row: ApiKeysTable): ApiKeyRecord {
  return {
    id: row.id,
    hash: row.hash,
    displayPrefix: row.display_prefix,
    environment: row.environment as ApiKeyEnvironment,
    name: row.name,
    scopes: JSON.parse(row.scopes) as string[],
    tenantId: row.tenant_id,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    rateLimit:
      row.rate_limit_limit !== null && row.rate_limit_window_seconds !== null
        ? { limit: row.rate_limit_limit, windowSeconds: row.rate_limit_window_seconds }
        : null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
    rotatedFromId: row.rotated_from_id,
    rotatedToId: row.rotated_to_id,
    createdBy: row.created_by,
    anomalyAction: row.anomaly_action === 'revoke' ? 'revoke' : 'notify',
  };
}

/** Longer values (a client id a failed authentication claimed, say) are not indexed: the filter would not match. */
const SUBJECT_MAX_LENGTH = 255;

function subject(details: AuditEvent['details'], field: 'clientId' | 'userId'): string | null {
  const value = details?.[field];
  return typeof value === 'string' && value.length <= SUBJECT_MAX_LENGTH ? value : null;
}

/** The OAuth client and the user an event is about, as its details name them: the columns the audit filters use. */
export function eventSubjects(event: AuditEvent): { client_id: string | null; user_id: string | null } {
  return { client_id: subject(event.details, 'clientId'), user_id: subject(event.details, 'userId') };
}

export function auditEventToRow(event: AuditEvent): AuditEventsTable {
  return {
    ...eventSubjects(event),
    id: event.id,
    type: event.type,
    occurred_at: event.occurredAt,
    outcome: event.outcome,
    reason: event.reason,
    key_id: event.keyId,
    key_prefix: event.keyPrefix,
    actor_key_id: event.actorKeyId,
    actor_user_id: event.actorUserId,
    tenant_id: event.tenantId,
    ip: event.ip,
    user_agent: event.userAgent,
    route: event.route,
    request_id: event.requestId,
    details: event.details ? JSON.stringify(event.details) : null,
  };
}

/** Columns of audit_events in the order pushAuditEventValues writes them. */
export const AUDIT_EVENT_COLUMNS: ReadonlyArray<keyof AuditEventsTable> = [
  'id',
  'type',
  'occurred_at',
  'outcome',
  'reason',
  'key_id',
  'key_prefix',
  'actor_key_id',
  'actor_user_id',
  'client_id',
  'user_id',
  'tenant_id',
  'ip',
  'user_agent',
  'route',
  'request_id',
  'details',
];

/** Appends an event's column values (AUDIT_EVENT_COLUMNS order) to a flat array: a batch without row objects. */
export function pushAuditEventValues(out: unknown[], event: AuditEvent): void {
  const { client_id, user_id } = eventSubjects(event);
  out.push(
    event.id,
    event.type,
    event.occurredAt,
    event.outcome,
    event.reason,
    event.keyId,
    event.keyPrefix,
    event.actorKeyId,
    event.actorUserId,
    client_id,
    user_id,
    event.tenantId,
    event.ip,
    event.userAgent,
    event.route,
    event.requestId,
    event.details ? JSON.stringify(event.details) : null,
  );
}

export function rowToAuditEvent(row: AuditEventsTable): AuditEvent {
  return {
    id: row.id,
    type: row.type as AuditEventType,
    occurredAt: row.occurred_at,
    outcome: row.outcome as AuditEvent['outcome'],
    reason: row.reason,
    keyId: row.key_id,
    keyPrefix: row.key_prefix,
    actorKeyId: row.actor_key_id,
    actorUserId: row.actor_user_id ?? null,
    tenantId: row.tenant_id,
    ip: row.ip,
    userAgent: row.user_agent,
    route: row.route,
    requestId: row.request_id,
    details: row.details ? (JSON.parse(row.details) as Record<string, unknown>) : null,
  };
}

export function userToRow(user: UserRecord): UsersTable {
  return {
    id: user.id,
    email: user.email,
    password_hash: user.passwordHash,
    name: user.name,
    tenant_id: user.tenantId,
    created_at: user.createdAt,
    updated_at: user.updatedAt,
    deleted_at: user.deletedAt,
    disabled_at: user.disabledAt,
    admin_scopes: JSON.stringify(user.adminScopes),
  };
}

export function rowToUser(row: UsersTable): UserRecord {
  return {
    id: row.id,
    email: row.email,
    passwordHash: row.password_hash,
    name: row.name,
    tenantId: row.tenant_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
    disabledAt: row.disabled_at ?? null,
    adminScopes: row.admin_scopes ? (JSON.parse(row.admin_scopes) as string[]) : [],
  };
}

export function webhookEndpointToRow(endpoint: WebhookEndpointRecord): WebhookEndpointsTable {
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: JSON.stringify(endpoint.events),
    scheme: endpoint.scheme,
    tenant_id: endpoint.tenantId,
    description: endpoint.description,
    secret: endpoint.sealedSecret,
    previous_secret: endpoint.sealedPreviousSecret,
    previous_secret_expires_at: endpoint.previousSecretExpiresAt,
    disabled_at: endpoint.disabledAt,
    disabled_reason: endpoint.disabledReason,
    failing_since: endpoint.failingSince,
    version: endpoint.version,
    created_by: endpoint.createdBy,
    created_at: endpoint.createdAt,
    updated_at: endpoint.updatedAt,
  };
}

/** The columns a patch changes (only the fields it has). */
export function webhookEndpointPatchToRow(patch: WebhookEndpointPatch): Partial<WebhookEndpointsTable> {
  const row: Partial<WebhookEndpointsTable> = {};
  if (patch.url !== undefined) row.url = patch.url;
  if (patch.events !== undefined) row.events = JSON.stringify(patch.events);
  if (patch.scheme !== undefined) row.scheme = patch.scheme;
  if (patch.description !== undefined) row.description = patch.description;
  if (patch.sealedSecret !== undefined) row.secret = patch.sealedSecret;
  if (patch.sealedPreviousSecret !== undefined) row.previous_secret = patch.sealedPreviousSecret;
  if (patch.previousSecretExpiresAt !== undefined) row.previous_secret_expires_at = patch.previousSecretExpiresAt;
  if (patch.disabledAt !== undefined) row.disabled_at = patch.disabledAt;
  if (patch.disabledReason !== undefined) row.disabled_reason = patch.disabledReason;
  if (patch.failingSince !== undefined) row.failing_since = patch.failingSince;
  return row;
}

export function rowToWebhookEndpoint(row: WebhookEndpointsTable): WebhookEndpointRecord {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as string[],
    scheme: row.scheme as WebhookScheme,
    tenantId: row.tenant_id,
    description: row.description,
    sealedSecret: row.secret,
    sealedPreviousSecret: row.previous_secret,
    previousSecretExpiresAt: row.previous_secret_expires_at,
    disabledAt: row.disabled_at,
    disabledReason: row.disabled_reason,
    failingSince: row.failing_since,
    version: row.version,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function rowToWebhookDelivery(row: WebhookDeliveriesTable): WebhookDeliveryRecord {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.event_type,
    status: row.status as WebhookDeliveryStatus,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    deadlineAt: row.deadline_at,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deliveredAt: row.delivered_at,
  };
}

export function webhookAttemptToRow(attempt: WebhookAttemptRecord): WebhookAttemptsTable {
  return {
    delivery_id: attempt.deliveryId,
    attempt: attempt.attempt,
    attempted_at: attempt.attemptedAt,
    outcome: attempt.outcome,
    status_code: attempt.statusCode,
    latency_ms: attempt.latencyMs,
    error: attempt.error,
  };
}

export function rowToWebhookAttempt(row: WebhookAttemptsTable): WebhookAttemptRecord {
  return {
    deliveryId: row.delivery_id,
    attempt: row.attempt,
    attemptedAt: row.attempted_at,
    outcome: row.outcome as WebhookAttemptOutcome,
    statusCode: row.status_code,
    latencyMs: row.latency_ms,
    error: row.error,
  };
}
