// The floors of api-key-verify and token-client-credentials read the records of the running server from its
// SQLite file. The server locks its data directory (one process per data dir: storage/sql/data-dir-lock.js), so
// a floor opens the same file from a lock directory of its own, removed at exit. The floors write nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { openDatabase } from '../../packages/server/dist/storage/sql/database.js';

export function openServerDatabase(dataDir) {
  const own = mkdtempSync(join(tmpdir(), 'gatehouse-bench-reader-'));
  process.once('exit', () => rmSync(own, { recursive: true, force: true }));
  return openDatabase({ dataDir: own, sqliteFile: relative(own, join(dataDir, 'gatehouse.db')) });
}
