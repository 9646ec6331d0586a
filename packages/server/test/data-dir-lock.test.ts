import { afterAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { openDatabase } from '../src/storage/sql/database.js';
import { DataDirLockedError } from '../src/storage/sql/data-dir-lock.js';
import { tempDir } from './helpers/databases.js';
import { api, killSpawned, runCli, spawnServer } from './helpers/spawn-server.js';

/**
 * Embedded mode: one process per data directory. Two processes on one SQLite file would each cache keys the
 * other revoked (for minutes), so the second must refuse to start; and the lock must die with its process.
 */

describe('one process per SQLite data directory (real processes)', () => {
  const dir = tempDir('data-dir-lock');
  afterAll(async () => {
    await killSpawned();
    dir.remove();
  });

  it('a second start refuses with the reason and what to do instead (exit 1), migrate too; after kill -9 of the first, a start succeeds', async () => {
    const rootKey = generateApiKey('live').key;
    const env = { GATEHOUSE_DATA_DIR: dir.path, GATEHOUSE_BOOTSTRAP_ADMIN_KEY: rootKey, GATEHOUSE_LOG_LEVEL: 'warn' };
    const first = await spawnServer({ env });
    const key = await api(first.url, 'POST', '/v1/keys', { key: rootKey, body: { name: 'k', scopes: ['keys:read'] } });
    expect(key.status).toBe(201);

    const second = await runCli(['start'], { env: { ...env, GATEHOUSE_PORT: '0' } });
    expect(second.code, second.stderr).toBe(1);
    expect(second.stderr).toContain(`The data directory ${dir.path} is in use by another Gatehouse process`);
    expect(second.stderr).toContain('stop the other process first');
    expect(second.stderr).toContain('GATEHOUSE_DATABASE_URL=postgres://');
    expect(second.stderr).toContain('GATEHOUSE_REDIS_URL=redis://');
    expect(second.stdout).not.toContain('listening');

    // The other commands that open the data directory refuse the same way while the server runs.
    const migrate = await runCli(['migrate'], { env });
    expect(migrate.code, migrate.stderr).toBe(1);
    expect(migrate.stderr).toContain('is in use by another Gatehouse process');

    // The first was not disturbed: it still serves, and writes.
    expect((await api(first.url, 'POST', `/v1/keys/${key.body.id}/revoke`, { key: rootKey, body: {} })).status).toBe(200);

    // kill -9: no shutdown, no cleanup. The operating system drops the lock with the process.
    await first.kill9();
    const third = await spawnServer({ env });
    try {
      expect((await api(third.url, 'GET', '/readyz')).status).toBe(200);
      const verify = await api(third.url, 'POST', '/v1/keys/verify', { key: rootKey, body: { key: key.body.key } });
      expect(verify.body.code).toBe('REVOKED');
    } finally {
      expect((await third.stop()).code).toBe(0);
    }
    // A clean stop released it too.
    const migrated = await runCli(['migrate'], { env });
    expect(migrated.code, migrated.stderr).toBe(0);
  });
});

describe('one process per SQLite data directory (within one process)', () => {
  it('a second open of the same data directory is refused until the first is closed', async () => {
    const dir = tempDir('data-dir-lock-inproc');
    try {
      const first = openDatabase({ dataDir: dir.path });
      let refused: unknown;
      try {
        openDatabase({ dataDir: dir.path });
      } catch (error) {
        refused = error;
      }
      expect(refused).toBeInstanceOf(DataDirLockedError);
      // Another data directory is another lock.
      const other = tempDir('data-dir-lock-other');
      await openDatabase({ dataDir: other.path }).close();
      other.remove();

      await first.close();
      const again = openDatabase({ dataDir: dir.path });
      await again.close();
    } finally {
      dir.remove();
    }
  });
});
