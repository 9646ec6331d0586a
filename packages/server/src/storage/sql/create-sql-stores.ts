import type { Stores } from '../stores.js';
import { SqlApiKeyStore } from './api-key-store.js';
import { SqlAuditStore } from './audit-store.js';
import { SqlCertificateStore } from './certificate-store.js';
import { SqlClientStore } from './client-store.js';
import { SqlCredentialProfileStore } from './credential-profile-store.js';
import { SqlIpBlockStore } from './ip-block-store.js';
import type { Database } from './database.js';
import { SqlConsentStore } from './consent-store.js';
import { SqlGrantStore } from './grant-store.js';
import { SqlMetaStore } from './meta-store.js';
import { SqlResourceStore } from './resource-store.js';
import { SqlSessionStore } from './session-store.js';
import { SqlUserStore } from './user-store.js';
import { SqlSigningKeyStore } from './signing-key-store.js';
import { SqlUsageStore } from './usage-store.js';
import { SqlWebhookStore } from './webhook-store.js';
import { SqlRegistrationTokenStore } from './registration-token-store.js';

export function createSqlStores(database: Database): Stores {
  return {
    apiKeys: new SqlApiKeyStore(database),
    audit: new SqlAuditStore(database),
    meta: new SqlMetaStore(database.db),
    grants: new SqlGrantStore(database),
    consents: new SqlConsentStore(database),
    sessions: new SqlSessionStore(database.db),
    clients: new SqlClientStore(database),
    users: new SqlUserStore(database.db),
    signingKeys: new SqlSigningKeyStore(database),
    ipBlocks: new SqlIpBlockStore(database.db),
    credentialProfiles: new SqlCredentialProfileStore(database.db),
    webhooks: new SqlWebhookStore(database),
    certificates: new SqlCertificateStore(database),
    usage: new SqlUsageStore(database),
    registrationTokens: new SqlRegistrationTokenStore(database),
    resources: new SqlResourceStore(database),
  };
}
