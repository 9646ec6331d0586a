import type { AuditEventType, ObservedAuditEvent } from '../audit/audit-event.js';
import type { AuthenticationMethod, FailureReason, Metrics } from './metrics.js';

/** The audit events that record an authentication, by the method they record. */
const METHOD_OF = new Map<AuditEventType, AuthenticationMethod>([
  ['key.verification', 'api_key'],
  ['admin.authentication', 'admin_key'],
  ['client.authentication', 'oauth_client'],
  ['oauth.login', 'login'],
]);

/** The audit log's detailed reasons (verification codes, client-auth and login reasons), in label classes. */
const REASON_CLASS = new Map<string, FailureReason>([
  ['MISSING_CREDENTIALS', 'missing'],
  ['missing_credentials', 'missing'],
  ['no_client_authentication', 'missing'],
  ['INVALID_FORMAT', 'malformed'],
  ['MALFORMED_AUTHORIZATION_HEADER', 'malformed'],
  ['malformed_basic_credentials', 'malformed'],
  ['unsupported_authorization_scheme', 'malformed'],
  ['repeated_or_invalid_client_parameter', 'malformed'],
  ['multiple_client_auth_methods', 'malformed'],
  ['client_id_mismatch', 'malformed'],
  ['client_secret_without_client_id', 'malformed'],
  ['NOT_FOUND', 'unknown'],
  ['unknown_client', 'unknown'],
  ['deleted_client', 'unknown'],
  ['unknown_email', 'unknown'],
  ['wrong_secret', 'wrong_secret'],
  ['wrong_password', 'wrong_secret'],
  ['REVOKED', 'revoked'],
  ['EXPIRED', 'expired'],
  ['RATE_LIMITED', 'rate_limited'],
  ['INSUFFICIENT_SCOPE', 'insufficient_scope'],
]);

export interface AuthenticationLabels {
  method: AuthenticationMethod;
  outcome: 'success' | 'failure';
  reason?: FailureReason;
}

/** The authentication an audit event records, as metric labels; undefined for events that record none. */
export function authenticationOf(event: ObservedAuditEvent): AuthenticationLabels | undefined {
  const method = METHOD_OF.get(event.type);
  if (method === undefined) return undefined;
  if (event.outcome === 'success') return { method, outcome: 'success' };
  const reason = event.reason === null ? 'other' : (REASON_CLASS.get(event.reason) ?? (event.reason.startsWith('auth_method_mismatch') ? 'malformed' : 'other'));
  return { method, outcome: 'failure', reason };
}

/**
 * An observer for the audit log (WriteBehindLog.observe) that counts every authentication it sees, and the
 * verifications a key's own rate limit refused: whatever writes an audit event is counted, without a line in
 * the authentication code itself. It runs on the hot path: a map lookup and a counter increment.
 */
export function countAuthentications(metrics: Metrics): (event: ObservedAuditEvent) => void {
  return (event) => {
    if (event.outcome === 'success') {
      // The hot path (every verification): no labels object.
      const method = METHOD_OF.get(event.type);
      if (method !== undefined) metrics.authentication(method, 'success');
      return;
    }
    const labels = authenticationOf(event);
    if (labels === undefined) return;
    metrics.authentication(labels.method, labels.outcome, labels.reason);
    if (labels.reason === 'rate_limited') metrics.rateLimitRejection('api_key');
  };
}
