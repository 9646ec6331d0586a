/** Row types as they are in the database. Timestamps are integer milliseconds since the epoch. */
export interface ApiKeysTable {
  id: string;
  hash: string;
  display_prefix: string;
  environment: string;
  name: string;
  scopes: string; // JSON array
  tenant_id: string | null;
  metadata: string; // JSON object
  rate_limit_limit: number | null;
  rate_limit_window_seconds: number | null;
  created_at: number;
  updated_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  rotated_from_id: string | null;
  rotated_to_id: string | null;
  created_by: string | null;
  anomaly_action: string; // 'notify' | 'revoke'
  /** When the key.expired event was written (the key-expiry sweep announces each expiry once). */
  expiry_announced_at?: number | null;
}

export interface AuditEventsTable {
  id: string;
  type: string;
  occurred_at: number;
  outcome: string;
  reason: string | null;
  key_id: string | null;
  key_prefix: string | null;
  actor_key_id: string | null;
  actor_user_id: string | null;
  /** The OAuth client the event is about: details.clientId, copied into a column to filter on (see eventSubjects). */
  client_id: string | null;
  /** The user the event is about: details.userId, likewise. */
  user_id: string | null;
  tenant_id: string | null;
  ip: string | null;
  user_agent: string | null;
  route: string | null;
  request_id: string | null;
  details: string | null; // JSON object
}

export interface OAuthClientsTable {
  id: string;
  name: string;
  redirect_uris: string; // JSON array
  allowed_origins: string; // JSON array
  post_logout_redirect_uris: string; // JSON array
  grant_types: string; // JSON array
  scopes: string; // JSON array
  token_endpoint_auth_method: string;
  audiences: string; // JSON array
  default_audience: string | null;
  tenant_id: string | null;
  access_token_ttl_seconds: number | null;
  id_token_signed_response_alg: string;
  tls_client_auth: string | null; // JSON {field, value}
  jwks: string | null; // JSON JWK Set
  secret_hash: string | null;
  secret_prefix: string | null;
  previous_secret_hash: string | null;
  previous_secret_expires_at: number | null;
  version: number;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  /** 'admin' or 'dynamic' (RFC 7591). */
  registration: string;
  registration_access_token_hash: string | null;
  registered_address: string | null;
  registration_metadata: string | null; // JSON: RFC 7591 descriptive fields
  last_used_at: number | null;
}

/** Initial access tokens for Dynamic Client Registration (RFC 7591 section 3): hashed, counted, revocable. */
export interface RegistrationTokensTable {
  id: string;
  hash: string;
  display_prefix: string;
  name: string;
  tenant_id: string | null;
  expires_at: number | null;
  max_uses: number | null;
  uses: number;
  revoked_at: number | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface ResourcesTable {
  id: string;
  identifier: string;
  name: string;
  scopes: string; // JSON array
  dynamic_clients: number; // 0 or 1
  access_token_ttl_seconds: number | null;
  tenant_id: string | null;
  version: number;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface MetaTable {
  name: string;
  value: string;
}

export interface OAuthGrantsTable {
  id: string;
  client_id: string;
  user_id: string | null;
  tenant_id: string | null;
  scopes: string; // JSON array
  audience: string; // JSON array
  auth_time: number | null;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
  certificate_thumbprint: string | null;
}

export interface OAuthCodesTable {
  hash: string;
  client_id: string;
  user_id: string;
  tenant_id: string | null;
  redirect_uri: string;
  code_challenge: string;
  scopes: string; // JSON array
  audience: string; // JSON array
  nonce: string | null;
  auth_time: number;
  created_at: number;
  expires_at: number;
  redeemed_at: number | null;
  grant_id: string | null;
}

export interface OAuthRefreshTokensTable {
  hash: string;
  grant_id: string;
  scopes: string; // JSON array
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface OAuthGrantAccessTokensTable {
  jti: string;
  grant_id: string;
  expires_at: number;
}

export interface OAuthTokenDenylistTable {
  jti: string;
  expires_at: number;
  revoked_at: number;
}

export interface OAuthConsentsTable {
  user_id: string;
  client_id: string;
  scopes: string; // JSON array
  created_at: number;
  updated_at: number;
}

export interface OAuthSessionsTable {
  hash: string;
  /** Public id (`ses_...`), answered to administrators in place of the hash. */
  id: string;
  user_id: string;
  auth_time: number;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export interface UsersTable {
  id: string;
  email: string; // normalised: trimmed, lowercased
  password_hash: string; // self-describing scrypt encoding, never the password
  name: string | null;
  tenant_id: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  disabled_at: number | null;
  admin_scopes: string; // JSON array of management scopes (the user's admin roles)
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string; // JSON object
  private_key: string; // SecretBox ciphertext, associated data = kid
  created_at: number;
  activates_at: number;
  retired_at: number | null;
  publish_until: number | null;
}

export interface IpBlocksTable {
  ip: string;
  reason: string;
  failures: number | null;
  created_at: number;
  expires_at: number;
}

export interface CredentialProfilesTable {
  credential_id: string;
  first_seen_at: number;
  baseline_per_minute: number;
  updated_at: number;
}

export interface CredentialNetworksTable {
  credential_id: string;
  network: string;
  first_seen_at: number;
}

export interface WebhookEndpointsTable {
  id: string;
  url: string;
  events: string; // JSON array
  scheme: string;
  tenant_id: string | null;
  description: string | null;
  secret: string; // SecretBox ciphertext, associated data = id
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  disabled_at: number | null;
  disabled_reason: string | null;
  failing_since: number | null;
  version: number;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface WebhookEventsTable {
  id: string;
  type: string;
  tenant_id: string | null;
  created_at: number;
  payload: string; // JSON, sent byte for byte
  fanned_out_at: number | null;
}

export interface WebhookDeliveriesTable {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  deadline_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
}

export interface WebhookAttemptsTable {
  delivery_id: string;
  attempt: number;
  attempted_at: number;
  outcome: string;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

export interface CertificateAuthoritiesTable {
  id: string;
  certificate_pem: string;
  private_key: string; // SecretBox ciphertext, associated data = id
  created_at: number;
  not_after: number;
  retired_at: number | null;
  trusted_until: number | null;
}

export interface IssuedCertificatesTable {
  id: string;
  serial_number: string;
  authority_id: string;
  common_name: string;
  client_id: string | null;
  service: string | null;
  san_uri: string;
  thumbprint: string;
  certificate_pem: string;
  not_before: number;
  not_after: number;
  key_generated: number; // 0 or 1
  tenant_id: string | null;
  created_by: string | null;
  created_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
}

export interface Schema {
  api_keys: ApiKeysTable;
  audit_events: AuditEventsTable;
  meta: MetaTable;
  oauth_grants: OAuthGrantsTable;
  oauth_codes: OAuthCodesTable;
  oauth_refresh_tokens: OAuthRefreshTokensTable;
  oauth_grant_access_tokens: OAuthGrantAccessTokensTable;
  oauth_token_denylist: OAuthTokenDenylistTable;
  oauth_consents: OAuthConsentsTable;
  oauth_sessions: OAuthSessionsTable;
  oauth_clients: OAuthClientsTable;
  users: UsersTable;
  signing_keys: SigningKeysTable;
  ip_blocks: IpBlocksTable;
  credential_profiles: CredentialProfilesTable;
  credential_networks: CredentialNetworksTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_events: WebhookEventsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  certificate_authorities: CertificateAuthoritiesTable;
  issued_certificates: IssuedCertificatesTable;
  registration_tokens: RegistrationTokensTable;
  resources: ResourcesTable;
}
