import type { Stores } from '../stores.js';
import { SqlApiKeyStore } from './api-key-store.js';
import { SqlAuditStore } from './audit-store.js';
import type { Database } from './database.js';
import { SqlMetaStore } from './meta-store.js';
import { SqlUserStore } from './user-store.js';

export function createSqlStores(database: Database): Stores {
  return {
    apiKeys: new SqlApiKeyStore(database),
    audit: new SqlAuditStore(database),
    meta: new SqlMetaStore(database.db),
    users: new SqlUserStore(database.db),
  };
}
