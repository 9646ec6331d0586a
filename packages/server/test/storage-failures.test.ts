import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { ManualClock } from '../src/core/clock.js';
import { StorageUnavailableError } from '../src/core/errors.js';
import { toHttpError } from '../src/http/plugins/error-handler.js';
import { isStorageUnavailable } from '../src/storage/is-storage-unavailable.js';
import { WRITE_FAILURE_WINDOW_MS, WriteHealth } from '../src/storage/sql/write-health.js';
import { createPgSchema, tempDir } from './helpers/databases.js';
import { testDatabaseUrl } from './helpers/env.js';
import { canMount, readOnlyFile, smallDisk } from './helpers/mounts.js';
import { killSpawned, runCli } from './helpers/spawn-server.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/**
 * Every class of storage failure, each produced for real (a full tmpfs, a read-only mount, a lock held by
 * another connection, PostgreSQL cut off or not answering), answers 503 temporarily_unavailable with
 * Retry-After (never 500, never a bad credential), makes GET /readyz name the database, writes nothing half,
 * and recovers once the cause is gone.
 */

type Response = Awaited<ReturnType<TestApp['api']>>;

function expectUnavailable(response: Response): void {
  expect(response.status, JSON.stringify(response.body)).toBe(503);
  expect(response.body.error).toBe('temporarily_unavailable');
  expect(response.headers['retry-after']).toBe('5');
  expect(response.headers['www-authenticate']).toBeUndefined();
}

async function readiness(t: TestApp): Promise<{ status: number; database: string }> {
  const response = await t.app.inject({ method: 'GET', url: '/readyz' });
  return { status: response.statusCode, database: response.json().checks.database };
}

async function keyNames(t: TestApp): Promise<string[]> {
  const response = await t.api('GET', '/v1/keys?limit=100');
  expect(response.status).toBe(200);
  return response.body.data.map((k: { name: string }) => k.name).sort();
}

/** Fills the file system holding `dir` to the last byte; returns the filler file. */
function fillDisk(dir: string): string {
  const file = join(dir, 'filler');
  const fd = openSync(file, 'w');
  try {
    for (const size of [1 << 20, 1 << 16, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        if ((error as { code?: string }).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
  return file;
}

// Mounting needs root (or CAP_SYS_ADMIN): without it the tests on real full and read-only file systems are
// skipped, and said so.
const mountable = canMount();
if (!mountable) console.warn('storage-failures.test.ts: cannot mount a tmpfs here: the full-disk and read-only tests are skipped');
afterAll(() => killSpawned());

describe('the classification of storage failures (errors from the real engines)', () => {
  function expectClass(error: unknown, unavailable: boolean): void {
    expect(isStorageUnavailable(error), String(error)).toBe(unavailable);
    const http = toHttpError(error as Error);
    if (unavailable) {
      expect(http.code).toBe('temporarily_unavailable');
      expect(http.headers['retry-after']).toBe('5');
    } else {
      expect(http.code).toBe('server_error');
    }
  }
  function sqliteError(run: (db: SQLite.Database) => void, db = new SQLite(':memory:')): unknown {
    try {
      run(db);
    } catch (error) {
      return error;
    } finally {
      db.close();
    }
    throw new Error('no error');
  }

  it('SQLite: full, read-only, locked and I/O failures are storage failures; a constraint or a bug is not', () => {
    const dir = tempDir('classify');
    onTestFinished(() => dir.remove());
    const full = sqliteError((db) => {
      db.exec('create table t (x blob)');
      db.pragma('max_page_count = 3');
      db.prepare('insert into t values (?)').run(Buffer.alloc(64 * 1024));
    });
    expect((full as { code: string }).code).toBe('SQLITE_FULL');
    expectClass(full, true);

    const file = join(dir.path, 'ro.db');
    new SQLite(file).exec('create table t (x)');
    const readOnly = sqliteError((db) => db.exec('insert into t values (1)'), new SQLite(file, { readonly: true }));
    expect((readOnly as { code: string }).code).toBe('SQLITE_READONLY');
    expectClass(readOnly, true);

    const locked = join(dir.path, 'locked.db');
    const holder = new SQLite(locked);
    holder.exec('create table t (x)');
    holder.exec('begin immediate');
    const busy = sqliteError((db) => db.exec('insert into t values (1)'), new SQLite(locked, { timeout: 0 }));
    holder.exec('rollback');
    holder.close();
    expect((busy as { code: string }).code).toBe('SQLITE_BUSY');
    expectClass(busy, true);

    // SQLite's extended I/O codes (no disk here fails on demand): the class better-sqlite3 throws them with.
    expectClass(new SQLite.SqliteError('disk I/O error', 'SQLITE_IOERR_WRITE'), true);
    expectClass(new SQLite.SqliteError('attempt to write a readonly database', 'SQLITE_READONLY_DBMOVED'), true);
    expectClass(new SQLite.SqliteError('database is locked', 'SQLITE_BUSY_SNAPSHOT'), true);

    const unique = sqliteError((db) => {
      db.exec('create table t (x unique)');
      db.exec('insert into t values (1); insert into t values (1)');
    });
    expectClass(unique, false);
    // What a full disk used to surface as: Kysely's rollback after SQLite had already rolled back. Not a storage
    // failure in itself: the fix is that it no longer hides the SQLITE_FULL behind it.
    expectClass(sqliteError((db) => db.exec('rollback')), false);
    expectClass(new TypeError('x is undefined'), false);
    // Wrapped (a migration at start, a readiness ping): the cause decides.
    expectClass(new Error('Database migration failed', { cause: full }), true);
    expectClass(new StorageUnavailableError('down'), true);
  });

  it.skipIf(!testDatabaseUrl)('PostgreSQL: a statement timeout and a terminated connection are storage failures', async () => {
    const client = new pg.Client({ connectionString: testDatabaseUrl });
    client.on('error', () => {});
    await client.connect();
    try {
      await client.query('set statement_timeout = 1');
      const timeout = await client.query('select pg_sleep(1)').then(() => undefined, (error: unknown) => error);
      expect((timeout as { code: string }).code).toBe('57014');
      expectClass(timeout, true);
      await client.query('set statement_timeout = 0');
      const bug = await client.query('select 1 / 0').then(() => undefined, (error: unknown) => error);
      expect((bug as { code: string }).code).toBe('22012');
      expectClass(bug, false);
      const terminated = await client.query('select pg_terminate_backend(pg_backend_pid())').then(() => undefined, (error: unknown) => error);
      expect((terminated as { code: string }).code).toBe('57P01');
      expectClass(terminated, true);
    } finally {
      await client.end().catch(() => {});
    }
  });
});

describe('readiness remembers a failed write', () => {
  it('for WRITE_FAILURE_WINDOW_MS, or until a write succeeds; only storage failures count', () => {
    const clock = new ManualClock();
    const health = new WriteHealth(clock);
    health.failed(new SQLite.SqliteError('UNIQUE constraint failed', 'SQLITE_CONSTRAINT_UNIQUE'));
    expect(health.recentFailure()).toBeUndefined();
    const full = new SQLite.SqliteError('database or disk is full', 'SQLITE_FULL');
    health.failed(full);
    expect(health.recentFailure()?.error).toBe(full);
    clock.advance(WRITE_FAILURE_WINDOW_MS - 1);
    expect(health.recentFailure()?.error).toBe(full);
    clock.advance(1);
    expect(health.recentFailure()).toBeUndefined();
    health.failed(full);
    health.succeeded();
    expect(health.recentFailure()).toBeUndefined();
  });
});

describe.skipIf(!mountable)('SQLite on a disk that fills up (a 4 MiB tmpfs)', () => {
  it('answers 503 with Retry-After for writes, written-behind or not; /readyz says so; nothing half-written; recovers', async () => {
    const disk = smallDisk(4 * 1024 * 1024);
    const background: unknown[] = [];
    const t = await createTestApp({ dataDir: join(disk.path, 'data'), onBackgroundError: (_message, error) => background.push(error) });
    try {
      const before = await t.createKey({ name: 'before', scopes: ['keys:read'] });
      await t.services.audit.flush();
      expect(await readiness(t)).toEqual({ status: 200, database: 'ok' });
      const filler = fillDisk(disk.path);

      // Reads still work: a verification, here a failed one. Its answer waited for its audit event's write (by the
      // background writer, durable-audit.ts), which failed: the answer is the same, the event stays buffered.
      const verify = await t.api('POST', '/v1/keys/verify', { body: { key: before.key, scopes: ['missing'] } });
      expect(verify.status).toBe(200);
      expect(verify.body.code).toBe('INSUFFICIENT_SCOPE');
      expect(t.services.audit.size).toBe(1);
      // The background writer's failure keeps its SQLite code across the thread boundary, and counts.
      expect(background.length).toBeGreaterThan(0);
      expect((background.at(-1) as { code?: string }).code).toBe('SQLITE_FULL');
      expect(isStorageUnavailable(background.at(-1))).toBe(true);
      expect(await readiness(t)).toEqual({ status: 503, database: 'unavailable' });

      // A write on the main connection, in a transaction: 503, not the 500 it used to be.
      expectUnavailable(await t.api('POST', '/v1/keys', { body: { name: 'during', scopes: ['keys:read'] } }));
      expectUnavailable(await t.api('POST', `/v1/keys/${before.id}/revoke`, { body: {} }));
      expect(await readiness(t)).toEqual({ status: 503, database: 'unavailable' });
      expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      // Nothing half-written: no key, no revocation.
      expect(await keyNames(t)).toEqual(['before', 'root']);
      expect((await t.api('GET', `/v1/keys/${before.id}`)).body.revokedAt).toBeNull();

      rmSync(filler);
      const after = await t.api('POST', '/v1/keys', { body: { name: 'after', scopes: ['keys:read'] } });
      expect(after.status).toBe(201);
      expect(await readiness(t)).toEqual({ status: 200, database: 'ok' });
      // The events and counts held back meanwhile are written once there is room, once.
      await t.services.audit.flush();
      expect(t.services.audit.size).toBe(0);
      const verifications = await t.services.stores.audit.list({ type: 'key.verification', limit: 10 });
      expect(verifications.map((e) => e.keyId)).toContain(before.id);
      await t.services.usage.flush();
      expect(t.services.usage.size).toBe(0);
      const usage = await t.api('GET', `/v1/keys/${before.id}/usage`);
      expect(usage.body.data.map((p: { byOutcome: object }) => p.byOutcome)).toEqual([{ INSUFFICIENT_SCOPE: 1 }]);
      expect(await keyNames(t)).toEqual(['after', 'before', 'root']);
    } finally {
      await t.close();
      disk.unmount();
    }
  });
});

describe.skipIf(!mountable)('SQLite database file that is read-only', () => {
  it('at start (a read-only mount over the file): gatehouse start stops, saying storage is unavailable and why (exit 1)', async () => {
    const dir = tempDir('read-only');
    const rootKey = generateApiKey('live').key;
    const first = await createTestApp({ dataDir: dir.path, rootKey });
    await first.close();
    let readOnly: { undo(): void } | undefined = readOnlyFile(join(dir.path, 'gatehouse.db'));
    try {
      const env = { GATEHOUSE_DATA_DIR: dir.path, GATEHOUSE_BOOTSTRAP_ADMIN_KEY: rootKey, GATEHOUSE_PORT: '0' };
      const start = await runCli(['start'], { env });
      expect(start.code, start.stderr).toBe(1);
      expect(start.stderr).toContain('gatehouse: storage is unavailable: ');
      expect(start.stderr).toContain('attempt to write a readonly database');
      expect(start.stdout).not.toContain('listening');

      // Writable again: the failed start left nothing behind (its lock on the data directory included).
      readOnly.undo();
      readOnly = undefined;
      const again = await createTestApp({ dataDir: dir.path, rootKey });
      expect((await again.api('POST', '/v1/keys', { body: { name: 'after' } })).status).toBe(201);
      await again.close();
    } finally {
      readOnly?.undo();
      dir.remove();
    }
  });
});

describe('SQLite locked by another program beyond the busy timeout', () => {
  it('answers 503, /readyz says so, and recovers once the lock is released', async () => {
    const t = await createTestApp();
    const holder = new SQLite(join(t.dataDir, 'gatehouse.db'));
    try {
      holder.exec('begin immediate');
      // Waits out the 5 s busy timeout, then gives up.
      expectUnavailable(await t.api('POST', '/v1/keys', { body: { name: 'during' } }));
      expect(await readiness(t)).toEqual({ status: 503, database: 'unavailable' });
      holder.exec('rollback');
      expect((await t.api('POST', '/v1/keys', { body: { name: 'after' } })).status).toBe(201);
      expect(await readiness(t)).toEqual({ status: 200, database: 'ok' });
      expect(await keyNames(t)).toEqual(['after', 'root']);
    } finally {
      holder.close();
      await t.close();
    }
  });
});

describe.skipIf(!testDatabaseUrl)('PostgreSQL cut off, or not answering', () => {
  it('answers 503 for writes and unknown credentials (never 401 or 500), /readyz says so, recovers', async () => {
    const upstream = new URL(testDatabaseUrl!);
    const proxy = await startTcpProxy({ host: upstream.hostname, port: Number(upstream.port || 5432) });
    const proxied = new URL(testDatabaseUrl!);
    proxied.port = String(proxy.port);
    const schema = await createPgSchema();
    const t = await createTestApp({ dialect: 'postgres', pgSchema: { url: proxied.toString(), schema: schema.schema } });
    try {
      const uncached = await t.createKey({ name: 'uncached', scopes: ['keys:read'] });
      expect(await readiness(t)).toEqual({ status: 200, database: 'ok' });
      t.services.keyCache.clear();

      // Disconnected: every pooled connection is dropped and new ones are refused.
      await proxy.cut();
      expectUnavailable(await t.api('POST', '/v1/keys', { body: { name: 'during' } }));
      expectUnavailable(await t.api('GET', '/v1/keys', { key: uncached.key }));
      expect(await readiness(t)).toEqual({ status: 503, database: 'unavailable' });

      // Not answering: connections are accepted and never served; the pool's connect timeout (5 s) ends the wait.
      await proxy.hang();
      expectUnavailable(await t.api('POST', '/v1/keys', { body: { name: 'stalled' } }));
      expect(await readiness(t)).toEqual({ status: 503, database: 'unavailable' });

      await proxy.restore();
      expect((await t.api('POST', '/v1/keys', { body: { name: 'after' } })).status).toBe(201);
      expect(await readiness(t)).toEqual({ status: 200, database: 'ok' });
      expect((await t.api('GET', '/v1/keys?limit=1', { key: uncached.key })).status).toBe(200);
      expect(await keyNames(t)).toEqual(['after', 'root', 'uncached']);
    } finally {
      await t.close();
      await proxy.close();
      await schema.drop();
    }
  });
});
