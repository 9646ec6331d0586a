import { StorageUnavailableError } from '../core/errors.js';

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  // PostgreSQL: connection exceptions, shutdown, too many connections, cannot connect now, read-only.
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53300',
  '57P01',
  '57P02',
  '57P03',
  '25006',
  // SQLite: locked beyond busy_timeout, I/O trouble, disk full, cannot open.
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  'SQLITE_FULL',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
]);

/**
 * True for failures of the storage infrastructure, the database or Redis (as opposed to bugs or bad data). A Redis
 * command that outlived GATEHOUSE_REDIS_TIMEOUT_MS (ioredis: "Command timed out") is one: a hung Redis is down.
 */
export function isStorageUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof StorageUnavailableError) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('SQLITE_IOERR'))) return true;
    const message = (e as { message?: unknown }).message;
    if (
      typeof message === 'string' &&
      /Connection terminated|connection timeout|timeout exceeded when trying to connect|database connection is not open|Cannot use a pool after calling end|Connection is closed|enableOfflineQueue|MaxRetriesPerRequest|Command timed out/i.test(
        message,
      )
    ) {
      return true;
    }
  }
  return false;
}
