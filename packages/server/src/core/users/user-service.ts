import type { PageCursor, UserPatch, UserRecord, UserStore } from '../../storage/stores.js';
import type { Actor } from '../api-keys/api-key-service.js';
import { isManagementScope } from '../api-keys/management-scopes.js';
import type { CredentialGuard } from '../authorization/credential-guard.js';
import { actorFields, createAuditEvent, type AuditEvent, type AuditEventType } from '../audit/audit-event.js';
import type { Clock } from '../clock.js';
import { GatehouseError } from '../errors.js';
import { newId, randomBase62 } from '../random.js';
import { isPlausibleEmail, normalizeEmail } from './normalize-email.js';
import { DEFAULT_SCRYPT_PARAMS, hashPassword, needsRehash, verifyPassword, type ScryptParams } from './password-hash.js';
import { passwordProblem } from './password-policy.js';

export interface CreateUserInput {
  email: string;
  password: string;
  name?: string | undefined;
  tenantId?: string | undefined;
  /** Admin roles: management scopes, within the user's tenant. */
  adminScopes?: string[] | undefined;
}

/** An administrator's change to a user; absent fields are kept. */
export interface UpdateUserInput {
  email?: string | undefined;
  password?: string | undefined;
  name?: string | null | undefined;
  disabled?: boolean | undefined;
  adminScopes?: string[] | undefined;
}

export interface ListUsersInput {
  tenantId?: string | undefined;
  limit: number;
  after?: PageCursor | undefined;
}

export type UserAuthentication =
  | { ok: true; user: UserRecord }
  | { ok: false; reason: 'unknown_email' | 'wrong_password' | 'user_disabled' };

/**
 * Runs while a user is being deleted, after the user is marked deleted (so it can no longer log in) and
 * before its row is removed. Must be idempotent: when one fails, the deletion stops there and a retry of
 * DELETE runs every hook again. Revoking the user's grants and tokens belongs here.
 */
export type UserDeletionHook = (user: UserRecord, now: number) => Promise<void>;

/**
 * What a change to a user ends: `everything` (the user was disabled: sessions, grants and tokens), or `sessions`
 * (the password was changed by an administrator: whoever is signed in must sign in again). Runs after the change
 * is stored; must be idempotent (a failed one fails the call, and repeating the call runs it again).
 */
export type UserAccessHook = (user: UserRecord, end: 'everything' | 'sessions', now: number) => Promise<void>;

/** How passwords are hashed; the real functions unless a test wraps them to observe calls. */
export interface PasswordHasher {
  hash(password: string, params: ScryptParams): Promise<string>;
  verify(password: string, encoded: string): Promise<boolean>;
}

export interface UserServiceDeps {
  store: UserStore;
  clock: Clock;
  /** Parameters for new hashes; hashes made with others are replaced at the next successful login. */
  hashParams?: ScryptParams;
  passwords?: PasswordHasher;
  onDelete?: readonly UserDeletionHook[];
  /** The credential policy: nobody makes a user an administrator beyond its own privilege, or acts on one above it. */
  guard?: CredentialGuard;
}

/** The fields of a user an update may name, in the order `user.updated` lists them. */
const UPDATABLE = ['adminScopes', 'disabled', 'email', 'name', 'password'] as const;

/** Admin roles as given: distinct management scopes, sorted; anything else is refused. */
export function normalizeAdminScopes(scopes: readonly string[]): string[] {
  const unknown = scopes.filter((scope) => !isManagementScope(scope));
  if (unknown.length > 0) {
    throw new GatehouseError('invalid_request', `adminScopes may only hold management scopes; not: ${unknown.slice(0, 5).join(', ').slice(0, 200)}.`);
  }
  return [...new Set(scopes)].sort();
}

const sameScopes = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((scope, i) => scope === b[i]);

const realHasher: PasswordHasher = { hash: hashPassword, verify: verifyPassword };

/** Users of the login page. Tenant isolation as for API keys: a tenant's admin key sees only its tenant's users. */
export class UserService {
  readonly #store: UserStore;
  readonly #clock: Clock;
  readonly #params: ScryptParams;
  readonly #passwords: PasswordHasher;
  readonly #onDelete: UserDeletionHook[];
  readonly #guard: CredentialGuard | undefined;
  readonly #onAccessChange: UserAccessHook[] = [];
  #dummyHash: Promise<string> | undefined;

  constructor(deps: UserServiceDeps) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#params = deps.hashParams ?? DEFAULT_SCRYPT_PARAMS;
    this.#passwords = deps.passwords ?? realHasher;
    this.#onDelete = [...(deps.onDelete ?? [])];
    this.#guard = deps.guard;
  }

  /** Adds a step to every deletion (see UserDeletionHook); for wiring in main.ts. */
  addDeletionHook(hook: UserDeletionHook): void {
    this.#onDelete.push(hook);
  }

  /** Adds a step to every disabling and every password change by an administrator (see UserAccessHook). */
  addAccessHook(hook: UserAccessHook): void {
    this.#onAccessChange.push(hook);
  }

  async create(actor: Actor, input: CreateUserInput): Promise<UserRecord> {
    const tenantId = this.#tenantFor(actor, input.tenantId);
    const email = normalizeEmail(input.email);
    if (!isPlausibleEmail(email)) throw new GatehouseError('invalid_request', 'email is not a valid email address.');
    const problem = passwordProblem(input.password);
    if (problem) throw new GatehouseError('invalid_request', problem);
    const adminScopes = normalizeAdminScopes(input.adminScopes ?? []);
    this.#guard?.assert(actor, 'user.create', { id: null, tenantId }, [{ tenantId, scopes: adminScopes }]);
    const user = await this.#newUser(email, input, tenantId, adminScopes);
    const details = adminScopes.length > 0 ? { adminScopes } : {};
    const outcome = await this.#store.insert(user, [this.#event(actor, 'user.created', user, details)]);
    if (outcome === 'email_taken') throw new GatehouseError('conflict', 'A user with that email already exists.');
    return user;
  }

  /**
   * The first run (the /console/setup page): the root admin key creates the first admin user, `admin` and bound to
   * no tenant, once, and only while no admin user exists; 'setup_done' otherwise.
   */
  async createFirstAdmin(actor: Actor, input: { email: string; password: string; name?: string | undefined }): Promise<UserRecord | 'setup_done'> {
    const email = normalizeEmail(input.email);
    if (!isPlausibleEmail(email)) throw new GatehouseError('invalid_request', 'email is not a valid email address.');
    const problem = passwordProblem(input.password);
    if (problem) throw new GatehouseError('invalid_request', problem);
    const adminScopes = ['admin'];
    this.#guard?.assert(actor, 'user.create', { id: null, tenantId: null }, [{ tenantId: null, scopes: adminScopes }]);
    const user = await this.#newUser(email, input, null, adminScopes);
    const outcome = await this.#store.insertFirstAdmin(user, [this.#event(actor, 'user.created', user, { adminScopes, firstRun: true })]);
    if (outcome === 'email_taken') throw new GatehouseError('conflict', 'A user with that email already exists.');
    return outcome === 'setup_done' ? outcome : user;
  }

  /** Whether the first run is over: it created an admin user once, or an admin user exists. */
  firstRunDone(): Promise<boolean> {
    return this.#store.firstRunDone();
  }

  async #newUser(email: string, input: { password: string; name?: string | undefined }, tenantId: string | null, adminScopes: string[]): Promise<UserRecord> {
    const passwordHash = await this.#passwords.hash(input.password, this.#params);
    const now = this.#clock.now();
    return {
      id: newId('usr'),
      email,
      passwordHash,
      name: input.name ?? null,
      tenantId,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
      disabledAt: null,
      adminScopes,
    };
  }

  async list(actor: Actor, input: ListUsersInput): Promise<UserRecord[]> {
    if (actor.tenantId !== null && input.tenantId !== undefined && input.tenantId !== actor.tenantId) return [];
    const tenantId = actor.tenantId ?? input.tenantId;
    return this.#store.list({
      limit: input.limit,
      ...(tenantId !== undefined ? { tenantId } : {}),
      ...(input.after ? { after: input.after } : {}),
    });
  }

  /** The user, or not_found when there is none, it is being deleted, or it belongs to another tenant. */
  async get(actor: Actor, id: string): Promise<UserRecord> {
    const user = await this.#store.findById(id);
    if (!user || user.deletedAt !== null || !this.#visible(actor, user)) throw this.#notFound();
    return user;
  }

  /**
   * Changes a user. The email is normalised and must be unique, the password meets the same policy and is hashed the
   * same way as at creation. Disabling ends the user's sessions, grants and tokens; an administrator's password
   * change ends the user's sessions. `user.updated` names the fields changed, never their values.
   */
  async update(actor: Actor, id: string, input: UpdateUserInput): Promise<UserRecord> {
    const current = await this.get(actor, id);
    const patch: UserPatch = {};
    if (input.adminScopes !== undefined) {
      const adminScopes = normalizeAdminScopes(input.adminScopes);
      if (!sameScopes(adminScopes, current.adminScopes)) patch.adminScopes = adminScopes;
    }
    // Any change to a user who is an administrator acts on that administrator's privilege (a password reset
    // hands it over); a change of roles confers the new ones.
    this.#guard?.assert(actor, 'user.update', { id: current.id, tenantId: current.tenantId }, [
      { tenantId: current.tenantId, scopes: current.adminScopes },
      ...(patch.adminScopes ? [{ tenantId: current.tenantId, scopes: patch.adminScopes }] : []),
    ]);
    if (input.email !== undefined) {
      const email = normalizeEmail(input.email);
      if (!isPlausibleEmail(email)) throw new GatehouseError('invalid_request', 'email is not a valid email address.');
      if (email !== current.email) patch.email = email;
    }
    if (input.password !== undefined) {
      const problem = passwordProblem(input.password);
      if (problem) throw new GatehouseError('invalid_request', problem);
      patch.passwordHash = await this.#passwords.hash(input.password, this.#params);
    }
    if (input.name !== undefined && input.name !== current.name) patch.name = input.name;
    const now = this.#clock.now();
    if (input.disabled !== undefined && input.disabled !== (current.disabledAt !== null)) patch.disabledAt = input.disabled ? now : null;
    const fields = UPDATABLE.filter((field) =>
      field === 'disabled' ? patch.disabledAt !== undefined : field === 'password' ? patch.passwordHash !== undefined : patch[field] !== undefined,
    );
    const disabling = patch.disabledAt !== undefined && patch.disabledAt !== null;
    const event = this.#event(actor, 'user.updated', current, {
      fields,
      ...(patch.disabledAt !== undefined ? { disabled: patch.disabledAt !== null } : {}),
      ...(patch.adminScopes !== undefined ? { adminScopes: patch.adminScopes } : {}),
    });
    // Nothing changes: no write and no event; but a user still disabled gets its access ended again (a repeat of
    // a disabling whose ending step failed finishes it).
    if (fields.length === 0) {
      if (current.disabledAt !== null && input.disabled === true) await this.#endAccess(current, 'everything', now);
      return current;
    }
    const outcome = await this.#store.update(id, patch, now, [event]);
    if (outcome === 'email_taken') throw new GatehouseError('conflict', 'A user with that email already exists.');
    if (!outcome) throw this.#notFound();
    if (disabling) await this.#endAccess(outcome.user, 'everything', now);
    else if (patch.passwordHash !== undefined) await this.#endAccess(outcome.user, 'sessions', now);
    return outcome.user;
  }

  /**
   * A signed-in user changes their own password: the current one must verify, the new one passes the policy and is
   * hashed as at creation. Audited `user.updated` (fields: password, by: user). Ending the user's other sessions is
   * the caller's (it knows which session is this one).
   */
  async changeOwnPassword(
    userId: string,
    currentPassword: string,
    newPassword: string,
  ): Promise<{ ok: true; user: UserRecord } | { ok: false; reason: 'wrong_password' | 'not_found' | 'policy'; problem?: string }> {
    const user = await this.#store.findById(userId);
    if (!user || user.deletedAt !== null || user.disabledAt !== null) return { ok: false, reason: 'not_found' };
    if (!(await this.#passwords.verify(currentPassword, user.passwordHash))) return { ok: false, reason: 'wrong_password' };
    const problem = passwordProblem(newPassword);
    if (problem) return { ok: false, reason: 'policy', problem };
    const passwordHash = await this.#passwords.hash(newPassword, this.#params);
    const now = this.#clock.now();
    const event = createAuditEvent(now, {
      type: 'user.updated',
      outcome: 'success',
      tenantId: user.tenantId,
      details: { userId: user.id, fields: ['password'], by: 'user' },
    });
    const outcome = await this.#store.update(user.id, { passwordHash }, now, [event]);
    if (!outcome || outcome === 'email_taken') return { ok: false, reason: 'not_found' };
    return { ok: true, user: outcome.user };
  }

  async #endAccess(user: UserRecord, end: 'everything' | 'sessions', now: number): Promise<void> {
    for (const hook of this.#onAccessChange) await hook(user, end, now);
  }

  /**
   * Deletes a user: marks it deleted (its audit event in the same transaction; it can no longer log in), runs
   * the deletion hooks, then removes the row. A deletion interrupted after the mark is completed by calling
   * delete again.
   */
  async delete(actor: Actor, id: string): Promise<void> {
    const current = await this.#store.findById(id);
    if (!current || !this.#visible(actor, current)) throw this.#notFound();
    this.#guard?.assert(actor, 'user.delete', { id: current.id, tenantId: current.tenantId }, [{ tenantId: current.tenantId, scopes: current.adminScopes }]);
    const now = this.#clock.now();
    const marked = await this.#store.markDeleted(id, now, [this.#event(actor, 'user.deleted', current)]);
    if (!marked) throw this.#notFound();
    for (const hook of this.#onDelete) await hook(marked.user, now);
    await this.#store.purge(id);
  }

  /**
   * Checks an email and password. An unknown email costs the same scrypt work as a known one (a fixed dummy
   * hash with the current parameters), so response times do not tell which emails exist. A storage failure
   * throws; it is never reported as a wrong password.
   */
  async authenticate(email: string, password: string): Promise<UserAuthentication> {
    const user = await this.#store.findByEmail(normalizeEmail(email));
    if (!user || user.deletedAt !== null) {
      await this.#passwords.verify(password, await this.#dummy());
      return { ok: false, reason: 'unknown_email' };
    }
    if (!(await this.#passwords.verify(password, user.passwordHash))) return { ok: false, reason: 'wrong_password' };
    // Told apart only after the password is right: a disabled account is not revealed to someone who guesses.
    if (user.disabledAt !== null) return { ok: false, reason: 'user_disabled' };
    if (needsRehash(user.passwordHash, this.#params)) {
      const passwordHash = await this.#passwords.hash(password, this.#params);
      const now = this.#clock.now();
      if (await this.#store.updatePasswordHash(user.id, passwordHash, now)) {
        return { ok: true, user: { ...user, passwordHash, updatedAt: now } };
      }
    }
    return { ok: true, user };
  }

  #dummy(): Promise<string> {
    // Made once per process from a random password nobody knows; a failure is retried on the next call.
    this.#dummyHash ??= this.#passwords.hash(randomBase62(32), this.#params).catch((error: unknown) => {
      this.#dummyHash = undefined;
      throw error;
    });
    return this.#dummyHash;
  }

  #visible(actor: Actor, user: UserRecord): boolean {
    return actor.tenantId === null || user.tenantId === actor.tenantId;
  }

  #notFound(): GatehouseError {
    return new GatehouseError('not_found', 'No user with that id.');
  }

  #event(actor: Actor, type: AuditEventType, user: UserRecord, details: Record<string, unknown> = {}): AuditEvent {
    return createAuditEvent(
      this.#clock.now(),
      { type, outcome: 'success', tenantId: user.tenantId, ...actorFields(actor), details: { userId: user.id, ...details } },
      actor.origin,
    );
  }

  #tenantFor(actor: Actor, requested: string | undefined): string | null {
    if (actor.tenantId === null) return requested ?? null;
    if (requested !== undefined && requested !== actor.tenantId) {
      throw new GatehouseError('insufficient_scope', "This key can only manage its own tenant's users.");
    }
    return actor.tenantId;
  }
}
