import { join } from 'node:path';
import SQLite from 'better-sqlite3';

/** The lock file in the data directory (a small SQLite database that holds nothing else). */
export const LOCK_FILE = 'gatehouse.lock';

/** Another process (or another open database in this one) holds the data directory. */
export class DataDirLockedError extends Error {
  readonly code = 'DATA_DIR_LOCKED';

  constructor(readonly dataDir: string) {
    super(
      `The data directory ${dataDir} is in use by another Gatehouse process (it holds ${join(dataDir, LOCK_FILE)}). ` +
        'Embedded mode (SQLite) serves one process per data directory: stop the other process first. ' +
        'To run several processes, use cluster mode: PostgreSQL (GATEHOUSE_DATABASE_URL=postgres://...) and ' +
        'Redis (GATEHOUSE_REDIS_URL=redis://...).',
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  release(): void;
}

/**
 * Takes the exclusive lock on an embedded-mode data directory, or throws DataDirLockedError at once. Two
 * processes on one SQLite file would each cache keys the other revoked, so the second must not start.
 *
 * The lock is SQLite's own file lock (POSIX advisory locks, fcntl) on `gatehouse.lock`, held by a connection in
 * `locking_mode=EXCLUSIVE`, which keeps the exclusive lock it takes for its first write until it is closed. The
 * operating system drops such a lock with the process that held it, whatever the way it ends (kill -9, a crash,
 * a power loss), so nothing stale is ever left to clean up, and no PID has to be trusted. SQLite also tracks
 * these locks per file within one process, so a second open in the same process is refused the same way.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const lock = new SQLite(join(dataDir, LOCK_FILE), { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    // The rollback journal lives in memory: the lock file is the only file this leaves in the data directory.
    lock.pragma('journal_mode = MEMORY');
    lock.exec('begin exclusive');
    lock.exec('create table if not exists holder (pid integer not null, since integer not null)');
    lock.exec('delete from holder');
    lock.prepare('insert into holder (pid, since) values (?, ?)').run(process.pid, Date.now());
    lock.exec('commit');
  } catch (error) {
    lock.close();
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) throw new DataDirLockedError(dataDir);
    throw error;
  }
  return {
    release: () => {
      if (lock.open) lock.close();
    },
  };
}
