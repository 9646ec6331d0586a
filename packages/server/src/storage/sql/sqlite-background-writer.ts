import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { AuditEvent } from '../../core/audit/audit-event.js';
import type { RollUpStep } from '../../core/usage/usage-periods.js';
import { AUDIT_EVENT_COLUMNS, pushAuditEventValues } from './rows.js';
import { addStatements, MOVE_DAY_WATERMARK_SQL, MOVE_HOUR_WATERMARK_SQL, purgeSql, rollUpDaysSql, rollUpHoursSql, USAGE_TABLES } from './usage-sql.js';
import type { WriteHealth } from './write-health.js';

// The worker's code, plain CommonJS run with `eval`, so it works the same from the built server and from the
// TypeScript sources under test. It owns a second connection to the database file (WAL lets it write while the
// main connection reads) and runs each batch as one transaction of prepared statements.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const columns = workerData.auditColumns;
const width = columns.length;
const usageSql = workerData.usageSql;
let jobs;
// Opened on the first job, and again on the next one after opening failed (a read-only or full disk at the
// time): the failure is answered like any other, with its SQLite code, and the worker lives on.
function open() {
  const db = new Database(workerData.file);
  try {
    db.pragma('journal_mode = WAL');
    // These rows are written behind by design (a crash may lose the last second of them), so their commits need
    // not wait for fsync; WAL keeps them across a process crash. The main connection stays synchronous=FULL.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    // A batch touches one leaf of the audit key index per distinct key: keep those pages cached between batches
    // (64 MiB at most, allocated as used) rather than reading them back each time.
    db.pragma('cache_size = -65536');
    const insertEvent = db.prepare(
      'insert into audit_events (' + columns.join(', ') + ') values (' + columns.map(() => '?').join(', ') + ') on conflict (id) do nothing'
    );
    // Retention: the oldest events first, through audit_events_time_idx, a bounded batch at a time.
    const purgeAudit = db.prepare(
      'delete from audit_events where id in (select id from audit_events where occurred_at < ? order by occurred_at, id limit ?)'
    );
    // Usage counters: prepared on first use: a database opened before its usage tables were migrated can still write audit events.
    let usage;
    const usageJobs = () => (usage ??= prepareUsage(db));
    return {
      db,
      usageAdd: (payload) => usageJobs().add.immediate(payload),
      usageRollUp: (plan) => usageJobs().rollUp.immediate(plan),
      usagePurge: ({ table, cutoff, limit }) => usageJobs().purge[table].run(cutoff, limit).changes,
      // Events arrive as one flat array of column values, row after row (cheap to copy between threads).
      audit: db.transaction((values) => { for (let i = 0; i < values.length; i += width) insertEvent.run(values.slice(i, i + width)); }),
      purgeAudit: ({ cutoff, limit }) => purgeAudit.run(cutoff, limit).changes,
    };
  } catch (error) {
    db.close();
    throw error;
  }
}
// Usage counters (usage-sql.ts): each job one IMMEDIATE transaction, so it never reads a watermark that another
// connection moves before it writes.
function prepareUsage(db) {
  const touch = db.prepare('update api_keys set last_used_at = ? where id = ? and (last_used_at is null or last_used_at < ?)');
  const touchClient = db.prepare('update oauth_clients set last_used_at = ? where id = ? and (last_used_at is null or last_used_at < ?)');
  const addUsage = usageSql.add.map((text) => db.prepare(text));
  const moveHour = db.prepare(usageSql.moveHour);
  const moveDay = db.prepare(usageSql.moveDay);
  const rollHours = db.prepare(usageSql.rollHours);
  const rollDays = db.prepare(usageSql.rollDays);
  const purgeUsage = Object.fromEntries(Object.entries(usageSql.purge).map(([table, text]) => [table, db.prepare(text)]));
  const usageAdd = db.transaction(({ rows, lastUsed }) => {
    if (rows !== null) for (const statement of addUsage) statement.run(rows);
    for (const [id, at] of lastUsed) (id.startsWith('cli_') ? touchClient : touch).run(at, id, at);
  });
  const usageRollUp = db.transaction(({ hour, day }) => {
    if (hour && moveHour.run(hour.to, hour.from).changes === 1) rollHours.run(hour.from, hour.to);
    if (day && moveDay.run(day.to, day.from, day.to).changes === 1) rollDays.run(day.from / 60, day.to / 60);
  });
  return { add: usageAdd, rollUp: usageRollUp, purge: purgeUsage };
}
parentPort.on('message', ({ id, job, payload }) => {
  if (job === 'close') { if (jobs) jobs.db.close(); jobs = undefined; parentPort.postMessage({ id, ok: true }); return; }
  try {
    jobs ??= open();
    const result = jobs[job](payload);
    parentPort.postMessage({ id, ok: true, result });
  } catch (error) {
    // Only plain values cross the thread boundary (a structured clone keeps an Error's message, not its code).
    parentPort.postMessage({ id, ok: false, message: String(error && error.message), code: error && typeof error.code === 'string' ? error.code : undefined });
  }
});
`;

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  message?: string;
  code?: string;
}

/**
 * Writes the write-behind batches (audit events, usage counters with keys' last-used times) of an SQLite database from a worker thread.
 * On the event loop those batches cost about as much as the requests that cause them (index upkeep, and an
 * fsync per transaction); in the worker they cost the hot path one postMessage of a flat array per batch.
 * The worker starts on first use and stops with close().
 */
export class SqliteBackgroundWriter {
  #worker: Worker | undefined;
  #nextId = 0;
  #pending = new Map<number, { resolve(result: unknown): void; reject(error: Error): void }>();

  /** `health` learns the outcome of every batch: these are most of an SQLite database's writes. */
  constructor(
    private readonly file: string,
    private readonly health?: WriteHealth,
  ) {}

  /** Sent as one flat array of column values: copying it to the worker costs far less than row objects. */
  insertAuditEvents(events: readonly AuditEvent[]): Promise<void> {
    const values: unknown[] = [];
    for (const event of events) pushAuditEventValues(values, event);
    return this.#send('audit', values).then(() => undefined);
  }

  /** Deletes up to `limit` of the events that occurred before `cutoff`, oldest first (retention); how many. */
  purgeAuditEvents(cutoff: number, limit: number): Promise<number> {
    return this.#send('purgeAudit', { cutoff, limit }).then(Number);
  }

  /** UsageStore.add: the rows (a JSON array, or null) and the keys' last-used times, in one transaction. */
  addUsage(rows: string | null, lastUsed: ReadonlyArray<readonly [id: string, at: number]>): Promise<void> {
    return this.#send('usageAdd', { rows, lastUsed }).then(() => undefined);
  }

  /** UsageStore.rollUp: the planned steps, each applied only if its watermark has not moved since. */
  rollUpUsage(plan: { hour: RollUpStep | null; day: RollUpStep | null }): Promise<void> {
    return this.#send('usageRollUp', plan).then(() => undefined);
  }

  /** Deletes up to `limit` rows of a usage table with periods before `cutoff`; how many. */
  purgeUsage(table: string, cutoff: number, limit: number): Promise<number> {
    return this.#send('usagePurge', { table, cutoff, limit }).then(Number);
  }

  async close(): Promise<void> {
    if (!this.#worker) return;
    const worker = this.#worker;
    await this.#send('close', null).catch(() => {});
    this.#worker = undefined;
    await worker.terminate();
  }

  #send(job: string, payload: unknown): Promise<unknown> {
    const worker = (this.#worker ??= this.#start());
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, job, payload });
    });
  }

  #start(): Worker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        file: this.file,
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        auditColumns: AUDIT_EVENT_COLUMNS,
        usageSql: {
          add: addStatements('sqlite'),
          moveHour: MOVE_HOUR_WATERMARK_SQL,
          moveDay: MOVE_DAY_WATERMARK_SQL,
          rollHours: rollUpHoursSql('sqlite'),
          rollDays: rollUpDaysSql('sqlite'),
          purge: Object.fromEntries(Object.values(USAGE_TABLES).map((table) => [table, purgeSql(table)])),
        },
      },
    });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const waiter = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if (!waiter) return;
      if (reply.ok) {
        this.health?.succeeded();
        waiter.resolve(reply.result);
      } else {
        // The SQLite code (SQLITE_FULL, SQLITE_READONLY, ...) travels as a plain field and is put back on the
        // error here, so isStorageUnavailable classifies a failure in the worker like one on the main connection.
        const error = Object.assign(new Error(reply.message ?? 'SQLite background write failed'), { code: reply.code });
        this.health?.failed(error);
        waiter.reject(error);
      }
    });
    const failAll = (error: Error) => {
      for (const waiter of this.#pending.values()) waiter.reject(error);
      this.#pending.clear();
      this.#worker = undefined;
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`SQLite background writer exited (${code})`)));
    return worker;
  }
}
