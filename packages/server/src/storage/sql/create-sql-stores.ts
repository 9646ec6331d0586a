import type { Stores } from '../stores.js';
import { SqlApiKeyStore } from './api-key-store.js';
import { SqlAuditStore } from './audit-store.js';
import type { Database } from './database.js';
import { SqlMetaStore } from './meta-store.js';
import { SqlSigningKeyStore } from './signing-key-store.js';

export function createSqlStores(database: Database): Stores {
  return {
    apiKeys: new SqlApiKeyStore(database),
    audit: new SqlAuditStore(database),
    meta: new SqlMetaStore(database.db),
    signingKeys: new SqlSigningKeyStore(database),
  };
}
