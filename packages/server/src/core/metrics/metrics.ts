/**
 * What Gatehouse counts, as a small interface: core code and routes record facts through it, and only the
 * Prometheus implementation (prometheus-metrics.ts) knows about prom-client. Every label value is drawn from
 * a short fixed list: never a key id, an IP address, a tenant or a user.
 */

/** How a caller proved who it is. */
export const AUTHENTICATION_METHODS = [
  'api_key',
  'admin_key',
  'oauth_client',
  'login',
  'authorization_code',
  'refresh_token',
] as const;
export type AuthenticationMethod = (typeof AUTHENTICATION_METHODS)[number];

/** Why an authentication failed, in classes coarse enough to be labels (the audit log keeps the detail). */
export type FailureReason =
  | 'missing'
  | 'malformed'
  | 'unknown'
  | 'wrong_secret'
  | 'revoked'
  | 'expired'
  | 'rate_limited'
  | 'insufficient_scope'
  | 'invalid_grant'
  | 'other';

/** Which rate limit said no: a verified key's own limit, or the management API's per-admin-key limit. */
export type RateLimitKind = 'api_key' | 'management';

/** How a webhook delivery attempt ended: a 2xx, any other answer or no answer, or 410 Gone (endpoint disabled). */
export type WebhookDeliveryOutcome = 'delivered' | 'failed' | 'gone';

/** What retention purges: audit events, and finished webhook deliveries with their outbox events. */
export type RetentionKind = 'audit_events' | 'webhook_deliveries' | 'usage_minutes' | 'usage_hours' | 'usage_days' | 'dynamic_clients';

export interface Metrics {
  authentication(method: AuthenticationMethod, outcome: 'success' | 'failure', reason?: FailureReason): void;
  /** How long one API key verification took (POST /v1/keys/verify, fast path or route), from a monotonic clock. */
  verificationSeconds(seconds: number): void;
  rateLimitRejection(kind: RateLimitKind): void;
  /** A management rate-limit decision taken by this process's own fallback limiter because Redis was unavailable. */
  rateLimitFallbackDecision(): void;
  /** An access token issued at the token endpoint (`grantType` is a supported grant: the endpoint checked it). */
  tokenIssued(grantType: string): void;
  webhookDelivery(outcome: WebhookDeliveryOutcome, seconds: number): void;
  /** An IP address was blocked (failed-authentication tracking). */
  ipBlocked(): void;
  /** A request from a blocked address was refused. */
  blockedRequest(): void;
  /** An alert was raised; `type` is an audit event type such as `alert.brute_force`. */
  alert(type: string): void;
  /** Rows deleted by retention. */
  purged(kind: RetentionKind, rows: number): void;
}
