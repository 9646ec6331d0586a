import { StorageUnavailableError } from '../core/errors.js';

/** Exact codes: Node's network and file-system errors, and PostgreSQL SQLSTATEs. */
const UNAVAILABLE_CODES = new Set([
  // Network (PostgreSQL, Redis).
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  // The disk, wherever Gatehouse writes a file itself: full, read-only, failing.
  'ENOSPC',
  'EDQUOT',
  'EROFS',
  'EIO',
  // PostgreSQL: connection exceptions (class 08).
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  // PostgreSQL: insufficient resources (class 53: disk full, out of memory, too many connections, limits).
  '53000',
  '53100',
  '53200',
  '53300',
  '53400',
  // PostgreSQL: statement timeout or cancelled, admin / crash shutdown, cannot connect now, database dropped.
  '57014',
  '57P01',
  '57P02',
  '57P03',
  '57P05',
  // PostgreSQL: system errors (class 58: I/O error, undefined file), read-only transaction (a standby).
  '58000',
  '58030',
  '25006',
]);

/**
 * SQLite primary result codes. better-sqlite3 reports extended codes (SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED,
 * SQLITE_BUSY_TIMEOUT, ...), so each matches itself and every extended code under it.
 */
const UNAVAILABLE_SQLITE_CODES = [
  'SQLITE_BUSY', // locked by another connection beyond busy_timeout
  'SQLITE_LOCKED',
  'SQLITE_IOERR', // the disk failed a read or write
  'SQLITE_FULL', // "database or disk is full"
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY', // the file, its directory or its file system is read-only
  'SQLITE_PROTOCOL', // the WAL lock protocol failed (a lock race that went on too long)
];

/** Messages of failures that carry no code (pg's client-side timeouts and closed pools, ioredis's, including its command timeout, SQLite's own). */
const UNAVAILABLE_MESSAGE =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|database connection is not open|Cannot use a pool after calling end|Connection is closed|enableOfflineQueue|MaxRetriesPerRequest|Command timed out|database or disk is full|attempt to write a readonly database|disk I\/O error|database is locked/i;

function isUnavailableCode(code: string): boolean {
  if (UNAVAILABLE_CODES.has(code)) return true;
  return UNAVAILABLE_SQLITE_CODES.some((primary) => code === primary || code.startsWith(`${primary}_`));
}

/**
 * True for failures of the storage infrastructure, the database or Redis (as opposed to bugs or bad data): the
 * one classification every path uses, so that each of them answers 503 `temporarily_unavailable` (the error
 * handler), counts against readiness (the database's write health) and never reads as a bad credential.
 * Follows `cause` chains (a migration failure, a StorageUnavailableError around the driver's error). A Redis
 * command that outlived GATEHOUSE_REDIS_TIMEOUT_MS (ioredis: "Command timed out") is one: a hung Redis is down.
 */
export function isStorageUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof StorageUnavailableError) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && isUnavailableCode(code)) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
  }
  return false;
}
