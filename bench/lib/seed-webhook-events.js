// Seeds webhook events into a Gatehouse SQLite database the way the server writes them: key.created audit
// events through AuditStore.insertNow, whose transaction writes the outbox rows beside the audit rows
// (storage/sql/shared-writes.ts). Runs in its own process, with the server stopped.
//
//   node bench/lib/seed-webhook-events.js <dataDir> <count>
import { createAuditEvent } from '../../packages/server/dist/core/audit/audit-event.js';
import { newId } from '../../packages/server/dist/core/random.js';
import { createSqlStores } from '../../packages/server/dist/storage/sql/create-sql-stores.js';
import { openDatabase } from '../../packages/server/dist/storage/sql/database.js';

const [dataDir, countArg] = process.argv.slice(2);
const count = Number(countArg);
if (!dataDir || !Number.isInteger(count) || count < 1) {
  console.error('usage: node bench/lib/seed-webhook-events.js <dataDir> <count>');
  process.exit(2);
}
const database = openDatabase({ dataDir });
try {
  const stores = createSqlStores(database);
  const now = Date.now();
  for (let i = 0; i < count; i += 1000) {
    const events = [];
    for (let j = i; j < Math.min(count, i + 1000); j++) {
      events.push(
        createAuditEvent(now, {
          type: 'key.created',
          outcome: 'success',
          keyId: newId('key'),
          keyPrefix: 'sk_live_Ab12Cd',
          tenantId: j % 3 === 0 ? 'acme' : null,
          details: { scopes: ['orders:read'], environment: 'live' },
        }),
      );
    }
    await stores.audit.insertNow(events);
  }
  console.log(JSON.stringify({ seeded: count }));
} finally {
  await database.close();
}
