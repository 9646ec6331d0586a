import { recoverRootKey } from '../core/api-keys/bootstrap-root-key.js';
import { systemClock } from '../core/clock.js';
import { checkMasterKey } from '../core/crypto/check-master-key.js';
import { SecretBox } from '../core/crypto/secret-box.js';
import { loadConfig } from '../config/load-config.js';
import { resolveMasterKey } from '../config/master-key.js';
import { createSqlStores } from '../storage/sql/create-sql-stores.js';
import { openDatabase } from '../storage/sql/database.js';
import { migrateToLatest } from '../storage/sql/migrate.js';

/**
 * `gatehouse admin recover`: creates a new root admin key and prints it once. Runs where the server runs, with the
 * same configuration: the database (data directory or GATEHOUSE_DATABASE_URL) and the master key, which must be
 * the one the data was written with (checked, as at start-up), so a copy of the database alone recovers nothing.
 */
export async function adminRecover(argv: string[]): Promise<void> {
  const config = loadConfig(process.env, argv);
  const { key: masterKey } = resolveMasterKey(config);
  const database = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(database);
    const stores = createSqlStores(database);
    await checkMasterKey(stores.meta, new SecretBox(masterKey));
    const { keyId, key } = await recoverRootKey({ store: stores.apiKeys, clock: systemClock, keyPrefix: config.keyPrefix });
    process.stderr.write(`Created root admin key ${keyId} (audited as system.recovery).\n`);
    // Printed once, straight to the terminal and never through a logger: only its hash is stored.
    process.stdout.write(`\nRoot admin key (shown once; store it now, it cannot be recovered):\n\n  ${key}\n\n`);
  } finally {
    await database.close();
  }
}
