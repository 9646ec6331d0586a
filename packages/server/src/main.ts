import { Redis } from 'ioredis';
import { ApiKeyService } from './core/api-keys/api-key-service.js';
import { CredentialGuard } from './core/authorization/credential-guard.js';
import { CONSOLE_CLIENT_ID, consoleClient } from './core/oauth/console-client.js';
import { bootstrapRootKey, type BootstrapResult } from './core/api-keys/bootstrap-root-key.js';
import { KeyExpirySweep } from './core/api-keys/key-expiry-sweep.js';
import { RetentionSweep } from './core/retention/retention-sweep.js';
import type { AuditEvent, ObservedAuditEvent } from './core/audit/audit-event.js';
import { CertificateAuthority } from './core/ca/certificate-authority.js';
import { defaultTrustDomain } from './core/ca/certificate-identity.js';
import { KeyCache } from './core/cache/key-cache.js';
import { countAuthentications } from './core/metrics/count-authentications.js';
import { PrometheusMetrics } from './core/metrics/prometheus-metrics.js';
import { systemClock, type Clock } from './core/clock.js';
import { checkMasterKey } from './core/crypto/check-master-key.js';
import { SecretBox } from './core/crypto/secret-box.js';
import { ClientService } from './core/oauth/client-service.js';
import { ClientRegistrationService } from './core/oauth/client-registration-service.js';
import { RegistrationTokenService } from './core/oauth/registration-token-service.js';
import { ResourceService, type CachedResource } from './core/resources/resource-service.js';
import { ClientAssertionReplay } from './core/oauth/client-assertion-replay.js';
import { MetadataDocumentClients } from './core/oauth/client-id-metadata/metadata-document-clients.js';
import { DEFAULT_MAX_DOCUMENT_BYTES, fetchMetadataDocument } from './core/oauth/client-id-metadata/metadata-document-fetcher.js';
import { MemoryPubSub, type PubSub } from './core/pubsub/pubsub.js';
import { CHANGE_POLL_OVERLAP_MS, ChangePoll, changedRecordsTask, type ChangePollTask } from './core/pubsub/change-poll.js';
import { RedisPubSub } from './core/pubsub/redis.js';
import { FallbackRateLimiter } from './core/rate-limit/fallback.js';
import { MemoryRateLimiter } from './core/rate-limit/memory.js';
import type { RateLimiter } from './core/rate-limit/rate-limiter.js';
import { RedisRateLimiter } from './core/rate-limit/redis.js';
import { scryptParamsForCost } from './core/users/password-hash.js';
import { UserService } from './core/users/user-service.js';
import { SigningKeys } from './core/tokens/signing-keys.js';
import { TokenDenylist } from './core/tokens/token-denylist.js';
import { verifyAccessToken } from './core/tokens/verify-access-token.js';
import type { OAuthDeps } from './core/oauth/oauth-deps.js';
import { revokeGrants } from './core/oauth/revoke-grants.js';
import { createAuditEvent } from './core/audit/audit-event.js';
import { KeyRevocationRelay, RevocationFeed } from './core/revocation-feed.js';
import { Alerts } from './core/detection/alerts.js';
import { MemoryCounters, type DetectionCounters } from './core/detection/counters.js';
import { CredentialAnomalies } from './core/detection/credential-anomalies.js';
import { FailedAuthTracker } from './core/detection/failed-auth-tracker.js';
import { UnknownTokenLimit } from './core/detection/unknown-token-limit.js';
import { networkMatcher } from './core/detection/ip-address.js';
import { IpBlocks } from './core/detection/ip-blocks.js';
import { LoginThrottle } from './core/detection/login-throttle.js';
import { RedisCounters } from './core/detection/redis-counters.js';
import { WebhookDispatcher, type AttemptObservation } from './core/webhooks/webhook-dispatcher.js';
import { WebhookEndpointService } from './core/webhooks/webhook-endpoint-service.js';
import { WebhookSender } from './core/webhooks/webhook-sender.js';
import { withTimeout } from './core/with-timeout.js';
import { UsageCounter } from './core/usage/usage-counter.js';
import { minuteOf } from './core/usage/usage-outcomes.js';
import { WriteBehindLog } from './core/write-behind-log.js';
import { defaultIssuer, isLoopbackHost, type Config } from './config/load-config.js';
import { cookieNameSuffix, issuerBase } from './config/issuer-path.js';
import { resolveMasterKey } from './config/master-key.js';
import { buildApp, closeUnusedConnections, holdRequests, type BuildAppOptions } from './http/build-app.js';
import type { App } from './http/app-types.js';
import { startMetricsServer, type MetricsServer } from './http/metrics-server.js';
import { startTlsListener, type TlsListener } from './http/tls-listener.js';
import { CsrfProtection } from './http/pages/csrf.js';
import type { Services } from './services.js';
import type { OAuthClientRecord } from './storage/stores.js';
import { createSqlStores } from './storage/sql/create-sql-stores.js';
import { openDatabase } from './storage/sql/database.js';
import { migrateToLatest } from './storage/sql/migrate.js';
import { isStorageUnavailable } from './storage/is-storage-unavailable.js';

/** The composition root: the only place where things are wired together. */

const KEY_INVALIDATION_CHANNEL = 'invalidate:api-key';
const CLIENT_INVALIDATION_CHANNEL = 'invalidate:oauth-client';
const RESOURCE_INVALIDATION_CHANNEL = 'invalidate:resource';
/** Each readiness check that has not answered within this is 'unavailable': /readyz answers within a second. */
export const READINESS_CHECK_TIMEOUT_MS = 800;

export interface CreateServicesOptions {
  clock?: Clock;
  /** PostgreSQL schema to use (tests isolate themselves with one). */
  databaseSchema?: string;
  /** Where write-behind failures are reported; default stderr. */
  onBackgroundError?: (message: string, error: unknown) => void;
  auditFlushIntervalMs?: number;
  /** Default GATEHOUSE_USAGE_FLUSH_SECONDS. */
  usageFlushIntervalMs?: number;
  /** How the login slow-down waits (tests record the delays instead of waiting). */
  sleep?: (ms: number) => Promise<void>;
  /** How often the webhook dispatcher looks for work it was not woken for (default 1000 ms). */
  webhookPollIntervalMs?: number;
  /** Called after every webhook delivery attempt (metrics). */
  onWebhookAttempt?: (observation: AttemptObservation) => void;
  /**
   * Test-only: one more CA (PEM) trusted when fetching client metadata documents. A deployment extends Node's
   * trust store with NODE_EXTRA_CA_CERTS instead; no configuration sets this.
   */
  metadataDocumentExtraCa?: string;
}

export function connectRedis(url: string, commandTimeoutMs = 500): Redis {
  // Fail fast while Redis is down (a 503, never a hang), and let ioredis reconnect in the background. A hung Redis
  // (connected, not answering) costs a command at most commandTimeoutMs: then it fails as unavailable too.
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    lazyConnect: false,
    commandTimeout: commandTimeoutMs,
  });
  redis.on('error', () => {});
  return redis;
}

/** Resolves once the connection is ready; rejects on its first error (ioredis's connectTimeout bounds the wait). */
function untilReady(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      redis.off('ready', onReady);
      redis.off('error', onError);
      redis.off('end', onEnd);
      if (error) reject(error);
      else resolve();
    };
    const onReady = () => settle();
    const onError = (error: Error) => settle(error);
    const onEnd = () => settle(new Error('Redis connection ended'));
    redis.on('ready', onReady);
    redis.on('error', onError);
    redis.on('end', onEnd);
  });
}

export async function createServices(config: Config, options: CreateServicesOptions = {}): Promise<Services> {
  const clock = options.clock ?? systemClock;
  const report = options.onBackgroundError ?? ((message, error) => console.error(message, error));
  const { key: masterKey } = resolveMasterKey(config);
  const secretBox = new SecretBox(masterKey);

  const database = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, schema: options.databaseSchema, clock });
  let redis: Redis | undefined;
  let pubsub: PubSub | undefined;
  let redisPubSub: RedisPubSub | undefined;
  try {
    await migrateToLatest(database);
    const stores = createSqlStores(database);
    await checkMasterKey(stores.meta, secretBox);

    let rateLimiter: RateLimiter;
    let counters: DetectionCounters;
    if (config.redisUrl) {
      const connection = connectRedis(config.redisUrl, config.redisTimeoutMs);
      redis = connection;
      // Without an offline queue, a command sent before the connection is ready fails at once: wait for it.
      await untilReady(connection)
        .then(() => connection.ping())
        .catch((error: unknown) => {
          throw new Error(`Cannot reach Redis at GATEHOUSE_REDIS_URL`, { cause: error });
        });
      // Every key and channel under the deployment's namespace: deployments sharing one Redis stay apart.
      const namespace = config.redisNamespace;
      rateLimiter = new RedisRateLimiter({ redis, clock, keyPrefix: `${namespace}:rl:` });
      counters = new RedisCounters(redis, clock, `${namespace}:detect:`);
      redisPubSub = new RedisPubSub(redis, { namespace, timeoutMs: config.redisTimeoutMs, onError: report });
      pubsub = redisPubSub;
    } else {
      rateLimiter = new MemoryRateLimiter({ clock });
      counters = new MemoryCounters(clock);
      pubsub = new MemoryPubSub();
    }
    const bus: PubSub = pubsub;

    const keyCache = new KeyCache({
      load: (hash) => stores.apiKeys.findByHash(hash),
      clock,
      ttlMs: config.keyCacheTtlSeconds * 1000,
      maxEntries: 1_000_000,
    });
    // Every revocation this process learns of, for GET /v1/revocations/stream.
    const revocations = new RevocationFeed();
    const keyRevocations = new KeyRevocationRelay(revocations, () => clock.now());
    await bus.subscribe(KEY_INVALIDATION_CHANNEL, (hash) => {
      keyCache.invalidate(hash);
      keyRevocations.received(hash);
    });
    // Invalidations sent while the subscription was down are lost: forget everything instead.
    bus.onResubscribe(() => keyCache.clear());

    // OAuth clients by id, for client authentication on the token endpoint; invalidated like API keys.
    const clientCache = new KeyCache<OAuthClientRecord>({
      load: (id) => stores.clients.findById(id),
      clock,
      ttlMs: config.keyCacheTtlSeconds * 1000,
      maxEntries: 100_000,
    });
    await bus.subscribe(CLIENT_INVALIDATION_CHANNEL, (id) => clientCache.invalidate(id));
    bus.onResubscribe(() => clientCache.clear());
    // Registered resources (RFC 8707) by identifier, "none registered" included; invalidated like clients.
    const resourceCache = new KeyCache<CachedResource>({
      load: async (identifier) => ({ resource: (await stores.resources.findByIdentifier(identifier)) ?? null }),
      clock,
      ttlMs: config.keyCacheTtlSeconds * 1000,
      maxEntries: 100_000,
    });
    await bus.subscribe(RESOURCE_INVALIDATION_CHANNEL, (identifier) => resourceCache.invalidate(identifier));
    bus.onResubscribe(() => resourceCache.clear());

    const audit = new WriteBehindLog<AuditEvent, ObservedAuditEvent>({
      write: (events) => stores.audit.insertMany(events),
      intervalMs: options.auditFlushIntervalMs ?? 1000,
      // Large batches: each SQLite batch rewrites one page of the audit key index per distinct key it
      // touches, so more events per batch cost less each (the interval still bounds the delay to a second).
      batchSize: 10_000,
      maxBuffered: 200_000,
      onError: (error, state) => report(`audit events could not be written (${state.buffered} waiting, ${state.dropped} dropped)`, error),
    });
    // Usage per credential and minute (and keys' last-used times): what the database stores grows with active
    // credentials and time, not with requests.
    const usage = new UsageCounter({
      clock,
      write: (batch) => stores.usage.add(batch),
      intervalMs: options.usageFlushIntervalMs ?? config.usageFlushSeconds * 1000,
      maxCells: 1_000_000,
      onError: (error, state) => report(`usage counts could not be written (${state.buffered} cells waiting, ${state.dropped} events dropped)`, error),
    });

    // The management limit falls back to a per-process limit while Redis is unavailable: revocation, leaked-key
    // reports and every other management call keep working (API keys' own limits do not: they answer 503).
    let managementRateLimiter: RateLimiter = rateLimiter;
    let fallbackLimiter: FallbackRateLimiter | undefined;
    const countFallback = { decision: () => {} };
    if (config.redisUrl) {
      fallbackLimiter = new FallbackRateLimiter({
        primary: rateLimiter,
        fallback: new MemoryRateLimiter({ clock, maxKeys: 100_000 }),
        isUnavailable: isStorageUnavailable,
        onFallback: () => countFallback.decision(),
      });
      managementRateLimiter = fallbackLimiter;
    }
    const metrics = new PrometheusMetrics({
      keyCaches: { api_key: keyCache, oauth_client: clientCache },
      audit,
      usage,
      managementRateLimit: fallbackLimiter,
      pubsub: redisPubSub,
    });
    countFallback.decision = () => metrics.rateLimitFallbackDecision();
    audit.observe(countAuthentications(metrics));

    const { detection: detectionConfig } = config;
    const alerts = new Alerts({
      clock,
      windowMs: detectionConfig.windowSeconds * 1000,
      write: (events) => stores.audit.insertNow(events),
      onError: report,
    });
    const blocks = await IpBlocks.open({
      store: stores.ipBlocks,
      pubsub: bus,
      clock,
      isAllowed: networkMatcher(detectionConfig.allowList),
      onBlocked: () => metrics.ipBlocked(),
      onError: report,
    });
    const tracker = detectionConfig.enabled
      ? new FailedAuthTracker({ ...detectionConfig, counters, blocks, alerts, onError: report })
      : undefined;
    const anomalies = detectionConfig.enabled
      ? await CredentialAnomalies.open({
          store: stores.credentialProfiles,
          alerts,
          clock,
          learningSeconds: detectionConfig.learningSeconds,
          rateSpikeFactor: detectionConfig.rateSpikeFactor,
          onError: report,
          // A key set to anomalyAction 'revoke' is revoked when it looks stolen (a rotated-out key is already dead).
          async act(anomaly) {
            if (anomaly.reason === 'rotated_key_used' || !anomaly.credentialId.startsWith('key_')) return;
            const key = await stores.apiKeys.findById(anomaly.credentialId);
            if (key?.anomalyAction === 'revoke') await apiKeys.revokeCompromised(key, { cause: 'anomaly', anomaly: anomaly.reason }, null);
          },
        })
      : undefined;
    if (tracker && anomalies) {
      audit.observe(tracker.observe);
      audit.observe(anomalies.observe);
    }
    const unknownTokens = detectionConfig.enabled
      ? new UnknownTokenLimit({
          counters,
          clock,
          limit: detectionConfig.unknownTokenLimit,
          windowSeconds: detectionConfig.windowSeconds,
          alert: (input) => alerts.raise(input),
          onError: report,
        })
      : undefined;
    alerts.onAlert((event) => metrics.alert(event.type));
    // Leak reports raise alerts even with detection off.
    alerts.start();
    const loginThrottle = new LoginThrottle({
      counters,
      maxDelayMs: detectionConfig.loginDelayMaxMs,
      sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    });

    audit.start();
    usage.start();

    const signingKeys = await SigningKeys.open({
      store: stores.signingKeys,
      secretBox,
      clock,
      pubsub: bus,
      defaultAlg: config.signingAlg,
      activationDelaySeconds: config.signingKeyActivationSeconds,
      maxTokenTtlSeconds: config.maxTokenTtlSeconds,
      onError: report,
    }).catch(async (error: unknown) => {
      await anomalies?.stop().catch(() => {});
      await audit.stop().catch(() => {});
      await usage.stop().catch(() => {});
      throw error;
    });

    const ca = await CertificateAuthority.open({
      store: stores.certificates,
      secretBox,
      clock,
      pubsub: bus,
      trustDomain: () => config.mtlsTrustDomain ?? defaultTrustDomain(config.issuer),
      crlBaseUrl: () => `${issuerBase(config.issuer)}/ca/crl`,
      maxLifetimeSeconds: config.certificateMaxLifetimeSeconds,
      onError: report,
    }).catch(async (error: unknown) => {
      await signingKeys.close();
      await anomalies?.stop().catch(() => {});
      await audit.stop().catch(() => {});
      await usage.stop().catch(() => {});
      throw error;
    });

    const guard = new CredentialGuard({ clock, audit });
    const apiKeys = new ApiKeyService({
      store: stores.apiKeys,
      guard,
      cache: keyCache,
      rateLimiter,
      clock,
      audit,
      usage,
      auditSuccessSample: config.auditSuccessSample,
      metrics,
      keyPrefix: config.keyPrefix,
      // Never fails for want of Redis (publish never throws): the others also read the change at their next poll.
      async invalidate(hash) {
        keyCache.invalidate(hash);
        await keyRevocations.local(hash, () => bus.publish(KEY_INVALIDATION_CHANNEL, hash));
      },
    });

    // Client ID Metadata Documents (GATEHOUSE_CLIENT_ID_METADATA_DOCUMENTS=on): an https client_id is resolved
    // through the document it names, fetched, validated and cached here; a failure is audited with its reason.
    const cimd = config.clientIdMetadataDocuments;
    const metadataDocuments = cimd.enabled
      ? new MetadataDocumentClients({
          clock,
          policy: cimd,
          fetch: (url) =>
            fetchMetadataDocument(url, {
              allowLoopback: cimd.allowLoopback,
              timeoutMs: 5_000,
              connectTimeoutMs: 3_000,
              maxBytes: DEFAULT_MAX_DOCUMENT_BYTES,
              extraCa: options.metadataDocumentExtraCa,
            }),
          idTokenAlgs: () => signingKeys.idTokenAlgs(),
          onFailure: (clientId, reason) =>
            apiKeys.record(
              clock.now(),
              { type: 'client.authentication', outcome: 'failure', reason: 'metadata_document_refused', details: { clientId: clientId.slice(0, 300), problem: reason } },
              null,
            ),
        })
      : undefined;
    const clients = new ClientService({
      store: stores.clients,
      guard,
      cache: clientCache,
      clock,
      audit,
      idTokenAlgs: () => signingKeys.idTokenAlgs(),
      builtIn: (id) => (id === CONSOLE_CLIENT_ID ? consoleClient(config.issuer) : undefined),
      ...(metadataDocuments
        ? { metadataDocument: async (id: string) => {
            const resolved = await metadataDocuments.resolve(id);
            return resolved.ok ? resolved.client : undefined;
          } }
        : {}),
      async invalidate(id) {
        clientCache.invalidate(id);
        await bus.publish(CLIENT_INVALIDATION_CHANNEL, id);
      },
    });
    const registrationConfig = config.clientRegistration;
    const registration =
      registrationConfig.mode === 'off'
        ? undefined
        : new ClientRegistrationService({
            clients: stores.clients,
            tokens: stores.registrationTokens,
            rateLimiter,
            clock,
            policy: { ...registrationConfig, mode: registrationConfig.mode },
            idTokenAlgs: () => signingKeys.idTokenAlgs(),
            invalidate: (id) => clients.forget(id),
            audit: (input, origin) => apiKeys.record(clock.now(), input, origin),
          });
    const registrationTokens = new RegistrationTokenService({ store: stores.registrationTokens, clock, guard });
    const resources = new ResourceService({
      store: stores.resources,
      guard,
      cache: resourceCache,
      clock,
      async invalidate(identifiers) {
        for (const identifier of identifiers) {
          resourceCache.invalidate(identifier);
          await bus.publish(RESOURCE_INVALIDATION_CHANNEL, identifier);
        }
      },
    });
    const users = new UserService({ store: stores.users, clock, guard, hashParams: scryptParamsForCost(config.passwordHashCost) });
    const denylist = await TokenDenylist.open({
      store: stores.grants,
      pubsub: bus,
      clock,
      onDenied: ({ jti, expiresAt }) => revocations.emit({ type: 'token', jti, exp: Math.ceil(expiresAt / 1000) }),
    });
    // Cluster mode: pub/sub loses messages while Redis is down or hung, and nothing tells a process it missed one.
    // So every process also reads from the database, every GATEHOUSE_REVOCATION_POLL_SECONDS whatever Redis does,
    // the keys and clients changed lately, the token denylist, the IP blocks and the CA's revocations: a revocation
    // reaches every process within that bound. (Signing keys reload themselves every 60 s: a rotated-in key signs
    // only after GATEHOUSE_SIGNING_KEY_ACTIVATION_SECONDS, 60 by default.)
    let changePoll: ChangePoll | undefined;
    if (config.redisUrl) {
      const tasks: ChangePollTask[] = [
        changedRecordsTask({
          list: (since, limit) => stores.apiKeys.listChangedSince(since, limit),
          changed({ hash, updatedAt }) {
            keyCache.invalidate(hash);
            keyRevocations.polled(hash, updatedAt);
          },
          overflow: () => keyCache.clear(),
        }),
        changedRecordsTask({
          list: (since, limit) => stores.clients.listChangedSince(since, limit),
          changed: ({ id }) => clientCache.invalidate(id),
          overflow: () => clientCache.clear(),
        }),
        changedRecordsTask({
          list: (since, limit) => stores.resources.listChangedSince(since, limit),
          // A changed identifier leaves its old one cached: resources are few, so forget them all.
          changed: () => resourceCache.clear(),
          overflow: () => resourceCache.clear(),
        }),
        () => denylist.reload(),
        () => blocks.reload(),
        // Client certificates revoked (and CA roots rotated) elsewhere.
        () => ca.reload(),
        async (since) => keyRevocations.forget(since - CHANGE_POLL_OVERLAP_MS),
      ];
      const poll = new ChangePoll({ clock, intervalMs: config.revocationPollSeconds * 1000, tasks, onError: report });
      changePoll = poll;
      // Back from a lost subscription: catch up at once rather than at the next poll.
      bus.onResubscribe(() => void poll.poll());
    }
    const oauth: OAuthDeps = {
      clock,
      issuer: () => config.issuer,
      policy: {
        accessTokenTtlSeconds: config.accessTokenTtlSeconds,
        maxTokenTtlSeconds: config.maxTokenTtlSeconds,
        idTokenTtlSeconds: Math.min(3600, config.maxTokenTtlSeconds),
        refreshTokenAbsoluteSeconds: config.refreshTokenAbsoluteSeconds,
        refreshTokenIdleSeconds: config.refreshTokenIdleSeconds,
        authorizationCodeSeconds: 60,
        sessionSeconds: config.loginSessionSeconds,
      },
      grants: stores.grants,
      consents: stores.consents,
      sessions: stores.sessions,
      denylist,
      signingKey: () => signingKeys.current(),
      idTokenSigningKey: (alg) => signingKeys.idTokenKey(alg),
      async findClient(id) {
        const client = await clients.lookup(id);
        return client && client.deletedAt === null ? client : undefined;
      },
      findResource: (identifier) => resources.lookup(identifier),
      async findUser(id) {
        const user = await stores.users.findById(id);
        return user && user.deletedAt === null && user.disabledAt === null ? user : undefined;
      },
      verifyAccessToken: (token, options) => verifyAccessToken(token, { keys: signingKeys, issuer: config.issuer, now: clock.now(), anyTime: options?.anyTime }),
      audit: (input, origin) => apiKeys.record(clock.now(), input, origin),
      recordSuccess(input, origin, use) {
        usage.count(use.clientId, use.outcome, use.latencyUs);
        apiKeys.recordSuccess(clock.now(), input, origin);
      },
      alert: (input) => alerts.raise(input),
    };
    // A deleted user's grants, sessions and consents end with it; so do a deleted client's grants.
    users.addDeletionHook(async (user, now) => {
      await revokeGrants(oauth, { userId: user.id }, { reason: 'user deleted', tenantId: user.tenantId, origin: null });
      await stores.sessions.revokeForUser(user.id, now);
      await stores.consents.forget(user.id);
    });
    // A disabled user's grants and sessions end (consents are kept for when it is enabled again); an administrator's
    // password change ends the user's sessions.
    users.addAccessHook(async (user, end, now) => {
      if (end === 'everything') {
        await revokeGrants(oauth, { userId: user.id }, { reason: 'user disabled', tenantId: user.tenantId, origin: null });
      }
      await stores.sessions.revokeForUser(user.id, now);
    });
    const webhookSender = new WebhookSender({
      timeoutMs: config.webhookTimeoutSeconds * 1000,
      allowInsecure: config.webhooksAllowInsecure,
      maxSockets: config.webhookConcurrency,
    });
    const webhooks = new WebhookDispatcher({
      store: stores.webhooks,
      secretBox,
      clock,
      send: (request) => webhookSender.send(request),
      retryWindowMs: config.webhookRetryWindowSeconds * 1000,
      disableAfterMs: config.webhookDisableAfterSeconds * 1000,
      concurrency: config.webhookConcurrency,
      // Longer than any attempt (the request timeout) and the write of its outcome; after a crash, the deliveries
      // the dead process held are attempted again once this has passed.
      leaseMs: config.webhookTimeoutSeconds * 2000 + 5_000,
      pollIntervalMs: options.webhookPollIntervalMs ?? 1000,
      onAttempt: (attempt) => {
        metrics.webhookDelivery(attempt.outcome, attempt.latencyMs / 1000);
        options.onWebhookAttempt?.(attempt);
      },
      onError: report,
    });
    // Delivered after commit: every commit of this process that wrote events wakes the dispatcher.
    database.outboxCommits.on(() => webhooks.wake());
    const webhookEndpoints = new WebhookEndpointService({
      store: stores.webhooks,
      secretBox,
      clock,
      allowInsecure: config.webhooksAllowInsecure,
      retryWindowMs: config.webhookRetryWindowSeconds * 1000,
      wake: () => webhooks.wake(),
    });
    const keyExpiry = new KeyExpirySweep({ store: stores.apiKeys, clock, intervalMs: 60_000, onError: report });
    const retention = new RetentionSweep({
      clock,
      intervalMs: 10 * 60_000,
      policies: [
        { kind: 'audit_events', days: config.auditRetentionDays, purge: (cutoff, limit) => stores.audit.purgeOlderThan(cutoff, limit) },
        { kind: 'webhook_deliveries', days: config.webhookRetentionDays, purge: (cutoff, limit) => stores.webhooks.purgeOlderThan(cutoff, limit) },
        ...(['minute', 'hour', 'day'] as const).map((resolution) => ({
          kind: `usage_${resolution}s` as const,
          days: config.usageRetentionDays[resolution],
          purge: (cutoff: number, limit: number) => stores.usage.purge(resolution, cutoff, limit),
        })),
        // Self-registered clients that obtained no token for GATEHOUSE_DYNAMIC_CLIENT_IDLE_DAYS: deleted like an admin
        // deletion (every process forgets them, their grants end), one client.expired event each.
        {
          kind: 'dynamic_clients',
          days: config.clientRegistration.idleDays,
          purge: async (cutoff: number, limit: number) => {
            const now = clock.now();
            const idleDays = config.clientRegistration.idleDays;
            const deleted = await stores.clients.deleteIdleDynamic(cutoff, now, limit, (client) =>
              createAuditEvent(now, { type: 'client.expired', outcome: 'success', tenantId: client.tenantId, details: { clientId: client.id, idleDays } }),
            );
            for (const client of deleted) {
              await clients.forget(client.id);
              await revokeGrants(oauth, { clientId: client.id }, { reason: 'client expired', tenantId: client.tenantId, origin: null });
            }
            return deleted.length;
          },
        },
      ],
      // Complete hours and days are rolled up before anything is purged (minutes never go before their hour does).
      beforeSweep: () => stores.usage.rollUp(minuteOf(clock.now())),
      onPurged: (kind, rows) => metrics.purged(kind, rows),
      onError: report,
    });
    const csrf = new CsrfProtection({
      masterKey,
      secure: new URL(config.issuer).protocol === 'https:',
      cookieNameSuffix: cookieNameSuffix(config.issuer),
    });
    changePoll?.start();

    return {
      config,
      clock,
      stores,
      secretBox,
      apiKeys,
      guard,
      clients,
      registration,
      registrationTokens,
      resources,
      clientAssertions: new ClientAssertionReplay({ clock }),
      users,
      webhookEndpoints,
      webhooks,
      keyExpiry,
      retention,
      csrf,
      keyCache,
      rateLimiter,
      managementRateLimiter,
      audit,
      usage,
      signingKeys,
      oauth,
      ca,
      revocations,
      detection: {
        enabled: detectionConfig.enabled,
        blocks,
        alerts,
        loginThrottle,
        anomalies,
        unknownTokens,
        async settled() {
          await tracker?.settled();
          await anomalies?.settled();
          await alerts.settled();
        },
      },
      metrics,
      async checkReadiness() {
        // In parallel, each bounded: a hung dependency is 'unavailable' after READINESS_CHECK_TIMEOUT_MS.
        const check = (what: string, probe: () => Promise<unknown>) =>
          withTimeout(probe(), READINESS_CHECK_TIMEOUT_MS, what).then(() => 'ok' as const, () => 'unavailable' as const);
        const [databaseCheck, redisCheck] = await Promise.all([
          check('database', () => database.ping()),
          redis
            ? // Redis answers a PING, and this process's pub/sub subscription is connected.
              check('redis', async () => {
                await redis!.ping();
                if (redisPubSub && !redisPubSub.subscribed) throw new Error('the Redis subscription is down');
              })
            : undefined,
        ]);
        const checks: Record<string, 'ok' | 'unavailable'> = { database: databaseCheck };
        if (redisCheck !== undefined) checks.redis = redisCheck;
        return checks;
      },
      async close() {
        await changePoll?.stop();
        await keyExpiry.stop();
        await retention.stop();
        await webhooks.stop();
        webhookSender.close();
        denylist.close();
        await ca.close();
        await signingKeys.close();
        await tracker?.settled();
        await anomalies?.stop();
        await alerts.stop();
        await audit.stop();
        await usage.stop();
        await bus.close();
        await rateLimiter.close();
        redis?.disconnect();
        await database.close();
      },
    };
  } catch (error) {
    await pubsub?.close().catch(() => {});
    redis?.disconnect();
    await database.close().catch(() => {});
    throw error;
  }
}

export interface RunningServer {
  app: App;
  services: Services;
  url: string;
  bootstrap: BootstrapResult;
  /** GET /metrics without authentication, when GATEHOUSE_METRICS_PORT is set. */
  metricsUrl: string | undefined;
  /** The mTLS listener, when GATEHOUSE_TLS_PORT is set. */
  tls: TlsListener | undefined;
  /** Graceful: stop accepting, finish in-flight requests, flush write-behind queues, close storage. */
  close(): Promise<void>;
}

export interface StartServerOptions extends CreateServicesOptions, BuildAppOptions {
  /**
   * Called with the bootstrap outcome before any port is bound (the CLI prints a generated root key here), so
   * whatever it writes comes before the server can answer anything.
   */
  beforeListen?: (bootstrap: BootstrapResult) => void;
}

/**
 * Start-up order: everything a request can observe is final before any request is answered. Services, the app,
 * the root key, the CA (mTLS) and the metrics port come first; then both listeners bind while requests are held
 * (holdRequests), because only binding tells the ports GATEHOUSE_PORT=0 / GATEHOUSE_TLS_PORT=0 get, and the
 * issuer and the mTLS aliases name them; the background sweeps start; then requests flow.
 */
export async function startServer(config: Config, options: StartServerOptions = {}): Promise<RunningServer> {
  // Background failures (write-behind, signing-key reloads) are JSON log lines like the rest, once the logger exists.
  let log: App['log'] | undefined;
  const services = await createServices(config, {
    onBackgroundError: (message, error) => (log ? log.error({ err: error }, message) : console.error(message, error)),
    ...options,
  });
  let metricsServer: MetricsServer | undefined;
  let tls: TlsListener | undefined;
  let app: App | undefined;
  let release: ((options?: { drop?: boolean }) => void) | undefined;
  try {
    // The app first: it refuses a configuration it cannot serve (an issuer path over its own routes) before a
    // root key is generated that would then never be printed.
    app = await buildApp(services, options);
    log = app.log;
    const bootstrap = await bootstrapRootKey({ store: services.stores.apiKeys, clock: services.clock, keyPrefix: config.keyPrefix }, config.bootstrapAdminKey);
    // mTLS on: the CA is created on first start (gatehouse ca init does the same ahead of time).
    if (config.tlsPort !== undefined) await services.ca.init();
    options.beforeListen?.(bootstrap);
    // A metrics port that cannot be bound stops the start before the API answers anything.
    if (config.metricsPort !== undefined) metricsServer = await startMetricsServer(services.metrics, config.host, config.metricsPort);
    release = holdRequests(app);
    if (config.tlsPort !== undefined) {
      tls = await startTlsListener(app, services, app.log);
      config.mtlsUrl ??= tls.url;
    }
    const address = await app.listen({ port: config.port, host: config.host });
    if (!config.issuerConfigured) {
      // GATEHOUSE_PORT=0: the issuer names the port actually listened on.
      const bound = app.server.address();
      if (bound && typeof bound === 'object') config.issuer = defaultIssuer(config.host, bound.port);
      if (!isLoopbackHost(config.host)) {
        app.log.warn(
          { issuer: config.issuer },
          'GATEHOUSE_ISSUER is unset: the issuer is a plain-http address; set it to the public https URL',
        );
      }
    }
    services.webhooks.start();
    services.keyExpiry.start();
    services.retention.start();
    release();
    const started = app;
    let closing: Promise<void> | undefined;
    return {
      app: started,
      services,
      url: address,
      bootstrap,
      metricsUrl: metricsServer?.url,
      tls,
      close: () =>
        (closing ??= (async () => {
          // A connection whose request was in flight at shutdown stays open (keep-alive) after its response,
          // holding app.close() until the client drops it (up to keepAliveTimeout): close each once it is idle.
          // Connections that never sent a request are closed too (see closeUnusedConnections).
          const sweep = setInterval(() => {
            started.server.closeIdleConnections();
            closeUnusedConnections(started);
          }, 100);
          try {
            await Promise.all([started.close(), tls?.close()]);
          } finally {
            clearInterval(sweep);
          }
          await metricsServer?.close();
          await services.close();
        })()),
    };
  } catch (error) {
    release?.({ drop: true });
    await tls?.close().catch(() => {});
    await app?.close().catch(() => {});
    await metricsServer?.close();
    await services.close().catch(() => {});
    throw error;
  }
}
