import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/core/api-keys/api-key-service.js';
import { ManualClock } from '../src/core/clock.js';
import { GatehouseError } from '../src/core/errors.js';
import { isPlausibleEmail, normalizeEmail } from '../src/core/users/normalize-email.js';
import {
  DEFAULT_SCRYPT_PARAMS,
  hashPassword,
  needsRehash,
  verifyPassword,
  type ScryptParams,
} from '../src/core/users/password-hash.js';
import { passwordProblem } from '../src/core/users/password-policy.js';
import { UserService, type PasswordHasher } from '../src/core/users/user-service.js';
import { createSqlStores } from '../src/storage/sql/create-sql-stores.js';
import { openDatabase, type Database } from '../src/storage/sql/database.js';
import { migrateToLatest } from '../src/storage/sql/migrate.js';
import type { Stores } from '../src/storage/stores.js';
import { tempDir } from './helpers/databases.js';

const CHEAP: ScryptParams = { ln: 14, r: 8, p: 1 };
const ENCODED = /^\$scrypt\$ln=(\d+),r=8,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$/;

describe('password hashing (scrypt)', () => {
  it('defaults to the OWASP parameters: N=2^17, r=8, p=1, 16-byte salt, 32-byte key, and verifies', async () => {
    expect(DEFAULT_SCRYPT_PARAMS).toEqual({ ln: 17, r: 8, p: 1 });
    const encoded = await hashPassword('correct horse battery staple');
    const match = ENCODED.exec(encoded);
    expect(match?.[1]).toBe('17');
    expect(Buffer.from(match![2]!, 'base64')).toHaveLength(16);
    expect(Buffer.from(match![3]!, 'base64')).toHaveLength(32);
    expect(await verifyPassword('correct horse battery staple', encoded)).toBe(true);
    expect(needsRehash(encoded)).toBe(false);
  });

  it('rejects a wrong password, and salts every hash', async () => {
    const a = await hashPassword('hunter2hunter2', CHEAP);
    const b = await hashPassword('hunter2hunter2', CHEAP);
    expect(a).not.toBe(b);
    expect(a.startsWith('$scrypt$ln=14,r=8,p=1$')).toBe(true);
    expect(await verifyPassword('hunter2hunter2', a)).toBe(true);
    expect(await verifyPassword('hunter2hunter2', b)).toBe(true);
    for (const wrong of ['hunter2hunter3', 'Hunter2hunter2', 'hunter2hunter2 ', '', 'hunter2hunter']) {
      expect(await verifyPassword(wrong, a)).toBe(false);
    }
  });

  it('normalises with NFKC before hashing, so equivalent spellings verify', async () => {
    const composed = 'caf\u00e9-passw\u00f6rd';
    const decomposed = 'cafe\u0301-passwo\u0308rd';
    const encoded = await hashPassword(composed, CHEAP);
    expect(await verifyPassword(decomposed, encoded)).toBe(true);
    // Compatibility forms too: full-width letters are their ASCII letters.
    expect(await verifyPassword('ｐａｓｓｗｏｒｄ１２', await hashPassword('password12', CHEAP))).toBe(true);
  });

  it('reads parameters back from the encoding; needsRehash tells other parameters apart', async () => {
    const old = await hashPassword('a long enough password', CHEAP);
    expect(await verifyPassword('a long enough password', old)).toBe(true);
    expect(needsRehash(old, CHEAP)).toBe(false);
    expect(needsRehash(old, { ...CHEAP, ln: 15 })).toBe(true);
    expect(needsRehash(old, { ...CHEAP, r: 16 })).toBe(true);
    expect(needsRehash(old)).toBe(true);
    expect(needsRehash('$2b$10$bcrypt-style-hash')).toBe(true);
  });

  it('throws (never answers false) for a stored value that is not a scrypt hash, and bounds its parameters', async () => {
    for (const bad of ['', 'plaintext', '$scrypt$ln=14,r=8,p=1$short$short', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA']) {
      await expect(verifyPassword('whatever1', bad)).rejects.toThrow(TypeError);
    }
    const huge = `$scrypt$ln=40,r=8,p=1$${'A'.repeat(22)}$${'A'.repeat(43)}`;
    await expect(verifyPassword('whatever1', huge)).rejects.toThrow(RangeError);
    await expect(hashPassword('whatever1', { ln: 9, r: 8, p: 1 })).rejects.toThrow(RangeError);
  });
});

describe('password policy and email normalisation', () => {
  it('8 to 1024 characters after NFKC normalisation, counted in code points; no control characters', () => {
    expect(passwordProblem('1234567')).toMatch(/at least 8/);
    expect(passwordProblem('12345678')).toBeUndefined();
    expect(passwordProblem('😀😀😀😀😀😀😀😀')).toBeUndefined(); // 8 code points, 16 UTF-16 units
    expect(passwordProblem('😀😀😀😀😀😀😀')).toMatch(/at least 8/);
    expect(passwordProblem('x'.repeat(1024))).toBeUndefined();
    expect(passwordProblem('x'.repeat(1025))).toMatch(/at most 1024/);
    // U+FDFA expands to 18 characters under NFKC: the limit applies to the normalised password.
    expect(passwordProblem('\ufdfa'.repeat(57))).toMatch(/at most 1024/);
    expect(passwordProblem('\ufdfa')).toBeUndefined();
    expect(passwordProblem('with spaces and ünïcödé')).toBeUndefined();
    for (const control of ['\u0000', '\n', '\t', '\u001b', '\u007f', '\u0085']) {
      expect(passwordProblem(`password${control}1`)).toMatch(/control characters/);
    }
  });

  it('emails are trimmed and lowercased, and loosely checked', () => {
    expect(normalizeEmail('  Alice.Smith@Example.COM \t')).toBe('alice.smith@example.com');
    for (const good of ['a@b', 'alice@example.com', 'ünï@exämple.de', 'root@localhost']) expect(isPlausibleEmail(good)).toBe(true);
    for (const bad of ['', 'alice', '@example.com', 'alice@', 'a b@c.d', 'a@b@c', `a@${'b'.repeat(260)}`, 'a\u0000@b']) {
      expect(isPlausibleEmail(bad)).toBe(false);
    }
  });
});

describe('UserService.authenticate', () => {
  const clock = new ManualClock();
  const actor: Actor = {
    keyId: 'key_test',
    keyPrefix: 'sk_test_x',
    userId: null,
    tenantId: null,
    scopes: ['admin'],
    origin: { ip: null, userAgent: null, route: null, requestId: null },
  };
  let dir: ReturnType<typeof tempDir>;
  let database: Database;
  let stores: Stores;
  const calls: Array<{ op: 'hash' | 'verify'; params: string }> = [];
  /** The real functions, observed: records which parameters each call works with. */
  const observed: PasswordHasher = {
    async hash(password, params) {
      calls.push({ op: 'hash', params: `ln=${params.ln},r=${params.r},p=${params.p}` });
      return hashPassword(password, params);
    },
    async verify(password, encoded) {
      calls.push({ op: 'verify', params: /^\$scrypt\$([^$]+)\$/.exec(encoded)![1]! });
      return verifyPassword(password, encoded);
    },
  };

  beforeAll(async () => {
    dir = tempDir('users-core');
    database = openDatabase({ dataDir: dir.path });
    await migrateToLatest(database);
    stores = createSqlStores(database);
  });
  afterAll(async () => {
    await database.close();
    dir.remove();
  });

  it('ok for the right password; wrong_password; unknown_email after the same scrypt work on a dummy hash', async () => {
    const users = new UserService({ store: stores.users, clock, hashParams: CHEAP, passwords: observed });
    const user = await users.create(actor, { email: ' Ada@Example.com ', password: 'analytical engine' });
    expect(user.email).toBe('ada@example.com');

    calls.length = 0;
    const ok = await users.authenticate('ADA@example.com', 'analytical engine');
    expect(ok).toEqual({ ok: true, user });
    expect(await users.authenticate('ada@example.com', 'analytical engines')).toEqual({ ok: false, reason: 'wrong_password' });
    expect(calls).toEqual([
      { op: 'verify', params: 'ln=14,r=8,p=1' },
      { op: 'verify', params: 'ln=14,r=8,p=1' },
    ]);

    calls.length = 0;
    expect(await users.authenticate('nobody@example.com', 'analytical engine')).toEqual({ ok: false, reason: 'unknown_email' });
    expect(await users.authenticate('nobody@example.com', 'analytical engine')).toEqual({ ok: false, reason: 'unknown_email' });
    // The dummy hash is made once, with the current parameters; every unknown email then costs one verify.
    expect(calls).toEqual([
      { op: 'hash', params: 'ln=14,r=8,p=1' },
      { op: 'verify', params: 'ln=14,r=8,p=1' },
      { op: 'verify', params: 'ln=14,r=8,p=1' },
    ]);
  });

  it('re-hashes a password made with old parameters at the next successful login, only then', async () => {
    const before = new UserService({ store: stores.users, clock, hashParams: CHEAP });
    const user = await before.create(actor, { email: 'grace@example.com', password: 'cobol compiler' });
    const after = new UserService({ store: stores.users, clock, hashParams: { ln: 15, r: 8, p: 1 } });
    expect((await after.authenticate('grace@example.com', 'wrong password')).ok).toBe(false);
    expect((await stores.users.findById(user.id))!.passwordHash).toBe(user.passwordHash);
    clock.advance(1000);
    const result = await after.authenticate('grace@example.com', 'cobol compiler');
    expect(result.ok).toBe(true);
    const stored = (await stores.users.findById(user.id))!;
    expect(stored.passwordHash.startsWith('$scrypt$ln=15,r=8,p=1$')).toBe(true);
    expect(stored.updatedAt).toBe(clock.now());
    expect(result.ok && result.user.passwordHash).toBe(stored.passwordHash);
    expect((await after.authenticate('grace@example.com', 'cobol compiler')).ok).toBe(true);
  });

  it('a deleted user, or one whose deletion is under way, cannot log in', async () => {
    let failHook = true;
    const hooked: string[] = [];
    const users = new UserService({
      store: stores.users,
      clock,
      hashParams: CHEAP,
      onDelete: [
        async (u) => {
          hooked.push(u.id);
          if (failHook) throw new Error('grant store unreachable');
        },
      ],
    });
    const user = await users.create(actor, { email: 'linus@example.com', password: 'kernel hacker' });
    await expect(users.delete(actor, user.id)).rejects.toThrow('grant store unreachable');
    // Marked, not removed: no login, not visible, but a retry finishes the deletion.
    expect(await users.authenticate('linus@example.com', 'kernel hacker')).toEqual({ ok: false, reason: 'unknown_email' });
    await expect(users.get(actor, user.id)).rejects.toMatchObject({ code: 'not_found' });
    expect((await users.list(actor, { limit: 100 })).map((u) => u.id)).not.toContain(user.id);
    failHook = false;
    await users.delete(actor, user.id);
    expect(hooked).toEqual([user.id, user.id]);
    expect(await stores.users.findById(user.id)).toBeUndefined();
    await expect(users.delete(actor, user.id)).rejects.toMatchObject({ code: 'not_found' });
    const deletions = await stores.audit.list({ type: 'user.deleted', limit: 10 });
    expect(deletions.filter((e) => e.details?.userId === user.id)).toHaveLength(1);
  });

  it('a storage failure throws; it is never reported as a wrong password or unknown email', async () => {
    const dir2 = tempDir('users-core-closed');
    const db2 = openDatabase({ dataDir: dir2.path });
    await migrateToLatest(db2);
    const users = new UserService({ store: createSqlStores(db2).users, clock, hashParams: CHEAP });
    await users.create(actor, { email: 'x@example.com', password: 'password1' });
    await db2.close();
    try {
      await expect(users.authenticate('x@example.com', 'password1')).rejects.not.toBeInstanceOf(GatehouseError);
    } finally {
      dir2.remove();
    }
  });
});
