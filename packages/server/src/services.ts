import type { CredentialGuard } from './core/authorization/credential-guard.js';
import type { ApiKeyService } from './core/api-keys/api-key-service.js';
import type { KeyExpirySweep } from './core/api-keys/key-expiry-sweep.js';
import type { RetentionSweep } from './core/retention/retention-sweep.js';
import type { AuditEvent, ObservedAuditEvent } from './core/audit/audit-event.js';
import type { CertificateAuthority } from './core/ca/certificate-authority.js';
import type { KeyCache } from './core/cache/key-cache.js';
import type { PrometheusMetrics } from './core/metrics/prometheus-metrics.js';
import type { Clock } from './core/clock.js';
import type { SecretBox } from './core/crypto/secret-box.js';
import type { ClientService } from './core/oauth/client-service.js';
import type { ClientRegistrationService } from './core/oauth/client-registration-service.js';
import type { RegistrationTokenService } from './core/oauth/registration-token-service.js';
import type { ResourceService } from './core/resources/resource-service.js';
import type { ClientAssertionReplay } from './core/oauth/client-assertion-replay.js';
import type { OAuthDeps } from './core/oauth/oauth-deps.js';
import type { Alerts } from './core/detection/alerts.js';
import type { CredentialAnomalies } from './core/detection/credential-anomalies.js';
import type { IpBlocks } from './core/detection/ip-blocks.js';
import type { LoginThrottle } from './core/detection/login-throttle.js';
import type { UnknownTokenLimit } from './core/detection/unknown-token-limit.js';
import type { RevocationFeed } from './core/revocation-feed.js';
import type { RateLimiter } from './core/rate-limit/rate-limiter.js';
import type { UserService } from './core/users/user-service.js';
import type { SigningKeys } from './core/tokens/signing-keys.js';
import type { WebhookDispatcher } from './core/webhooks/webhook-dispatcher.js';
import type { WebhookEndpointService } from './core/webhooks/webhook-endpoint-service.js';
import type { UsageCounter } from './core/usage/usage-counter.js';
import type { WriteBehindLog } from './core/write-behind-log.js';
import type { CsrfProtection } from './http/pages/csrf.js';
import type { Config } from './config/load-config.js';
import type { Stores } from './storage/stores.js';

export interface Detection {
  /** GATEHOUSE_DETECTION: tracking and anomaly detection run (blocks already stored are enforced either way). */
  enabled: boolean;
  blocks: IpBlocks;
  alerts: Alerts;
  loginThrottle: LoginThrottle;
  /** Key and client anomaly detection; undefined when detection is off. */
  anomalies: CredentialAnomalies | undefined;
  /** Unknown tokens per caller at introspection and revocation; undefined when detection is off. */
  unknownTokens: UnknownTokenLimit | undefined;
  /** Resolves once every failure observed so far is counted, acted on, and its alerts written. */
  settled(): Promise<void>;
}

/** Everything the HTTP layer needs, wired by main.ts. */
export interface Services {
  config: Config;
  clock: Clock;
  stores: Stores;
  secretBox: SecretBox;
  apiKeys: ApiKeyService;
  /** The credential policy, for the routes that hand out or act on credentials outside the services (certificates). */
  guard: CredentialGuard;
  /** OAuth clients: management, and the cached lookup client authentication uses. */
  clients: ClientService;
  /** Dynamic Client Registration (RFC 7591 / 7592); undefined when GATEHOUSE_CLIENT_REGISTRATION is off. */
  registration: ClientRegistrationService | undefined;
  /** Initial access tokens for token-mode registration (the admin API manages them whatever the mode). */
  registrationTokens: RegistrationTokenService;
  /** RFC 8707 resources (APIs) registered with their scopes; the cached lookup the OAuth endpoints use. */
  resources: ResourceService;
  /** The jti of every client assertion (private_key_jwt) accepted, until it expires: each is used once. */
  clientAssertions: ClientAssertionReplay;
  users: UserService;
  /** Webhook endpoints, their delivery logs and manual retries. */
  webhookEndpoints: WebhookEndpointService;
  /** Delivers the webhook outbox; started by startServer, stopped (and flushed) by close(). */
  webhooks: WebhookDispatcher;
  /** Announces key expiries (key.expired) once each; started by startServer. */
  keyExpiry: KeyExpirySweep;
  /** Deletes audit events and webhook history past their retention period; started by startServer. */
  retention: RetentionSweep;
  /** CSRF tokens for the login and consent forms. */
  csrf: CsrfProtection;
  keyCache: KeyCache;
  /** API keys' own rate limits (Redis in cluster mode: unavailable while Redis is, never guessed). */
  rateLimiter: RateLimiter;
  /**
   * The management API's per-admin-key limit: the same limiter, but in cluster mode a per-process fallback
   * decides while Redis is unavailable, so that revocation keeps working (docs/failure-modes.md).
   */
  managementRateLimiter: RateLimiter;
  audit: WriteBehindLog<AuditEvent, ObservedAuditEvent>;
  /** Usage per credential and minute, flushed every GATEHOUSE_USAGE_FLUSH_SECONDS and at close(). */
  usage: UsageCounter;
  /** JWT signing keys and the JWKS, in memory. */
  signingKeys: SigningKeys;
  /** The authorization server's state and policy, shared by the OAuth endpoints. */
  oauth: OAuthDeps;
  /** The built-in certificate authority (mTLS): issuance, revocation, CRLs and the trust the TLS listener uses. */
  ca: CertificateAuthority;
  /** Revocations as they happen (made here or received from other processes), for the revocation stream. */
  revocations: RevocationFeed;
  /** Failed-authentication tracking, IP blocks, alerts and the login slow-down (docs/protection.md). */
  detection: Detection;
  /** Counters and histograms for GET /metrics (see docs/observability.md). */
  metrics: PrometheusMetrics;
  /** 'ok' or 'unavailable' per dependency, each check bounded (READINESS_CHECK_TIMEOUT_MS): answers within a second. */
  checkReadiness(): Promise<Record<string, 'ok' | 'unavailable'>>;
  /** Flushes the write-behind queues and closes connections. */
  close(): Promise<void>;
}
