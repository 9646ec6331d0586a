import type { CompiledQuery, DatabaseConnection, Dialect, Driver } from 'kysely';

/** Tells listeners that webhook events were committed to the outbox (by this process). */
export class OutboxSignal {
  readonly #listeners = new Set<() => void>();

  /** Calls `listener` after every commit that wrote outbox rows; returns the unsubscribe function. */
  on(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(): void {
    for (const listener of this.#listeners) listener();
  }
}

const OUTBOX_INSERT = 'insert into "webhook_events"';
const watched = new WeakSet<DatabaseConnection>();

/**
 * Wraps a dialect so that a commit which wrote outbox rows emits `signal` once it is durable: the dispatcher
 * wakes the moment there is something to deliver, never before the event can be read. Watching the driver
 * (not each store) catches every transaction that goes through insertAuditEvents, whoever runs it.
 */
export function signalOutboxCommits(dialect: Dialect, signal: OutboxSignal): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver: () => watchDriver(dialect.createDriver(), signal),
  };
}

function watchDriver(driver: Driver, signal: OutboxSignal): Driver {
  const inTransaction = new WeakSet<DatabaseConnection>();
  const wroteOutbox = new WeakSet<DatabaseConnection>();
  const watch = (connection: DatabaseConnection) => {
    if (watched.has(connection)) return;
    watched.add(connection);
    const execute = connection.executeQuery.bind(connection);
    connection.executeQuery = async <R>(query: CompiledQuery) => {
      const result = await execute<R>(query);
      if (query.sql.startsWith(OUTBOX_INSERT)) {
        if (inTransaction.has(connection)) wroteOutbox.add(connection);
        else signal.emit();
      }
      return result;
    };
  };
  const wrapped: Driver = {
    init: () => driver.init(),
    async acquireConnection() {
      const connection = await driver.acquireConnection();
      watch(connection);
      return connection;
    },
    async beginTransaction(connection, settings) {
      await driver.beginTransaction(connection, settings);
      inTransaction.add(connection);
    },
    async commitTransaction(connection) {
      await driver.commitTransaction(connection);
      inTransaction.delete(connection);
      if (wroteOutbox.delete(connection)) signal.emit();
    },
    async rollbackTransaction(connection) {
      inTransaction.delete(connection);
      wroteOutbox.delete(connection);
      await driver.rollbackTransaction(connection);
    },
    releaseConnection: (connection) => driver.releaseConnection(connection),
    destroy: () => driver.destroy(),
  };
  if (driver.savepoint) wrapped.savepoint = driver.savepoint.bind(driver);
  if (driver.rollbackToSavepoint) wrapped.rollbackToSavepoint = driver.rollbackToSavepoint.bind(driver);
  if (driver.releaseSavepoint) wrapped.releaseSavepoint = driver.releaseSavepoint.bind(driver);
  return wrapped;
}
