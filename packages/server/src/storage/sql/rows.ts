import type { ApiKeyEnvironment } from '@gatehouse/sdk';
import type { AuditEvent, AuditEventType } from '../../core/audit/audit-event.js';
import type { ApiKeyRecord, UserRecord } from '../stores.js';
import type { ApiKeysTable, AuditEventsTable, UsersTable } from './schema.js';

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

export function auditEventToRow(event: AuditEvent): AuditEventsTable {
  return {
    id: event.id,
    type: event.type,
    occurred_at: event.occurredAt,
    outcome: event.outcome,
    reason: event.reason,
    key_id: event.keyId,
    key_prefix: event.keyPrefix,
    actor_key_id: event.actorKeyId,
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
  'tenant_id',
  'ip',
  'user_agent',
  'route',
  'request_id',
  'details',
];

/** Appends an event's column values (AUDIT_EVENT_COLUMNS order) to a flat array: a batch without row objects. */
export function pushAuditEventValues(out: unknown[], event: AuditEvent): void {
  out.push(
    event.id,
    event.type,
    event.occurredAt,
    event.outcome,
    event.reason,
    event.keyId,
    event.keyPrefix,
    event.actorKeyId,
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
  };
}
