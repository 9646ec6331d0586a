// Storage: bytes written to the SQLite database per 1,000 successful key verifications, at full load, of 1,000
// keys over one minute (issue 16: the database grows with keys and time, not with traffic).
//
// 1. lib/seed-keys.js seeds 1,000 active keys into a fresh data dir, which is measured (below); the server is
//    started as users start it, every key is verified once (preflight: each must answer valid), and it is
//    stopped (its counters flushed at shutdown). The first use of a key writes state once per key (anomaly
//    detection's profile and networks, its first lastUsedAt): that growth is printed apart, per key.
// 2. The database is checkpointed (PRAGMA wal_checkpoint(TRUNCATE)) and measured: the file plus its WAL.
// 3. The server is started again and `POST /v1/keys/verify` runs under the usual load (autocannon, every
//    connection its share of the 1,000 keys) for BENCH_STORAGE_SECONDS (60); every response must be
//    {"valid":true,...}. The server is stopped (flushing its counters), checkpointed and measured again.
// 4. Bytes per 1,000 verifications = growth of file + WAL / verifications x 1,000. Target: under 100.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { runLoad } from '../lib/load.js';
import { makeTempDir, runNode } from '../lib/processes.js';
import { REPO_ROOT, startGatehouse } from '../lib/servers.js';

export const name = 'usage-storage';
export const description = 'bytes written to SQLite per 1,000 successful verifications of 1,000 keys over BENCH_STORAGE_SECONDS (60)';

const TARGET_BYTES = 100;
const KEYS = 1000;
const SEED_SCRIPT = fileURLToPath(new URL('../lib/seed-keys.js', import.meta.url));

function storageSeconds() {
  const raw = process.env.BENCH_STORAGE_SECONDS;
  if (raw === undefined || raw.trim() === '') return 60;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`BENCH_STORAGE_SECONDS must be an integer >= 1, got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * The database file plus its WAL, in bytes, after a TRUNCATE checkpoint (the server stopped), and the bytes of
 * pages each table and index holds (SQLite's dbstat), to show where growth goes.
 */
function databaseBytes(dataDir) {
  const file = join(dataDir, 'gatehouse.db');
  const db = new Database(file);
  let tables;
  try {
    const [result] = db.pragma('wal_checkpoint(TRUNCATE)');
    if (result.busy !== 0) throw new Error(`usage-storage: the checkpoint of ${file} was busy (is the server still running?)`);
    tables = new Map(db.prepare('select name, sum(pgsize) as bytes from dbstat group by name').all().map((row) => [row.name, row.bytes]));
  } finally {
    db.close();
  }
  const size = (path) => {
    try {
      return statSync(path).size;
    } catch {
      return 0;
    }
  };
  return { file: size(file), wal: size(`${file}-wal`), total: size(file) + size(`${file}-wal`), tables };
}

export async function run(ctx) {
  const { log } = ctx;
  const seconds = storageSeconds();
  const dir = makeTempDir('gatehouse-bench-storage-');
  const dataDir = join(dir, 'data');
  const keysFile = join(dir, 'keys.json');
  await runNode('seed-keys', [SEED_SCRIPT, dataDir, String(KEYS), String(KEYS), keysFile], { cwd: REPO_ROOT, timeoutMs: 120_000 });
  const { adminKey, keys } = JSON.parse(readFileSync(keysFile, 'utf8'));
  const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
  const verifyOk = (body) => body.startsWith('{"valid":true,');
  const requests = keys.map((key) => ({ method: 'POST', path: '/v1/keys/verify', headers, body: JSON.stringify({ key }) }));
  const load = (url, pid, duration, title) =>
    runLoad({ url, serverPid: pid, requests, verifyBody: verifyOk, duration, title, connections: ctx.connections });
  const seeded = databaseBytes(dataDir);

  let server = await startGatehouse({ dataDir, adminKey });
  for (let i = 0; i < keys.length; i++) {
    const response = await fetch(`${server.url}/v1/keys/verify`, { method: 'POST', headers, body: JSON.stringify({ key: keys[i] }) });
    const text = await response.text();
    if (response.status !== 200 || !verifyOk(text)) throw new Error(`usage-storage preflight: key #${i} answered ${response.status} ${text.slice(0, 300)}`);
  }
  await server.stop(30_000);
  const before = databaseBytes(dataDir);

  server = await startGatehouse({ dataDir, adminKey });
  log(`usage-storage: ${KEYS.toLocaleString('en-US')} keys verified for ${seconds} s at full load (database ${before.total.toLocaleString('en-US')} bytes) ...`);
  const result = await load(server.url, server.child.pid, seconds, 'usage-storage');
  const stopped = await server.stop(30_000);
  if (stopped.code !== 0) throw new Error(`usage-storage: the server did not stop cleanly (${JSON.stringify(stopped)}): its last counts may be lost`);
  const after = databaseBytes(dataDir);

  const grown = after.total - before.total;
  const perThousand = (grown / result.requests) * 1000;
  const row = {
    scenario: `storage: ${perThousand.toFixed(1)} bytes per 1,000 verifications (${KEYS.toLocaleString('en-US')} keys, ${seconds} s)`,
    reqPerSec: result.reqPerSec,
    p50: result.p50,
    p99: result.p99,
    target: `<${TARGET_BYTES} B per 1,000`,
    result: perThousand < TARGET_BYTES ? 'PASS' : 'MISS',
  };
  const notes = [
    `usage-storage: ${result.requests.toLocaleString('en-US')} successful verifications of ${KEYS.toLocaleString('en-US')} keys in ` +
      `${seconds} s (${Math.round(result.reqPerSec).toLocaleString('en-US')} req/s); the SQLite database (file + WAL after a ` +
      `TRUNCATE checkpoint, the server stopped so its counters are flushed) grew from ${before.total.toLocaleString('en-US')} to ` +
      `${after.total.toLocaleString('en-US')} bytes: ${grown.toLocaleString('en-US')} bytes, ${perThousand.toFixed(1)} per 1,000 ` +
      `verifications (${(grown / KEYS).toFixed(0)} per key).`,
  ];
  const growth = (from, to) =>
    [...to.tables]
      .map(([table, bytes]) => [table, bytes - (from.tables.get(table) ?? 0)])
      .filter(([, bytes]) => bytes !== 0)
      .sort((x, y) => y[1] - x[1])
      .map(([table, bytes]) => `${table} ${bytes.toLocaleString('en-US')}`)
      .join(', ') || 'none';
  notes.push(
    `usage-storage: the measured minute grew these tables and indexes (bytes of pages, SQLite dbstat): ${growth(before, after)}.`,
    `usage-storage: before it, the first use of each key (one verification each) grew the database by ${(before.total - seeded.total).toLocaleString('en-US')} bytes, ` +
      `${Math.round((before.total - seeded.total) / KEYS)} per key, once: ${growth(seeded, before)}.`,
  );
  if (perThousand >= TARGET_BYTES) notes.push(`usage-storage MISS: ${perThousand.toFixed(1)} bytes per 1,000 verifications >= ${TARGET_BYTES}.`);
  return { rows: [row], notes };
}
