// Seeds a fresh Gatehouse SQLite database with API keys, straight through Kysely (the HTTP API would take
// minutes for 100,000 keys). Runs in its own process so the benchmark's process never holds the database.
//
//   node bench/lib/seed-keys.js <dataDir> <count> <sampleCount> <outFile>
//
// Writes <outFile>: { count, adminKey, keys: [<sampleCount> plaintext keys, all active, no rate limit] } and
// prints the same without the keys as one JSON line. The admin key is only generated here: the server
// creates it as its root key from GATEHOUSE_BOOTSTRAP_ADMIN_KEY on first start (and the master key file with
// it), exactly as in production.
import { writeFileSync } from 'node:fs';
import { sql } from 'kysely';
import { hashApiKey } from '../../packages/server/dist/core/api-keys/hash-key.js';
import { generateApiKey } from '../../packages/server/dist/core/api-keys/key-format.js';
import { newId } from '../../packages/server/dist/core/random.js';
import { createSqlStores } from '../../packages/server/dist/storage/sql/create-sql-stores.js';
import { openDatabase } from '../../packages/server/dist/storage/sql/database.js';
import { migrateToLatest } from '../../packages/server/dist/storage/sql/migrate.js';
import { apiKeyToRow } from '../../packages/server/dist/storage/sql/rows.js';

const ROWS_PER_INSERT = 500; // 18 columns x 500 rows, well under SQLite's bound-parameter limit
const ROWS_PER_TRANSACTION = 20_000;

const [dataDir, countArg, sampleArg, outFile] = process.argv.slice(2);
const count = Number(countArg);
const sampleCount = Number(sampleArg);
if (!dataDir || !outFile || !Number.isInteger(count) || count < 1 || !Number.isInteger(sampleCount) || sampleCount < 1 || sampleCount > count) {
  console.error('usage: node bench/lib/seed-keys.js <dataDir> <count> <sampleCount> <outFile>');
  process.exit(2);
}

const started = performance.now();
const database = openDatabase({ dataDir });
try {
  await migrateToLatest(database);
  const existing = await countKeys();
  if (existing !== 0) throw new Error(`expected an empty database, found ${existing} keys`);

  const now = Date.now();
  // Evenly spread sampled keys: these are the ones the load generator presents, so they must stay active.
  const stride = Math.floor(count / sampleCount);
  const samples = [];
  const sampleHashes = [];
  let inserted = 0;

  for (let start = 0; start < count; start += ROWS_PER_TRANSACTION) {
    const end = Math.min(count, start + ROWS_PER_TRANSACTION);
    const rows = [];
    for (let i = start; i < end; i++) {
      const sampled = i % stride === 0 && samples.length < sampleCount;
      const environment = i % 10 === 9 ? 'test' : 'live';
      const { key, displayPrefix } = generateApiKey(environment);
      const hash = hashApiKey(key);
      const createdAt = now - (count - i) * 1000;
      const expiresAt = !sampled && i % 50 === 7 ? now - 1000 : null;
      rows.push({
        ...apiKeyToRow({
          id: newId('key'),
          hash,
          displayPrefix,
          environment,
          name: `bench key ${i}`,
          scopes: i % 3 === 0 ? ['orders:read', 'orders:write'] : ['orders:read'],
          tenantId: i % 4 === 0 ? `tenant_${i % 97}` : null,
          metadata: { customer: `cus_${i}`, plan: i % 2 ? 'pro' : 'free' },
          rateLimit: null,
          createdAt,
          updatedAt: createdAt,
          // A few ended keys, as in a real store; never one of the sampled keys.
          expiresAt,
          revokedAt: !sampled && i % 50 === 13 ? now - 1000 : null,
          lastUsedAt: null,
          rotatedFromId: null,
          rotatedToId: null,
          createdBy: null,
          anomalyAction: 'notify',
        }),
        // Their expiry already announced (key.expired), as in a store that has been running.
        expiry_announced_at: expiresAt,
      });
      if (sampled) {
        samples.push(key);
        sampleHashes.push(hash);
      }
    }
    await database.db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
        await trx.insertInto('api_keys').values(rows.slice(i, i + ROWS_PER_INSERT)).execute();
      }
    });
    inserted += rows.length;
  }

  const stored = await countKeys();
  if (stored !== count || inserted !== count) throw new Error(`inserted ${inserted}, stored ${stored}, wanted ${count}`);
  // Sanity check through the server's own store: the sampled keys are found by hash and are active.
  const stores = createSqlStores(database);
  for (const hash of [sampleHashes[0], sampleHashes[sampleHashes.length - 1]]) {
    const record = await stores.apiKeys.findByHash(hash);
    if (!record || record.revokedAt !== null || record.expiresAt !== null) throw new Error('a sampled key is missing or not active');
  }

  const adminKey = generateApiKey('live').key;
  writeFileSync(outFile, JSON.stringify({ count: stored, adminKey, keys: samples }), { mode: 0o600 });
  process.stdout.write(`${JSON.stringify({ count: stored, samples: samples.length, seconds: (performance.now() - started) / 1000 })}\n`);
} finally {
  await database.close();
}

async function countKeys() {
  const { rows } = await sql`select count(*) as n from api_keys`.execute(database.db);
  return Number(rows[0].n);
}
