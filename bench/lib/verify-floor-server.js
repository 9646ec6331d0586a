// A reference for the api-key-verify scenario, in its own process: Gatehouse's own verify fast path
// (http/fast-verify.ts on node:http, the same ApiKeyService, KeyCache and stored records) with the work that
// is counted or written behind taken out. It authenticates the caller and verifies the key exactly as the server
// does, and answers the same bytes, but counts no usage (no per-minute count, no last-used time), queues no audit
// event (so detection watches nothing) and records no metric. Not a competitor and not a configuration users can
// run: it shows what the required per-request work costs on this machine, in the same run as the rest.
//
//   node bench/lib/verify-floor-server.js <dataDir> <keys.json>
//   prints "verify-floor listening on http://127.0.0.1:<port>"
//
// It reads the keys from the server's SQLite file (WAL: beside the running server), so start it after the
// server has bootstrapped its root admin key; it loads that key (from keys.json) into its cache before it
// listens, as the server's first authenticated request would.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { ApiKeyService } from '../../packages/server/dist/core/api-keys/api-key-service.js';
import { KeyCache } from '../../packages/server/dist/core/cache/key-cache.js';
import { systemClock } from '../../packages/server/dist/core/clock.js';
import { MemoryRateLimiter } from '../../packages/server/dist/core/rate-limit/memory.js';
import { createFastVerify } from '../../packages/server/dist/http/fast-verify.js';
import { createSqlStores } from '../../packages/server/dist/storage/sql/create-sql-stores.js';
import { openServerDatabase } from './open-server-database.js';

const [dataDir, keysFile] = process.argv.slice(2);
if (!dataDir || !keysFile) {
  console.error('usage: node bench/lib/verify-floor-server.js <dataDir> <keys.json>');
  process.exit(2);
}

const database = openServerDatabase(dataDir);
const stores = createSqlStores(database);
const clock = systemClock;
// Nothing audited (successes are only shown to observers, and there are none): `added` never moves, so no answer
// waits for a write (http/fast-verify.ts, as durable-audit.ts).
const audit = { add() {}, observeOnly() {}, added: 0, flush: async () => {} };
const apiKeys = new ApiKeyService({
  store: stores.apiKeys,
  cache: new KeyCache({ load: (hash) => stores.apiKeys.findByHash(hash), clock, ttlMs: 3_600_000, maxEntries: 1_000_000 }),
  rateLimiter: new MemoryRateLimiter({ clock }),
  clock,
  audit,
  // Nothing counted.
  auditSuccessSample: 0,
  usage: { count() {}, touch() {}, lastUsedAt: () => undefined },
  metrics: { verificationSeconds() {} },
  invalidate: async () => {},
});
const { adminKey } = JSON.parse(readFileSync(keysFile, 'utf8'));
const admin = await apiKeys.authenticate(adminKey);
if (!admin.valid) throw new Error(`the admin key does not verify in ${dataDir}: ${admin.code}`);
const services = { apiKeys, audit, clock, detection: { blocks: { size: 0, retryAfterSeconds: () => 0 } } };

const notTaken = (_request, response) => {
  response.writeHead(404, { 'content-type': 'text/plain' });
  response.end('not taken by the fast path\n');
};
const fastVerify = createFastVerify({
  services,
  bodyLimit: 1024 * 1024,
  handler: notTaken,
  logger: () => console,
  isClosing: () => false,
});
const server = createServer((request, response) => {
  if (!fastVerify(request, response)) notTaken(request, response);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`verify-floor listening on http://127.0.0.1:${server.address().port}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => database.close().then(() => process.exit(0), () => process.exit(1))));
}
