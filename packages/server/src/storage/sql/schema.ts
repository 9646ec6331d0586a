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
  tenant_id: string | null;
  ip: string | null;
  user_agent: string | null;
  route: string | null;
  request_id: string | null;
  details: string | null; // JSON object
}

export interface MetaTable {
  name: string;
  value: string;
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

export interface Schema {
  api_keys: ApiKeysTable;
  audit_events: AuditEventsTable;
  meta: MetaTable;
  signing_keys: SigningKeysTable;
}
