import { describe } from 'vitest';
import { apiKeyStoreContract } from '../src/storage/contract/api-key-store.contract.js';
import { auditStoreContract } from '../src/storage/contract/audit-store.contract.js';
import { certificateStoreContract } from '../src/storage/contract/certificate-store.contract.js';
import { clientStoreContract } from '../src/storage/contract/client-store.contract.js';
import { credentialProfileStoreContract } from '../src/storage/contract/credential-profile-store.contract.js';
import { ipBlockStoreContract } from '../src/storage/contract/ip-block-store.contract.js';
import { grantStoreContract } from '../src/storage/contract/grant-store.contract.js';
import { metaStoreContract } from '../src/storage/contract/meta-store.contract.js';
import { usageStoreContract } from '../src/storage/contract/usage-store.contract.js';
import { resourceStoreContract } from '../src/storage/contract/resource-store.contract.js';
import { userStoreContract } from '../src/storage/contract/user-store.contract.js';
import { signingKeyStoreContract } from '../src/storage/contract/signing-key-store.contract.js';
import { webhookStoreContract } from '../src/storage/contract/webhook-store.contract.js';
import { registrationTokenStoreContract } from '../src/storage/contract/registration-token-store.contract.js';
import { createSqlStores } from '../src/storage/sql/create-sql-stores.js';
import type { Database } from '../src/storage/sql/database.js';
import { migrateToLatest } from '../src/storage/sql/migrate.js';
import type { Stores } from '../src/storage/stores.js';
import { dialects, openTestDatabase, type TestDialect } from './helpers/databases.js';

interface OpenedStores {
  stores: Stores;
  close(): Promise<void>;
}

/** Runs the cleanups in reverse order, each even if an earlier one failed; rethrows the first failure. */
async function cleanUp(steps: Array<() => unknown>): Promise<void> {
  let failure: unknown;
  for (const step of [...steps].reverse()) {
    try {
      await step();
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure !== undefined) throw failure;
}

/** A fresh, empty, migrated database of the given dialect, with stores over it. */
async function openFresh(dialect: TestDialect): Promise<OpenedStores> {
  const cleanups: Array<() => unknown> = [];
  try {
    const database = await openTestDatabase(dialect, 'contract', cleanups);
    expectDialect(database, dialect);
    await migrateToLatest(database);
    return { stores: createSqlStores(database), close: () => cleanUp(cleanups) };
  } catch (error) {
    await cleanUp(cleanups).catch(() => {});
    throw error;
  }
}

function expectDialect(database: Database, dialect: TestDialect): void {
  if (database.dialect !== dialect) throw new Error(`opened ${database.dialect}, wanted ${dialect}`);
}

describe.each(dialects)('storage contract: %s', (dialect) => {
  const open = () => openFresh(dialect);
  apiKeyStoreContract(dialect, open);
  auditStoreContract(dialect, open);
  grantStoreContract(dialect, open);
  metaStoreContract(dialect, open);
  clientStoreContract(dialect, open);
  userStoreContract(dialect, open);
  signingKeyStoreContract(dialect, open);
  ipBlockStoreContract(dialect, open);
  credentialProfileStoreContract(dialect, open);
  webhookStoreContract(dialect, open);
  certificateStoreContract(dialect, open);
  usageStoreContract(dialect, open);
  registrationTokenStoreContract(dialect, open);
  resourceStoreContract(dialect, open);
});
