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

export interface UserRecord {
  id: string;
  /** Normalised: trimmed and lowercased. Unique across the whole store. */
  email: string;
  /** Self-describing scrypt encoding (core/users/password-hash.ts); never the password. */
  passwordHash: string;
  name: string | null;
  tenantId: string | null;
  createdAt: number;
  updatedAt: number;
  /** Set while the user's deletion is under way; such a user cannot log in and is not listed. */
  deletedAt: number | null;
}

export interface UserListQuery {
  tenantId?: string;
  limit: number;
  after?: PageCursor;
}

export interface UserStore {
  /** Inserts a user and its audit events atomically; 'email_taken' (and nothing written) when the email exists. */
  insert(user: UserRecord, events: AuditEvent[]): Promise<'created' | 'email_taken'>;
  /** Finds a user by id, a user being deleted included. */
  findById(id: string): Promise<UserRecord | undefined>;
  /** Finds a user by normalised email, a user being deleted included. */
  findByEmail(email: string): Promise<UserRecord | undefined>;
  /** Users not being deleted, newest first; at most `limit` after the cursor. */
  list(query: UserListQuery): Promise<UserRecord[]>;
  /** Replaces the password hash of a user not being deleted (rehash at login); false when there is none. */
  updatePasswordHash(id: string, passwordHash: string, now: number): Promise<boolean>;
  /**
   * First step of a deletion: marks the user deleted at `now` and writes the events atomically, if not marked
   * yet. Returns the user as it now is and whether this call marked it; undefined when there is no such user.
   */
  markDeleted(id: string, now: number, events: AuditEvent[]): Promise<{ user: UserRecord; changed: boolean } | undefined>;
  /** Last step of a deletion: removes a user marked deleted. Idempotent. */
  purge(id: string): Promise<void>;
}

export interface Stores {
  apiKeys: ApiKeyStore;
  audit: AuditStore;
  meta: MetaStore;
  users: UserStore;
}
