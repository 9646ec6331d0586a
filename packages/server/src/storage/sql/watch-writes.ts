import type { CompiledQuery, DatabaseConnection, Dialect, Driver, TransactionSettings } from 'kysely';
import type { OutboxSignal } from './outbox-signal.js';
import type { WriteHealth } from './write-health.js';

const READ = /^\s*select\b/i;
const OUTBOX_INSERT = 'insert into "webhook_events"';

export interface WatchWritesOptions {
  /** Told of every write's outcome (statements outside a transaction, commits); readiness reads it. */
  health: WriteHealth;
  /** Emitted once a commit (or a statement outside a transaction) that wrote outbox rows is durable. */
  outbox: OutboxSignal;
  /** SQLite: whether the connection still has a transaction to roll back. */
  sqlite?: { readonly inTransaction: boolean } | undefined;
}

/**
 * Wraps a dialect so that every write through Kysely (statements, transactions, migrations) is watched, whoever
 * runs it, in one place:
 * - its outcome goes to `health` (see WriteHealth);
 * - a commit that wrote webhook outbox rows emits `outbox` once it is durable: the dispatcher wakes the moment
 *   there is something to deliver, never before the event can be read (every such write goes through
 *   insertAuditEvents, whichever store runs it).
 *
 * SQLite: after SQLITE_FULL, SQLITE_IOERR or SQLITE_BUSY in a transaction, SQLite may already have rolled the
 * transaction back itself. Kysely then sends `rollback`, which fails with "cannot rollback - no transaction is
 * active" (SQLITE_ERROR) and is thrown in place of the failure that caused it: a full disk read as a bug (500).
 * `inTransaction` says whether there is anything left to roll back.
 */
export function watchWrites(dialect: Dialect, options: WatchWritesOptions): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver: () => watchDriver(dialect.createDriver(), options),
  };
}

function watchDriver(driver: Driver, { health, outbox, sqlite }: WatchWritesOptions): Driver {
  const watched = new WeakSet<DatabaseConnection>();
  const inTransaction = new WeakSet<DatabaseConnection>();
  const wroteOutbox = new WeakSet<DatabaseConnection>();
  const watch = (connection: DatabaseConnection) => {
    if (watched.has(connection)) return;
    watched.add(connection);
    const execute = connection.executeQuery.bind(connection);
    connection.executeQuery = async <R>(query: CompiledQuery) => {
      const write = inTransaction.has(connection) || !READ.test(query.sql);
      try {
        const result = await execute<R>(query);
        // Inside a transaction, only the commit says the write reached the disk.
        if (write && !inTransaction.has(connection)) health.succeeded();
        if (query.sql.startsWith(OUTBOX_INSERT)) {
          if (inTransaction.has(connection)) wroteOutbox.add(connection);
          else outbox.emit();
        }
        return result;
      } catch (error) {
        if (write) health.failed(error);
        throw error;
      }
    };
  };
  const wrapped: Driver = {
    init: () => driver.init(),
    async acquireConnection() {
      const connection = await driver.acquireConnection();
      watch(connection);
      return connection;
    },
    async beginTransaction(connection, settings: TransactionSettings) {
      // Marked first: the begin statement itself is a write (it may wait for the write lock).
      inTransaction.add(connection);
      try {
        await driver.beginTransaction(connection, settings);
      } catch (error) {
        inTransaction.delete(connection);
        throw error;
      }
    },
    async commitTransaction(connection) {
      await driver.commitTransaction(connection);
      inTransaction.delete(connection);
      health.succeeded();
      if (wroteOutbox.delete(connection)) outbox.emit();
    },
    async rollbackTransaction(connection) {
      wroteOutbox.delete(connection);
      try {
        // Still marked: a rollback that succeeds is no write that succeeded.
        if (!sqlite || sqlite.inTransaction) await driver.rollbackTransaction(connection);
      } finally {
        inTransaction.delete(connection);
      }
    },
    releaseConnection: (connection) => driver.releaseConnection(connection),
    destroy: () => driver.destroy(),
  };
  if (driver.savepoint) wrapped.savepoint = driver.savepoint.bind(driver);
  if (driver.rollbackToSavepoint) wrapped.rollbackToSavepoint = driver.rollbackToSavepoint.bind(driver);
  if (driver.releaseSavepoint) wrapped.releaseSavepoint = driver.releaseSavepoint.bind(driver);
  return wrapped;
}
