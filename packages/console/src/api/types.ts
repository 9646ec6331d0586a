/** The admin API's objects, as its OpenAPI document describes them (timestamps are ISO 8601 strings). */
export type KeyStatus = 'active' | 'expired' | 'revoked';
export type Environment = 'live' | 'test';

export interface RateLimit {
  limit: number;
  windowSeconds: number;
}

export interface ApiKey {
  id: string;
  object: 'api_key';
  name: string;
  prefix: string;
  environment: Environment;
  scopes: string[];
  tenantId: string | null;
  metadata: Record<string, unknown>;
  rateLimit: RateLimit | null;
  status: KeyStatus;
  createdAt: string;
  updatedAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  rotatedFromId: string | null;
  rotatedToId: string | null;
  anomalyAction: 'notify' | 'revoke';
}
export type ApiKeyWithSecret = ApiKey & { key: string };

export type GrantType = 'authorization_code' | 'client_credentials' | 'refresh_token' | 'urn:ietf:params:oauth:grant-type:device_code' | string;
export type AuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none' | 'private_key_jwt' | 'tls_client_auth' | 'self_signed_tls_client_auth' | string;

export interface OAuthClient {
  clientId: string;
  object: 'oauth_client';
  name: string;
  redirectUris: string[];
  allowedOrigins: string[];
  postLogoutRedirectUris: string[];
  grantTypes: GrantType[];
  scopes: string[];
  tokenEndpointAuthMethod: AuthMethod;
  audiences: string[];
  defaultAudience: string | null;
  tenantId: string | null;
  accessTokenTtlSeconds: number | null;
  secretPrefix: string | null;
  previousSecretExpiresAt: string | null;
  /** admin: created through the admin API; dynamic: registered itself (RFC 7591). */
  registration?: 'admin' | 'dynamic';
  registeredAddress?: string;
  lastUsedAt?: string | null;
  createdAt: string;
  updatedAt: string;
}
export type OAuthClientWithSecret = OAuthClient & { clientSecret?: string };

export interface User {
  id: string;
  object: 'user';
  email: string;
  name: string | null;
  tenantId: string | null;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
  /** Admin roles: the management scopes the user holds in the console (within its tenant); empty: none. */
  adminScopes?: string[];
}

export interface UserSession {
  id: string;
  object: 'session';
  userId: string;
  authTime: string;
  createdAt: string;
  expiresAt: string;
}

export interface AuditEvent {
  id: string;
  type: string;
  occurredAt: string;
  outcome: 'success' | 'failure';
  reason: string | null;
  keyId: string | null;
  keyPrefix: string | null;
  actorKeyId: string | null;
  tenantId: string | null;
  ip: string | null;
  userAgent: string | null;
  route: string | null;
  requestId: string | null;
  details: Record<string, unknown> | null;
}

export interface WebhookEndpoint {
  id: string;
  object: 'webhook_endpoint';
  url: string;
  events: string[];
  scheme: 'standard' | 'stripe';
  tenantId: string | null;
  description: string | null;
  status: 'enabled' | 'disabled';
  disabledAt: string | null;
  disabledReason: string | null;
  failingSince: string | null;
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}
export type WebhookEndpointWithSecret = WebhookEndpoint & { secret: string };

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  attemptLog: Array<{ attempt: number; attemptedAt: string; outcome: 'success' | 'failure'; statusCode: number | null; latencyMs: number; error: string | null }>;
}

export interface IpBlock {
  ip: string;
  reason: string;
  failures: number | null;
  createdAt: string;
  expiresAt: string;
}

export interface SigningKey {
  kid: string;
  alg: string;
  status: 'pending' | 'active' | 'retired' | 'expired';
  createdAt: string;
  activatesAt: string;
  retiredAt: string | null;
  publishUntil: string | null;
}

export interface Certificate {
  id: string;
  serialNumber: string;
  status: 'active' | 'expired' | 'revoked';
  commonName: string;
  clientId: string | null;
  service: string | null;
  sanUri: string;
  tenantId: string | null;
  notBefore: string;
  notAfter: string;
  revokedAt: string | null;
}

export interface Me {
  kind: 'key' | 'user';
  id: string;
  name: string | null;
  email: string | null;
  tenantId: string | null;
  scopes: string[];
}

/** One period of a credential's usage (only periods with traffic are answered). */
export interface UsagePeriod {
  start: string;
  total: number;
  byOutcome: Record<string, number>;
  latency?: { count: number; meanMs: number; maxMs: number };
}

export interface UsageSeries {
  granularity: 'minute' | 'hour' | 'day';
  from: string;
  to: string;
  data: UsagePeriod[];
}

/** A resource (RFC 8707): an API tokens are issued for, with its scopes. */
export interface Resource {
  id: string;
  object: 'resource';
  identifier: string;
  name: string;
  scopes: string[];
  dynamicClients: boolean;
  accessTokenTtlSeconds: number | null;
  tenantId: string | null;
  createdAt: string;
  updatedAt: string;
}
