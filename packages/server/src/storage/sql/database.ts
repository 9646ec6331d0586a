import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, PostgresIntrospector, SqliteDialect, sql, type DatabaseIntrospector, type TableMetadata } from 'kysely';
import pg from 'pg';
import { systemClock, type Clock } from '../../core/clock.js';
import { StorageUnavailableError } from '../../core/errors.js';
import type { Schema } from './schema.js';
import { lockDataDir } from './data-dir-lock.js';
import { OutboxSignal } from './outbox-signal.js';
import { SqliteBackgroundWriter } from './sqlite-background-writer.js';
import { watchWrites } from './watch-writes.js';
import { WriteHealth } from './write-health.js';

export type DialectName = 'sqlite' | 'postgres';

/** The one database handle the stores share. */
export interface Database {
  readonly db: Kysely<Schema>;
  readonly dialect: DialectName;
  /** SQLite only: writes the write-behind batches off the event loop. */
  readonly backgroundWriter?: SqliteBackgroundWriter;
  /** Emits after each commit (by this process) that wrote webhook events to the outbox. */
  readonly outboxCommits: OutboxSignal;
  /** The outcome of recent writes (every write through `db` and the background writer reports to it). */
  readonly writeHealth: WriteHealth;
  /**
   * Readiness: resolves when the database answers and no write has failed for a storage reason (full disk,
   * read-only file, I/O error, lock held past the busy timeout, lost connection) in the last
   * WRITE_FAILURE_WINDOW_MS with none succeeding since; rejects with StorageUnavailableError otherwise.
   * (A full or read-only disk still answers `select 1`.)
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres://... for PostgreSQL; unset for SQLite in `dataDir`. */
  url?: string | undefined;
  dataDir: string;
  /** PostgreSQL only: the schema to work in (tests use one per run). */
  schema?: string | undefined;
  /** SQLite only: the file name inside dataDir. */
  sqliteFile?: string;
  /** Times write failures for readiness (tests freeze it). */
  clock?: Clock;
}

export function openDatabase(options: DatabaseOptions): Database {
  const writeHealth = new WriteHealth(options.clock ?? systemClock);
  if (options.url && /^postgres(ql)?:\/\//.test(options.url)) return openPostgres(options.url, options.schema, writeHealth);
  if (options.url) throw new TypeError('GATEHOUSE_DATABASE_URL must be a postgres:// URL (unset for SQLite)');
  return openSqlite(join(options.dataDir, options.sqliteFile ?? 'gatehouse.db'), options.dataDir, writeHealth);
}

/** Rejects when a recent write failed for a storage reason (see Database.ping). */
function checkRecentWrites(writeHealth: WriteHealth): void {
  const failure = writeHealth.recentFailure();
  if (failure) throw new StorageUnavailableError('A recent write failed for a storage reason', { cause: failure.error });
}

function openSqlite(file: string, dataDir: string, writeHealth: WriteHealth): Database {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // One process per data directory (see lockDataDir): refused before the database is even opened.
  const lock = lockDataDir(dataDir);
  let sqlite: SQLite.Database | undefined;
  try {
    sqlite = new SQLite(file);
    // WAL lets readers run beside the writer; synchronous=FULL makes every acknowledged commit durable even
    // across power loss (NORMAL would already survive a process crash).
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
  } catch (error) {
    sqlite?.close();
    lock.release();
    throw error;
  }
  const opened = sqlite;
  const outboxCommits = new OutboxSignal();
  const db = new Kysely<Schema>({
    dialect: watchWrites(new SqliteDialect({ database: opened }), { health: writeHealth, outbox: outboxCommits, sqlite: opened }),
  });
  const backgroundWriter = new SqliteBackgroundWriter(file, writeHealth);
  return {
    db,
    dialect: 'sqlite',
    backgroundWriter,
    outboxCommits,
    writeHealth,
    async ping() {
      try {
        opened.prepare('select 1').get();
      } catch (error) {
        throw new StorageUnavailableError('SQLite is not readable', { cause: error });
      }
      checkRecentWrites(writeHealth);
    },
    async close() {
      try {
        await backgroundWriter.close();
        await db.destroy();
      } finally {
        lock.release();
      }
    },
  };
}

const INT8_OID = 20;

/**
 * Kysely's PostgreSQL introspector (used by the migrator to find its own tables) reads every schema of the
 * database and calls has_schema_privilege() and pg_get_serial_sequence() on each: a schema dropped by another
 * client meanwhile (parallel test runs, other applications) fails the migration with "schema ... does not
 * exist". Gatehouse only ever needs the tables of its own schema.
 */
class CurrentSchemaIntrospector extends PostgresIntrospector {
  constructor(private readonly kysely: Kysely<any>) {
    super(kysely);
  }

  /** The tables and views of current_schema(), without their columns (nothing here reads them). */
  override async getTables(): Promise<TableMetadata[]> {
    const { rows } = await sql<{ name: string; schema: string; kind: string }>`
      select c.relname as name, ns.nspname as schema, c.relkind as kind
      from pg_catalog.pg_class c join pg_catalog.pg_namespace ns on ns.oid = c.relnamespace
      where ns.nspname = current_schema() and c.relkind in ('r', 'v', 'p')
      order by c.relname`.execute(this.kysely);
    return rows.map((row) => ({ name: row.name, schema: row.schema, isView: row.kind === 'v', columns: [] }));
  }
}

class CurrentSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new CurrentSchemaIntrospector(db);
  }
}

function openPostgres(url: string, schema: string | undefined, writeHealth: WriteHealth): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: 5000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
    // Timestamps are bigint milliseconds: parse them as numbers, not strings.
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // A client losing its connection must not crash the process: the query in flight (if any) rejects with the
  // error and is answered as a 503; an idle client is dropped from the pool and replaced on next use.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const outboxCommits = new OutboxSignal();
  const db = new Kysely<Schema>({
    dialect: watchWrites(new CurrentSchemaPostgresDialect({ pool }), { health: writeHealth, outbox: outboxCommits }),
  });
  return {
    db,
    dialect: 'postgres',
    outboxCommits,
    writeHealth,
    async ping() {
      try {
        await sql`select 1`.execute(db);
      } catch (error) {
        throw new StorageUnavailableError('PostgreSQL is not reachable', { cause: error });
      }
      checkRecentWrites(writeHealth);
    },
    close: () => db.destroy(),
  };
}
