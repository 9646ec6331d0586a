import type { ApiKeyEnvironment } from '@gatehouse/sdk';
import type { AuditEvent, AuditEventType } from '../core/audit/audit-event.js';
import type { RateLimitPolicy } from '../core/rate-limit/decide.js';

/**
 * Narrow storage interfaces, one per aggregate. Every implementation passes the contract suite in
 * storage/contract. Methods throw only on infrastructure failure; "not there" is a return value.
 */

export interface ApiKeyRecord {
  id: string;
  /** SHA-256 (hex) of the plaintext key; the plaintext is never stored. */
  hash: string;
  displayPrefix: string;
  environment: ApiKeyEnvironment;
  name: string;
  scopes: string[];
  tenantId: string | null;
  metadata: Record<string, unknown>;
  rateLimit: RateLimitPolicy | null;
  createdAt: number;
  updatedAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
  rotatedFromId: string | null;
  rotatedToId: string | null;
  createdBy: string | null;
}

export type ApiKeyStatus = 'active' | 'expired' | 'revoked';

export interface PageCursor {
  at: number;
  id: string;
}

export interface ApiKeyListQuery {
  tenantId?: string;
  environment?: ApiKeyEnvironment;
  status?: ApiKeyStatus;
  /** Needed to tell active from expired. */
  now: number;
  limit: number;
  after?: PageCursor;
}

export type ApiKeyPatch = Partial<Pick<ApiKeyRecord, 'name' | 'scopes' | 'rateLimit' | 'metadata' | 'expiresAt'>>;

export type RotateOutcome = 'rotated' | 'not_found' | 'not_active' | 'already_rotated';

export interface RotateInput {
  oldId: string;
  successor: ApiKeyRecord;
  now: number;
  /** When the old key stops working (ignored when revokeOld). */
  oldExpiresAt: number;
  revokeOld: boolean;
  events: AuditEvent[];
}

export interface ApiKeyStore {
  /** Inserts a key and its audit events atomically. */
  insert(key: ApiKeyRecord, events: AuditEvent[]): Promise<void>;
  /**
   * Inserts the root admin key only if no key was ever bootstrapped, atomically (safe when several processes
   * start at once). Returns whether this call inserted it.
   */
  insertBootstrapKey(key: ApiKeyRecord, events: AuditEvent[]): Promise<boolean>;
  findById(id: string): Promise<ApiKeyRecord | undefined>;
  findByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  /** Newest first; returns at most `limit` records after the cursor. */
  list(query: ApiKeyListQuery): Promise<ApiKeyRecord[]>;
  /** Applies a patch to a key that is neither revoked nor expired at `now`; undefined when there is none. */
  updateActive(id: string, patch: ApiKeyPatch, now: number, events: AuditEvent[]): Promise<ApiKeyRecord | undefined>;
  /**
   * Atomically: checks the old key is active and not yet rotated, inserts its successor, and ends the old key
   * (expires at `oldExpiresAt`, or revoked at `now` when `revokeOld`).
   */
  rotate(input: RotateInput): Promise<RotateOutcome>;
  /** Revokes a key if it is not revoked yet; returns the key as it now is, and whether this call revoked it. */
  revoke(id: string, now: number, events: AuditEvent[]): Promise<{ key: ApiKeyRecord; changed: boolean } | undefined>;
  /** Write-behind of last-used times; never moves a time backwards. */
  touchLastUsed(entries: ReadonlyArray<readonly [id: string, at: number]>): Promise<void>;
}

export interface AuditEventQuery {
  type?: AuditEventType;
  keyId?: string;
  tenantId?: string;
  since?: number;
  limit: number;
  after?: PageCursor;
}

export interface AuditStore {
  insertMany(events: readonly AuditEvent[]): Promise<void>;
  /** Newest first. */
  list(query: AuditEventQuery): Promise<AuditEvent[]>;
}

/** Small named values: the master-key check value and similar. */
export interface MetaStore {
  get(name: string): Promise<string | undefined>;
  /** Inserts when absent; returns the value now stored (the existing one if another writer won). */
  getOrInsert(name: string, value: string): Promise<string>;
}

/** A JWT signing key as stored. The private key is only ever held here as master-key ciphertext. */
export interface SigningKeyRecord {
  kid: string;
  alg: string;
  /** The public JWK (kty, crv / n, e, x, y ...) with kid, alg and use. */
  publicJwk: Record<string, unknown>;
  /** SecretBox ciphertext of the PKCS#8 DER private key, sealed with associated data = kid. */
  sealedPrivateKey: string;
  createdAt: number;
  /** Signs from this time on (it is published from its creation). */
  activatesAt: number;
  /** Stops signing at this time (set when a successor is created). */
  retiredAt: number | null;
  /** Dropped from the JWKS at this time (retirement + the longest token lifetime). */
  publishUntil: number | null;
}

export interface SigningKeyRotation {
  key: SigningKeyRecord;
  /** Every older key still signing at `key.activatesAt` is retired then, and published until this time. */
  previousPublishUntil: number;
  events: AuditEvent[];
}

export interface SigningKeyStore {
  /**
   * Inserts the first signing key only if none was ever created, atomically (safe when several processes start
   * at once on one database). Returns whether this call inserted it.
   */
  insertInitial(key: SigningKeyRecord, events: AuditEvent[]): Promise<boolean>;
  /**
   * Atomically, serialized with every other rotation: inserts the new key and retires each other key not yet
   * retired by `key.activatesAt` at that time. Returns the kids it retired.
   */
  rotate(rotation: SigningKeyRotation): Promise<string[]>;
  /** Every key, oldest activation first. */
  list(): Promise<SigningKeyRecord[]>;
}

export interface Stores {
  apiKeys: ApiKeyStore;
  audit: AuditStore;
  meta: MetaStore;
  signingKeys: SigningKeyStore;
}
