import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { TRUST_DOMAIN } from '../core/ca/certificate-identity.js';
import { assertValidPolicy, type RateLimitPolicy } from '../core/rate-limit/decide.js';
import { DEFAULT_SCRYPT_PARAMS, MAX_PASSWORD_HASH_COST, MIN_PASSWORD_HASH_COST } from '../core/users/password-hash.js';
import { parseNetwork } from '../core/detection/ip-address.js';
import { SIGNING_ALGS, isSigningAlg, type SigningAlg } from '../core/tokens/signing-alg.js';
import { DEFAULT_REDIS_NAMESPACE } from '../core/pubsub/redis.js';
import { apiKeyPrefixProblem, DEFAULT_API_KEY_PREFIX } from '../core/api-keys/key-format.js';
import { parseBranding, parseScopeDescriptions, type PageBranding } from './page-branding.js';
import { GRANT_TYPES, type GrantType } from '../core/oauth/client-metadata.js';
import { hostPatternProblem } from '../core/oauth/client-id-metadata/host-policy.js';

/** Validated, typed configuration. Environment variables first; command-line flags override them. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** Unset: SQLite in dataDir. */
  databaseUrl: string | undefined;
  /** Unset: in-memory rate limiting and pub/sub (one process). */
  redisUrl: string | undefined;
  /**
   * The issuer identifier (`iss`, metadata), byte-identical to GATEHOUSE_ISSUER when set. When unset it is
   * `http://<host>:<port>`, and startServer replaces it with the address actually listened on (GATEHOUSE_PORT=0).
   * Read it when needed (at request time), not once at start-up.
   */
  issuer: string;
  /** Whether `issuer` came from GATEHOUSE_ISSUER (otherwise it is derived from the listening address). */
  issuerConfigured: boolean;
  /** Base64 of 32 bytes; unset in embedded mode means "generate into the data dir". Never a flag. */
  masterKey: string | undefined;
  /** Becomes the root admin key on an empty store. Never a flag (flags show up in `ps`). */
  bootstrapAdminKey: string | undefined;
  /** false, true (trust every hop; only behind a proxy you control), or the proxies' addresses / CIDRs. */
  trustProxy: boolean | string[];
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** The management API's per-admin-key limit (the verify endpoint is limited per verified key instead). */
  managementRateLimit: RateLimitPolicy;
  /** How long a cached key is trusted without a reload, should an invalidation be lost. */
  keyCacheTtlSeconds: number;
  /**
   * What new API keys start with (`<prefix>_live_...`); `sk` by default. Keys of any earlier prefix keep verifying:
   * the lookup is by hash, and the format check accepts every well-formed prefix.
   */
  keyPrefix: string;
  bodyLimitBytes: number;
  /** scrypt cost of new password hashes, as log2 N (OWASP: 17). */
  passwordHashCost: number;
  /** The algorithm of new signing keys. */
  signingAlg: SigningAlg;
  /** How long a rotated-in signing key is published before it signs. */
  signingKeyActivationSeconds: number;
  /** The cap on any access token's lifetime; retired signing keys stay published this long. */
  maxTokenTtlSeconds: number;
  /** Access-token lifetime for clients that set none (RFC 9068 tokens; 900 s). */
  accessTokenTtlSeconds: number;
  /** A grant (and every refresh token of it) ends this long after the user authorised. */
  refreshTokenAbsoluteSeconds: number;
  /** A refresh token unused this long expires. */
  refreshTokenIdleSeconds: number;
  /** How long a browser stays logged in to the login page. */
  loginSessionSeconds: number;
  /** Open revocation streams a process serves at once; beyond, new ones are answered 503. */
  revocationStreamMaxConnections: number;
  /** Failed-authentication tracking, IP blocks, key anomaly detection (docs/protection.md). */
  detection: DetectionConfig;
  /** What every Redis key and pub/sub channel starts with (`<namespace>:`), so deployments can share a Redis. */
  redisNamespace: string;
  /** Every Redis command fails (as storage-unavailable) when Redis has not answered within this (ms). */
  redisTimeoutMs: number;
  /**
   * Cluster mode: how often every process reads the revocations, IP blocks and changed keys and clients from the
   * database, whatever pub/sub does (the bound on how late a revocation reaches a process while Redis is down).
   */
  revocationPollSeconds: number;
  /** Audit events older than this many days are deleted; 0 keeps them for ever. */
  auditRetentionDays: number;
  /** Finished webhook deliveries (with their attempts and outbox events) older than this are deleted; 0: never. */
  webhookRetentionDays: number;
  /** How often the usage counters are written (and at shutdown). */
  usageFlushSeconds: number;
  /** Usage counters per minute, hour and day are kept this many days; 0 keeps them for ever. */
  usageRetentionDays: { minute: number; hour: number; day: number };
  /** The fraction (0..1) of repetitive successes (verifications, client_credentials grants, introspections) still audited one event each. */
  auditSuccessSample: number;
  /** A port of its own for GET /metrics, without authentication (0: any free port); unset: none. */
  metricsPort: number | undefined;
  /** Webhooks may use http and reach any address (development and tests): turns the SSRF guard off. */
  webhooksAllowInsecure: boolean;
  /** Failed deliveries are retried for this long after their event. */
  webhookRetryWindowSeconds: number;
  /** An endpoint whose every attempt has failed for this long is disabled. */
  webhookDisableAfterSeconds: number;
  /** Each delivery request is abandoned after this long. */
  webhookTimeoutSeconds: number;
  /** Delivery requests under way at once, per process. */
  webhookConcurrency: number;
  /** Branding of the login, consent and logout pages (GATEHOUSE_BRAND_NAME, _LOGO_URL, _COLOR). */
  branding: PageBranding;
  /** Consent-page sentences per scope (GATEHOUSE_SCOPE_DESCRIPTIONS), over the built-in ones. */
  scopeDescriptions: Record<string, string>;
  /** mTLS (docs/mtls.md): the TLS listener's port; unset, no TLS listener. */
  tlsPort: number | undefined;
  /** The TLS listener's certificate chain and key (PEM files); unset in embedded mode: issued by the built-in CA. */
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  /** Public base URL of the TLS listener (mtls_endpoint_aliases); unset: https://<host>:<TLS port>. */
  mtlsUrl: string | undefined;
  /** SPIFFE trust domain of issued certificates; unset: the issuer's host name. */
  mtlsTrustDomain: string | undefined;
  /** The longest lifetime a client certificate may be issued with (the default is 24 h or this, if shorter). */
  certificateMaxLifetimeSeconds: number;
  /**
   * The one header a trusted proxy (trustProxy) forwards the client certificate in; unset: none is read. One, not
   * both: a proxy overwrites the header it sets, and passes the other one through from the client untouched.
   */
  clientCertHeader: 'client-cert' | 'x-ssl-client-cert' | undefined;
  /** Dynamic Client Registration (RFC 7591 / 7592, docs/client-registration.md). */
  clientRegistration: ClientRegistrationConfig;
  /** Client ID Metadata Documents (docs/client-id-metadata-documents.md): https URLs as client_id; off by default. */
  clientIdMetadataDocuments: ClientIdMetadataDocumentsConfig;
}

/** GATEHOUSE_CLIENT_REGISTRATION and its policy. */
export interface ClientRegistrationConfig {
  /** off: no registration endpoint; token: an initial access token is needed; open: anyone, public clients only. */
  mode: 'off' | 'token' | 'open';
  /** Registrations per client address. */
  rateLimit: RateLimitPolicy;
  /** Live dynamic clients one address may have registered; 0: no limit. */
  maxClientsPerAddress: number;
  /** The grant types a registration may ask for (client_credentials only ever for confidential clients in token mode). */
  grantTypes: GrantType[];
  /** Dynamic clients unused this many days are deleted by the retention sweep; 0: never. */
  idleDays: number;
}

export interface ClientIdMetadataDocumentsConfig {
  /** GATEHOUSE_CLIENT_ID_METADATA_DOCUMENTS=on. Off: an https client_id is an unknown client like any other. */
  enabled: boolean;
  /** GATEHOUSE_CIMD_ALLOWED_HOSTS: empty, any host; else only these (`example.com`, `*.example.com`). */
  allowedHosts: string[];
  /** GATEHOUSE_CIMD_DENIED_HOSTS: never these. */
  deniedHosts: string[];
  /** GATEHOUSE_CIMD_ALLOW_LOOPBACK: documents may be fetched from loopback and private addresses (tests, development). */
  allowLoopback: boolean;
}

export interface DetectionConfig {
  /** GATEHOUSE_DETECTION=off turns tracking, blocks and anomaly detection off (the login delay stays). */
  enabled: boolean;
  /** More failures than this from one IP in a window raise alert.credential_stuffing. */
  alertThreshold: number;
  /** More failures than this from one IP in a window raise alert.brute_force and block the IP. */
  blockThreshold: number;
  windowSeconds: number;
  blockSeconds: number;
  /** Networks (CIDR or single addresses, IPv4 and IPv6) never blocked. */
  allowList: string[];
  /** How long a credential's usual networks and rate are learned before a departure is an anomaly. */
  learningSeconds: number;
  /** A credential's request rate above this multiple of its baseline is an anomaly. */
  rateSpikeFactor: number;
  /**
   * More unknown tokens than this from one caller (OAuth client or admin key) in a window at the introspection and
   * revocation endpoints: alert.unknown_tokens, and 429 for that caller there until the window ends.
   */
  unknownTokenLimit: number;
  /** The cap of the progressive delay before a login attempt on an account with recent failures. */
  loginDelayMaxMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Flags accepted by `gatehouse start` and `gatehouse migrate`, mirroring the environment variables. */
export const CONFIG_FLAGS = {
  port: { type: 'string', env: 'GATEHOUSE_PORT' },
  host: { type: 'string', env: 'GATEHOUSE_HOST' },
  'data-dir': { type: 'string', env: 'GATEHOUSE_DATA_DIR' },
  'database-url': { type: 'string', env: 'GATEHOUSE_DATABASE_URL' },
  'redis-url': { type: 'string', env: 'GATEHOUSE_REDIS_URL' },
  issuer: { type: 'string', env: 'GATEHOUSE_ISSUER' },
  'trust-proxy': { type: 'string', env: 'GATEHOUSE_TRUST_PROXY' },
  'log-level': { type: 'string', env: 'GATEHOUSE_LOG_LEVEL' },
  'management-rate-limit': { type: 'string', env: 'GATEHOUSE_MANAGEMENT_RATE_LIMIT' },
  'key-cache-ttl': { type: 'string', env: 'GATEHOUSE_KEY_CACHE_TTL_SECONDS' },
  'key-prefix': { type: 'string', env: 'GATEHOUSE_KEY_PREFIX' },
  'audit-retention-days': { type: 'string', env: 'GATEHOUSE_AUDIT_RETENTION_DAYS' },
  'redis-namespace': { type: 'string', env: 'GATEHOUSE_REDIS_NAMESPACE' },
  'redis-timeout': { type: 'string', env: 'GATEHOUSE_REDIS_TIMEOUT_MS' },
  'revocation-poll': { type: 'string', env: 'GATEHOUSE_REVOCATION_POLL_SECONDS' },
  'webhook-retention-days': { type: 'string', env: 'GATEHOUSE_WEBHOOK_RETENTION_DAYS' },
  'usage-flush': { type: 'string', env: 'GATEHOUSE_USAGE_FLUSH_SECONDS' },
  'usage-minute-retention-days': { type: 'string', env: 'GATEHOUSE_USAGE_MINUTE_RETENTION_DAYS' },
  'usage-hour-retention-days': { type: 'string', env: 'GATEHOUSE_USAGE_HOUR_RETENTION_DAYS' },
  'usage-day-retention-days': { type: 'string', env: 'GATEHOUSE_USAGE_DAY_RETENTION_DAYS' },
  'audit-success-sample': { type: 'string', env: 'GATEHOUSE_AUDIT_SUCCESS_SAMPLE' },
  'password-hash-cost': { type: 'string', env: 'GATEHOUSE_PASSWORD_HASH_COST' },
  'signing-alg': { type: 'string', env: 'GATEHOUSE_SIGNING_ALG' },
  'signing-key-activation': { type: 'string', env: 'GATEHOUSE_SIGNING_KEY_ACTIVATION_SECONDS' },
  'max-token-ttl': { type: 'string', env: 'GATEHOUSE_MAX_TOKEN_TTL_SECONDS' },
  'access-token-ttl': { type: 'string', env: 'GATEHOUSE_ACCESS_TOKEN_TTL_SECONDS' },
  'refresh-token-absolute': { type: 'string', env: 'GATEHOUSE_REFRESH_TOKEN_ABSOLUTE_SECONDS' },
  'refresh-token-idle': { type: 'string', env: 'GATEHOUSE_REFRESH_TOKEN_IDLE_SECONDS' },
  'login-session': { type: 'string', env: 'GATEHOUSE_LOGIN_SESSION_SECONDS' },
  'revocation-stream-max-connections': { type: 'string', env: 'GATEHOUSE_REVOCATION_STREAM_MAX_CONNECTIONS' },
  detection: { type: 'string', env: 'GATEHOUSE_DETECTION' },
  'detection-alert-threshold': { type: 'string', env: 'GATEHOUSE_DETECTION_ALERT_THRESHOLD' },
  'detection-block-threshold': { type: 'string', env: 'GATEHOUSE_DETECTION_BLOCK_THRESHOLD' },
  'detection-window': { type: 'string', env: 'GATEHOUSE_DETECTION_WINDOW_SECONDS' },
  'detection-block-duration': { type: 'string', env: 'GATEHOUSE_DETECTION_BLOCK_SECONDS' },
  'detection-allow-list': { type: 'string', env: 'GATEHOUSE_DETECTION_ALLOW_LIST' },
  'detection-learning-period': { type: 'string', env: 'GATEHOUSE_DETECTION_LEARNING_SECONDS' },
  'detection-rate-spike-factor': { type: 'string', env: 'GATEHOUSE_DETECTION_RATE_SPIKE_FACTOR' },
  'detection-unknown-token-limit': { type: 'string', env: 'GATEHOUSE_DETECTION_UNKNOWN_TOKEN_LIMIT' },
  'login-delay-max': { type: 'string', env: 'GATEHOUSE_LOGIN_DELAY_MAX_MS' },
  'metrics-port': { type: 'string', env: 'GATEHOUSE_METRICS_PORT' },
  'webhooks-allow-insecure': { type: 'string', env: 'GATEHOUSE_WEBHOOKS_ALLOW_INSECURE' },
  'webhooks-retry-window': { type: 'string', env: 'GATEHOUSE_WEBHOOKS_RETRY_WINDOW_SECONDS' },
  'webhooks-disable-after': { type: 'string', env: 'GATEHOUSE_WEBHOOKS_DISABLE_AFTER_SECONDS' },
  'webhooks-timeout': { type: 'string', env: 'GATEHOUSE_WEBHOOKS_TIMEOUT_SECONDS' },
  'webhooks-concurrency': { type: 'string', env: 'GATEHOUSE_WEBHOOKS_CONCURRENCY' },
  'tls-port': { type: 'string', env: 'GATEHOUSE_TLS_PORT' },
  'tls-cert': { type: 'string', env: 'GATEHOUSE_TLS_CERT' },
  'tls-key': { type: 'string', env: 'GATEHOUSE_TLS_KEY' },
  'mtls-url': { type: 'string', env: 'GATEHOUSE_MTLS_URL' },
  'mtls-trust-domain': { type: 'string', env: 'GATEHOUSE_MTLS_TRUST_DOMAIN' },
  'certificate-max-ttl': { type: 'string', env: 'GATEHOUSE_CERTIFICATE_MAX_TTL_SECONDS' },
  'client-cert-header': { type: 'string', env: 'GATEHOUSE_CLIENT_CERT_HEADER' },
  'client-registration': { type: 'string', env: 'GATEHOUSE_CLIENT_REGISTRATION' },
  'client-registration-rate-limit': { type: 'string', env: 'GATEHOUSE_CLIENT_REGISTRATION_RATE_LIMIT' },
  'client-registration-max-per-address': { type: 'string', env: 'GATEHOUSE_CLIENT_REGISTRATION_MAX_PER_ADDRESS' },
  'client-registration-grant-types': { type: 'string', env: 'GATEHOUSE_CLIENT_REGISTRATION_GRANT_TYPES' },
  'dynamic-client-idle-days': { type: 'string', env: 'GATEHOUSE_DYNAMIC_CLIENT_IDLE_DAYS' },
  'client-id-metadata-documents': { type: 'string', env: 'GATEHOUSE_CLIENT_ID_METADATA_DOCUMENTS' },
  'cimd-allowed-hosts': { type: 'string', env: 'GATEHOUSE_CIMD_ALLOWED_HOSTS' },
  'cimd-denied-hosts': { type: 'string', env: 'GATEHOUSE_CIMD_DENIED_HOSTS' },
  'cimd-allow-loopback': { type: 'string', env: 'GATEHOUSE_CIMD_ALLOW_LOOPBACK' },
} as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: string[] = []): Config {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(Object.entries(CONFIG_FLAGS).map(([name, flag]) => [name, { type: flag.type }])),
    strict: true,
    allowPositionals: false,
  });
  const raw = (flag: keyof typeof CONFIG_FLAGS): string | undefined => {
    const value = (values[flag] as string | undefined) ?? env[CONFIG_FLAGS[flag].env];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const problems: string[] = [];

  const port = parseInteger(raw('port') ?? '4000', 'GATEHOUSE_PORT', 0, 65_535, problems);
  const host = raw('host') ?? '127.0.0.1';
  const dataDir = resolve(raw('data-dir') ?? './data');

  const databaseUrl = raw('database-url');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('GATEHOUSE_DATABASE_URL must be a postgres:// URL (leave it unset for SQLite in the data dir)');
  }
  const redisUrl = raw('redis-url');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) problems.push('GATEHOUSE_REDIS_URL must be a redis:// or rediss:// URL');

  const configuredIssuer = raw('issuer');
  const issuer = configuredIssuer ?? defaultIssuer(host, port);
  if (configuredIssuer !== undefined) checkIssuer(configuredIssuer, problems);
  else if (isWildcardHost(host)) {
    problems.push(
      `GATEHOUSE_HOST ${host} listens on every interface, so the default issuer ${issuer} is an address no client can reach: set GATEHOUSE_ISSUER (--issuer) to the public URL clients use, e.g. http://localhost:${port} or https://auth.example.com`,
    );
  }

  const masterKey = env.GATEHOUSE_MASTER_KEY?.trim() || undefined;
  if (masterKey !== undefined && Buffer.from(masterKey, 'base64').length !== 32) {
    problems.push('GATEHOUSE_MASTER_KEY must be the base64 encoding of exactly 32 bytes (openssl rand -base64 32)');
  }
  if (databaseUrl !== undefined && masterKey === undefined) {
    problems.push('GATEHOUSE_MASTER_KEY is required with PostgreSQL: every process of a cluster must share it');
  }

  const logLevel = (raw('log-level') ?? 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`GATEHOUSE_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const managementRateLimit = parsePolicy(raw('management-rate-limit') ?? '1000/60', problems);
  const keyCacheTtlSeconds = parseInteger(raw('key-cache-ttl') ?? '300', 'GATEHOUSE_KEY_CACHE_TTL_SECONDS', 1, 86_400, problems);
  const keyPrefix = raw('key-prefix') ?? DEFAULT_API_KEY_PREFIX;
  const keyPrefixProblem = apiKeyPrefixProblem(keyPrefix);
  if (keyPrefixProblem !== undefined) problems.push(`GATEHOUSE_KEY_PREFIX "${keyPrefix.slice(0, 32)}" is refused: ${keyPrefixProblem}`);
  const redisNamespace = raw('redis-namespace') ?? DEFAULT_REDIS_NAMESPACE;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(redisNamespace)) {
    problems.push('GATEHOUSE_REDIS_NAMESPACE must be 1 to 64 letters, digits, dots, dashes or underscores');
  }
  const redisTimeoutMs = parseInteger(raw('redis-timeout') ?? '500', 'GATEHOUSE_REDIS_TIMEOUT_MS', 50, 10_000, problems);
  const revocationPollSeconds = parseInteger(raw('revocation-poll') ?? '5', 'GATEHOUSE_REVOCATION_POLL_SECONDS', 1, 300, problems);
  const auditRetentionDays = parseInteger(raw('audit-retention-days') ?? '90', 'GATEHOUSE_AUDIT_RETENTION_DAYS', 0, 36_500, problems);
  const webhookRetentionDays = parseInteger(raw('webhook-retention-days') ?? '30', 'GATEHOUSE_WEBHOOK_RETENTION_DAYS', 0, 36_500, problems);
  const usageFlushSeconds = parseInteger(raw('usage-flush') ?? '5', 'GATEHOUSE_USAGE_FLUSH_SECONDS', 1, 300, problems);
  const usageRetentionDays = {
    minute: parseInteger(raw('usage-minute-retention-days') ?? '7', 'GATEHOUSE_USAGE_MINUTE_RETENTION_DAYS', 0, 36_500, problems),
    hour: parseInteger(raw('usage-hour-retention-days') ?? '90', 'GATEHOUSE_USAGE_HOUR_RETENTION_DAYS', 0, 36_500, problems),
    day: parseInteger(raw('usage-day-retention-days') ?? '730', 'GATEHOUSE_USAGE_DAY_RETENTION_DAYS', 0, 36_500, problems),
  };
  const sampleText = raw('audit-success-sample') ?? '0';
  const auditSuccessSample = Number(sampleText);
  if (!/^(0|1|0?\.[0-9]+|1\.0*)$/.test(sampleText) || !(auditSuccessSample >= 0 && auditSuccessSample <= 1)) {
    problems.push('GATEHOUSE_AUDIT_SUCCESS_SAMPLE must be a number from 0 to 1');
  }
  const passwordHashCost = parseInteger(
    raw('password-hash-cost') ?? String(DEFAULT_SCRYPT_PARAMS.ln),
    'GATEHOUSE_PASSWORD_HASH_COST',
    MIN_PASSWORD_HASH_COST,
    MAX_PASSWORD_HASH_COST,
    problems,
  );

  const signingAlg = raw('signing-alg') ?? 'EdDSA';
  if (!isSigningAlg(signingAlg)) problems.push(`GATEHOUSE_SIGNING_ALG must be one of ${SIGNING_ALGS.join(', ')}`);
  const signingKeyActivationSeconds = parseInteger(
    raw('signing-key-activation') ?? '60',
    'GATEHOUSE_SIGNING_KEY_ACTIVATION_SECONDS',
    0,
    86_400,
    problems,
  );
  const maxTokenTtlSeconds = parseInteger(raw('max-token-ttl') ?? '86400', 'GATEHOUSE_MAX_TOKEN_TTL_SECONDS', 60, 30 * 86_400, problems);
  const accessTokenTtlSeconds = parseInteger(raw('access-token-ttl') ?? '900', 'GATEHOUSE_ACCESS_TOKEN_TTL_SECONDS', 60, 86_400, problems);
  if (accessTokenTtlSeconds > maxTokenTtlSeconds) problems.push('GATEHOUSE_ACCESS_TOKEN_TTL_SECONDS must not exceed GATEHOUSE_MAX_TOKEN_TTL_SECONDS');
  const refreshTokenAbsoluteSeconds = parseInteger(raw('refresh-token-absolute') ?? String(30 * 86_400), 'GATEHOUSE_REFRESH_TOKEN_ABSOLUTE_SECONDS', 60, 366 * 86_400, problems);
  const refreshTokenIdleSeconds = parseInteger(raw('refresh-token-idle') ?? String(7 * 86_400), 'GATEHOUSE_REFRESH_TOKEN_IDLE_SECONDS', 60, 366 * 86_400, problems);
  const loginSessionSeconds = parseInteger(raw('login-session') ?? '86400', 'GATEHOUSE_LOGIN_SESSION_SECONDS', 60, 90 * 86_400, problems);
  const revocationStreamMaxConnections = parseInteger(
    raw('revocation-stream-max-connections') ?? '1000',
    'GATEHOUSE_REVOCATION_STREAM_MAX_CONNECTIONS',
    1,
    100_000,
    problems,
  );

  const detection = parseDetection(raw, problems);
  const rawMetricsPort = raw('metrics-port');
  const metricsPort = rawMetricsPort === undefined ? undefined : parseInteger(rawMetricsPort, 'GATEHOUSE_METRICS_PORT', 0, 65_535, problems);
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port) {
    problems.push('GATEHOUSE_METRICS_PORT must differ from GATEHOUSE_PORT (leave it unset to serve GET /metrics on the API port only)');
  }
  const allowInsecure = raw('webhooks-allow-insecure');
  if (allowInsecure !== undefined && !/^(1|true|yes|on|0|false|no|off)$/i.test(allowInsecure)) {
    problems.push('GATEHOUSE_WEBHOOKS_ALLOW_INSECURE must be true or false');
  }
  const webhookRetryWindowSeconds = parseInteger(raw('webhooks-retry-window') ?? '86400', 'GATEHOUSE_WEBHOOKS_RETRY_WINDOW_SECONDS', 0, 30 * 86_400, problems);
  const webhookDisableAfterSeconds = parseInteger(
    raw('webhooks-disable-after') ?? String(5 * 86_400),
    'GATEHOUSE_WEBHOOKS_DISABLE_AFTER_SECONDS',
    60,
    365 * 86_400,
    problems,
  );
  const webhookTimeoutSeconds = parseInteger(raw('webhooks-timeout') ?? '10', 'GATEHOUSE_WEBHOOKS_TIMEOUT_SECONDS', 1, 60, problems);
  const webhookConcurrency = parseInteger(raw('webhooks-concurrency') ?? '50', 'GATEHOUSE_WEBHOOKS_CONCURRENCY', 1, 1000, problems);
  const mtls = parseMtls(raw, databaseUrl, problems);
  const branding = parseBranding(env, problems);
  const scopeDescriptions = parseScopeDescriptions(env.GATEHOUSE_SCOPE_DESCRIPTIONS, problems);
  const clientRegistration = parseClientRegistration(raw, problems);
  const clientIdMetadataDocuments = parseClientIdMetadataDocuments(raw, problems);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    host,
    dataDir,
    databaseUrl,
    redisUrl,
    issuer,
    issuerConfigured: configuredIssuer !== undefined,
    masterKey,
    bootstrapAdminKey: env.GATEHOUSE_BOOTSTRAP_ADMIN_KEY?.trim() || undefined,
    trustProxy: parseTrustProxy(raw('trust-proxy')),
    logLevel,
    managementRateLimit,
    keyCacheTtlSeconds,
    keyPrefix,
    bodyLimitBytes: 64 * 1024,
    passwordHashCost,
    signingAlg: signingAlg as SigningAlg,
    signingKeyActivationSeconds,
    maxTokenTtlSeconds,
    accessTokenTtlSeconds,
    refreshTokenAbsoluteSeconds,
    refreshTokenIdleSeconds,
    loginSessionSeconds,
    revocationStreamMaxConnections,
    detection,
    redisNamespace,
    redisTimeoutMs,
    revocationPollSeconds,
    auditRetentionDays,
    webhookRetentionDays,
    usageFlushSeconds,
    usageRetentionDays,
    auditSuccessSample,
    metricsPort,
    webhooksAllowInsecure: allowInsecure !== undefined && /^(1|true|yes|on)$/i.test(allowInsecure),
    webhookRetryWindowSeconds,
    webhookDisableAfterSeconds,
    webhookTimeoutSeconds,
    webhookConcurrency,
    branding,
    scopeDescriptions,
    ...mtls,
    clientRegistration,
    clientIdMetadataDocuments,
  };
}

function parseClientIdMetadataDocuments(raw: (flag: keyof typeof CONFIG_FLAGS) => string | undefined, problems: string[]): ClientIdMetadataDocumentsConfig {
  const switchValue = raw('client-id-metadata-documents') ?? 'off';
  if (!/^(on|off)$/i.test(switchValue)) problems.push('GATEHOUSE_CLIENT_ID_METADATA_DOCUMENTS must be on or off');
  const hosts = (flag: 'cimd-allowed-hosts' | 'cimd-denied-hosts', name: string) => {
    const list = (raw(flag) ?? '').split(',').map((part) => part.trim()).filter(Boolean);
    for (const pattern of list) {
      const problem = hostPatternProblem(pattern);
      if (problem) problems.push(`${name}: "${pattern.slice(0, 64)}" is refused: ${problem}`);
    }
    return list;
  };
  const loopback = raw('cimd-allow-loopback');
  if (loopback !== undefined && !/^(1|true|yes|on|0|false|no|off)$/i.test(loopback)) problems.push('GATEHOUSE_CIMD_ALLOW_LOOPBACK must be true or false');
  return {
    enabled: switchValue.toLowerCase() === 'on',
    allowedHosts: hosts('cimd-allowed-hosts', 'GATEHOUSE_CIMD_ALLOWED_HOSTS'),
    deniedHosts: hosts('cimd-denied-hosts', 'GATEHOUSE_CIMD_DENIED_HOSTS'),
    allowLoopback: loopback !== undefined && /^(1|true|yes|on)$/i.test(loopback),
  };
}

function parseDetection(raw: (flag: keyof typeof CONFIG_FLAGS) => string | undefined, problems: string[]): DetectionConfig {
  const switchValue = raw('detection') ?? 'on';
  if (!/^(on|off)$/i.test(switchValue)) problems.push('GATEHOUSE_DETECTION must be on or off');
  const alertThreshold = parseInteger(raw('detection-alert-threshold') ?? '10', 'GATEHOUSE_DETECTION_ALERT_THRESHOLD', 1, 1_000_000, problems);
  const blockThreshold = parseInteger(raw('detection-block-threshold') ?? '100', 'GATEHOUSE_DETECTION_BLOCK_THRESHOLD', 1, 1_000_000, problems);
  if (blockThreshold < alertThreshold) problems.push('GATEHOUSE_DETECTION_BLOCK_THRESHOLD must not be below GATEHOUSE_DETECTION_ALERT_THRESHOLD');
  const allowList = (raw('detection-allow-list') ?? '').split(',').map((part) => part.trim()).filter(Boolean);
  for (const entry of allowList) {
    if (parseNetwork(entry) === undefined) problems.push(`GATEHOUSE_DETECTION_ALLOW_LIST: "${entry.slice(0, 64)}" is not an IP address or CIDR network`);
  }
  return {
    enabled: switchValue.toLowerCase() === 'on',
    alertThreshold,
    blockThreshold,
    windowSeconds: parseInteger(raw('detection-window') ?? '60', 'GATEHOUSE_DETECTION_WINDOW_SECONDS', 1, 86_400, problems),
    blockSeconds: parseInteger(raw('detection-block-duration') ?? '900', 'GATEHOUSE_DETECTION_BLOCK_SECONDS', 1, 30 * 86_400, problems),
    allowList,
    learningSeconds: parseInteger(raw('detection-learning-period') ?? String(7 * 86_400), 'GATEHOUSE_DETECTION_LEARNING_SECONDS', 0, 365 * 86_400, problems),
    rateSpikeFactor: parseInteger(raw('detection-rate-spike-factor') ?? '10', 'GATEHOUSE_DETECTION_RATE_SPIKE_FACTOR', 2, 10_000, problems),
    unknownTokenLimit: parseInteger(raw('detection-unknown-token-limit') ?? '100', 'GATEHOUSE_DETECTION_UNKNOWN_TOKEN_LIMIT', 1, 1_000_000, problems),
    loginDelayMaxMs: parseInteger(raw('login-delay-max') ?? '4000', 'GATEHOUSE_LOGIN_DELAY_MAX_MS', 0, 30_000, problems),
  };
}

type MtlsConfig = Pick<Config, 'tlsPort' | 'tlsCertFile' | 'tlsKeyFile' | 'mtlsUrl' | 'mtlsTrustDomain' | 'certificateMaxLifetimeSeconds' | 'clientCertHeader'>;

function parseMtls(raw: (flag: keyof typeof CONFIG_FLAGS) => string | undefined, databaseUrl: string | undefined, problems: string[]): MtlsConfig {
  const tlsPortText = raw('tls-port');
  const tlsPort = tlsPortText === undefined ? undefined : parseInteger(tlsPortText, 'GATEHOUSE_TLS_PORT', 0, 65_535, problems);
  const tlsCertFile = raw('tls-cert');
  const tlsKeyFile = raw('tls-key');
  if ((tlsCertFile === undefined) !== (tlsKeyFile === undefined)) problems.push('GATEHOUSE_TLS_CERT and GATEHOUSE_TLS_KEY go together: set both or neither');
  if (tlsPort !== undefined && tlsCertFile === undefined && databaseUrl !== undefined) {
    problems.push('GATEHOUSE_TLS_CERT and GATEHOUSE_TLS_KEY are required with PostgreSQL (the CA-issued localhost certificate is for embedded mode)');
  }
  const mtlsUrl = raw('mtls-url');
  if (mtlsUrl !== undefined) {
    const url = URL.canParse(mtlsUrl) ? new URL(mtlsUrl) : undefined;
    if (!url || url.protocol !== 'https:' || url.search || url.hash || url.pathname !== '/' || mtlsUrl.endsWith('/')) {
      problems.push('GATEHOUSE_MTLS_URL must be an https origin without a path or trailing slash, e.g. https://mtls.auth.example.com');
    }
  }
  const mtlsTrustDomain = raw('mtls-trust-domain');
  if (mtlsTrustDomain !== undefined && !TRUST_DOMAIN.test(mtlsTrustDomain)) {
    problems.push('GATEHOUSE_MTLS_TRUST_DOMAIN must be a SPIFFE trust domain: lowercase letters, digits, ".", "-", "_"');
  }
  const certificateMaxLifetimeSeconds = parseInteger(
    raw('certificate-max-ttl') ?? String(7 * 86_400),
    'GATEHOUSE_CERTIFICATE_MAX_TTL_SECONDS',
    300,
    365 * 86_400,
    problems,
  );
  const headerText = raw('client-cert-header')?.toLowerCase();
  let clientCertHeader: MtlsConfig['clientCertHeader'];
  if (headerText === 'client-cert' || headerText === 'x-ssl-client-cert') clientCertHeader = headerText;
  else if (headerText !== undefined && headerText !== 'off') {
    problems.push('GATEHOUSE_CLIENT_CERT_HEADER must be off, client-cert or x-ssl-client-cert');
  }
  return { tlsPort, tlsCertFile, tlsKeyFile, mtlsUrl, mtlsTrustDomain, certificateMaxLifetimeSeconds, clientCertHeader };
}

function parseClientRegistration(raw: (flag: keyof typeof CONFIG_FLAGS) => string | undefined, problems: string[]): ClientRegistrationConfig {
  const mode = (raw('client-registration') ?? 'off').toLowerCase();
  if (mode !== 'off' && mode !== 'token' && mode !== 'open') problems.push('GATEHOUSE_CLIENT_REGISTRATION must be off, token or open');
  const limitText = raw('client-registration-rate-limit') ?? '10/3600';
  const match = /^(\d+)\/(\d+)$/.exec(limitText);
  let rateLimit: RateLimitPolicy = { limit: Number(match?.[1]), windowSeconds: Number(match?.[2]) };
  try {
    assertValidPolicy(rateLimit);
  } catch {
    problems.push('GATEHOUSE_CLIENT_REGISTRATION_RATE_LIMIT must look like LIMIT/WINDOW_SECONDS, e.g. 10/3600');
    rateLimit = { limit: 1, windowSeconds: 1 };
  }
  const maxClientsPerAddress = parseInteger(
    raw('client-registration-max-per-address') ?? '20',
    'GATEHOUSE_CLIENT_REGISTRATION_MAX_PER_ADDRESS',
    0,
    1_000_000,
    problems,
  );
  const grantTypes = (raw('client-registration-grant-types') ?? 'authorization_code,refresh_token')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  const unknown = grantTypes.filter((grant) => !(GRANT_TYPES as readonly string[]).includes(grant));
  if (grantTypes.length === 0 || unknown.length > 0) {
    problems.push(`GATEHOUSE_CLIENT_REGISTRATION_GRANT_TYPES must be a comma-separated list of ${GRANT_TYPES.join(', ')}`);
  }
  const idleDays = parseInteger(raw('dynamic-client-idle-days') ?? '90', 'GATEHOUSE_DYNAMIC_CLIENT_IDLE_DAYS', 0, 36_500, problems);
  return {
    mode: mode === 'token' || mode === 'open' ? mode : 'off',
    rateLimit,
    maxClientsPerAddress,
    grantTypes: [...new Set(grantTypes)] as GrantType[],
    idleDays,
  };
}

/** `http://<host>:<port>`, the host bracketed when it is an IPv6 address. */
export function defaultIssuer(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** 0.0.0.0, :: (any spelling, bracketed or not): a listening address meaning every interface, never a destination. */
export function isWildcardHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare) === 4) return bare === '0.0.0.0';
  if (isIP(bare) === 6) return new URL(`http://[${bare}]/`).hostname === '[::]';
  return false;
}

/** localhost, 127.0.0.0/8 and ::1: the hosts for which an http issuer is acceptable. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * RFC 8414 section 2: the issuer is an https URL with no query or fragment. http is accepted for loopback
 * hosts only (development). It is used byte for byte as configured: no trailing slash is added or removed.
 */
function checkIssuer(issuer: string, problems: string[]): void {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    problems.push('GATEHOUSE_ISSUER must be an absolute https URL');
    return;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push('GATEHOUSE_ISSUER must be an absolute https URL');
    return;
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    problems.push('GATEHOUSE_ISSUER must use https (http is accepted only for localhost / 127.0.0.1 / ::1)');
  }
  if (issuer.includes('?') || issuer.includes('#')) problems.push('GATEHOUSE_ISSUER must not have a query or fragment');
  if (url.username || url.password) problems.push('GATEHOUSE_ISSUER must not contain credentials');
  if (/\s/.test(issuer)) problems.push('GATEHOUSE_ISSUER must not contain white space');
}

function parseInteger(value: string, name: string, min: number, max: number, problems: string[]): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max}`);
    return min;
  }
  return n;
}

/** "LIMIT/WINDOW_SECONDS", e.g. 1000/60. */
function parsePolicy(value: string, problems: string[]): RateLimitPolicy {
  const match = /^(\d+)\/(\d+)$/.exec(value);
  const policy = { limit: Number(match?.[1]), windowSeconds: Number(match?.[2]) };
  try {
    assertValidPolicy(policy);
    return policy;
  } catch {
    problems.push('GATEHOUSE_MANAGEMENT_RATE_LIMIT must look like LIMIT/WINDOW_SECONDS, e.g. 1000/60');
    return { limit: 1, windowSeconds: 1 };
  }
}

function parseTrustProxy(value: string | undefined): boolean | string[] {
  if (value === undefined || /^(off|false|0|no)$/i.test(value)) return false;
  if (/^(on|true|1|yes)$/i.test(value)) return true;
  return value.split(',').map((part) => part.trim()).filter(Boolean);
}
