import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/load-config.js';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      redisUrl: undefined,
      issuer: 'http://127.0.0.1:4000',
      issuerConfigured: false,
      trustProxy: false,
      logLevel: 'info',
      managementRateLimit: { limit: 1000, windowSeconds: 60 },
      keyCacheTtlSeconds: 300,
      signingAlg: 'EdDSA',
      signingKeyActivationSeconds: 60,
      maxTokenTtlSeconds: 86_400,
    });
    expect(config.dataDir).toMatch(/\/data$/);
  });

  it('reads the environment, and flags override it', () => {
    const env = {
      GATEHOUSE_PORT: '5000',
      GATEHOUSE_ISSUER: 'https://auth.example.com/',
      GATEHOUSE_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1',
      GATEHOUSE_MANAGEMENT_RATE_LIMIT: '50/10',
    };
    const config = loadConfig(env, ['--port', '6000', '--log-level', 'warn']);
    expect(config).toMatchObject({
      port: 6000,
      issuer: 'https://auth.example.com/',
      issuerConfigured: true,
      trustProxy: ['10.0.0.0/8', '127.0.0.1'],
      logLevel: 'warn',
      managementRateLimit: { limit: 50, windowSeconds: 10 },
    });
    expect(loadConfig({ GATEHOUSE_TRUST_PROXY: 'off' }).trustProxy).toBe(false);
    expect(loadConfig({ GATEHOUSE_HOST: '::1' }).issuer).toBe('http://[::1]:4000');
  });

  it('a wildcard GATEHOUSE_HOST (0.0.0.0, ::) needs GATEHOUSE_ISSUER: the default issuer would be unreachable', () => {
    for (const host of ['0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0', '::0']) {
      expect(() => loadConfig({ GATEHOUSE_HOST: host })).toThrow(ConfigError);
      expect(() => loadConfig({}, ['--host', host])).toThrow(/GATEHOUSE_HOST .* listens on every interface.*set GATEHOUSE_ISSUER/);
      const config = loadConfig({ GATEHOUSE_HOST: host, GATEHOUSE_ISSUER: 'https://auth.example.com' });
      expect(config).toMatchObject({ host, issuer: 'https://auth.example.com', issuerConfigured: true });
    }
    // Only the whole problem list is multi-line; this problem is one line.
    try {
      loadConfig({ GATEHOUSE_HOST: '0.0.0.0' });
    } catch (error) {
      expect((error as ConfigError).problems).toHaveLength(1);
      expect((error as ConfigError).problems[0]).not.toContain('\n');
    }
    // Specific addresses keep the derived issuer.
    for (const [host, issuer] of [['127.0.0.1', 'http://127.0.0.1:4000'], ['::1', 'http://[::1]:4000'], ['10.0.0.5', 'http://10.0.0.5:4000'], ['localhost', 'http://localhost:4000']]) {
      expect(loadConfig({ GATEHOUSE_HOST: host }).issuer).toBe(issuer);
    }
  });

  it('GATEHOUSE_CLIENT_CERT_HEADER: unset or off reads none; client-cert or x-ssl-client-cert; nothing else', () => {
    expect(loadConfig({}).clientCertHeader).toBeUndefined();
    expect(loadConfig({ GATEHOUSE_CLIENT_CERT_HEADER: 'off' }).clientCertHeader).toBeUndefined();
    expect(loadConfig({ GATEHOUSE_CLIENT_CERT_HEADER: 'Client-Cert' }).clientCertHeader).toBe('client-cert');
    expect(loadConfig({}, ['--client-cert-header', 'x-ssl-client-cert']).clientCertHeader).toBe('x-ssl-client-cert');
    expect(() => loadConfig({ GATEHOUSE_CLIENT_CERT_HEADER: 'client-cert,x-ssl-client-cert' })).toThrow(/GATEHOUSE_CLIENT_CERT_HEADER/);
  });

  it('GATEHOUSE_REDIS_NAMESPACE: default gatehouse; letters, digits, dots, dashes, underscores; flag mirrors it', () => {
    expect(loadConfig({}).redisNamespace).toBe('gatehouse');
    expect(loadConfig({ GATEHOUSE_REDIS_NAMESPACE: 'gatehouse-staging' }).redisNamespace).toBe('gatehouse-staging');
    expect(loadConfig({}, ['--redis-namespace', 'prod_eu.1']).redisNamespace).toBe('prod_eu.1');
    for (const bad of ['with space', 'a:b', 'x'.repeat(65), 'é']) {
      expect(() => loadConfig({ GATEHOUSE_REDIS_NAMESPACE: bad })).toThrow(/GATEHOUSE_REDIS_NAMESPACE/);
    }
  });

  it('GATEHOUSE_KEY_PREFIX: default sk; 2 to 16 lowercase letters and digits from a letter, not live or test; flag mirrors it', () => {
    expect(loadConfig({}).keyPrefix).toBe('sk');
    expect(loadConfig({ GATEHOUSE_KEY_PREFIX: 'acme' }).keyPrefix).toBe('acme');
    expect(loadConfig({ GATEHOUSE_KEY_PREFIX: 'acme' }, ['--key-prefix', 'gh2']).keyPrefix).toBe('gh2');
    for (const bad of ['a', 'Acme', 'ac_me', 'ac-me', '1ab', 'x'.repeat(17), 'live', 'test', 'é']) {
      expect(() => loadConfig({ GATEHOUSE_KEY_PREFIX: bad }), bad).toThrow(/GATEHOUSE_KEY_PREFIX .* is refused: a key prefix/);
    }
    expect(() => loadConfig({}, ['--key-prefix', 'live'])).toThrow(/GATEHOUSE_KEY_PREFIX "live" is refused: a key prefix cannot be "live", an environment name/);
  });

  it('GATEHOUSE_REDIS_TIMEOUT_MS: default 500, 50 to 10000, flag mirrors it', () => {
    expect(loadConfig({}).redisTimeoutMs).toBe(500);
    expect(loadConfig({ GATEHOUSE_REDIS_TIMEOUT_MS: '250' }).redisTimeoutMs).toBe(250);
    expect(loadConfig({}, ['--redis-timeout', '1200']).redisTimeoutMs).toBe(1200);
    for (const bad of ['0', '49', '10001', 'soon', '1.5']) {
      expect(() => loadConfig({ GATEHOUSE_REDIS_TIMEOUT_MS: bad })).toThrow(/GATEHOUSE_REDIS_TIMEOUT_MS/);
    }
  });

  it('GATEHOUSE_REVOCATION_POLL_SECONDS: default 5, 1 to 300, flag mirrors it', () => {
    expect(loadConfig({}).revocationPollSeconds).toBe(5);
    expect(loadConfig({ GATEHOUSE_REVOCATION_POLL_SECONDS: '1' }).revocationPollSeconds).toBe(1);
    expect(loadConfig({}, ['--revocation-poll', '30']).revocationPollSeconds).toBe(30);
    for (const bad of ['0', '301', 'often', '-5']) {
      expect(() => loadConfig({ GATEHOUSE_REVOCATION_POLL_SECONDS: bad })).toThrow(/GATEHOUSE_REVOCATION_POLL_SECONDS/);
    }
  });

  it('GATEHOUSE_REVOCATION_STREAM_MAX_CONNECTIONS: default 1000, 1 to 100000, flag mirrors it', () => {
    expect(loadConfig({}).revocationStreamMaxConnections).toBe(1000);
    expect(loadConfig({ GATEHOUSE_REVOCATION_STREAM_MAX_CONNECTIONS: '5' }).revocationStreamMaxConnections).toBe(5);
    expect(loadConfig({}, ['--revocation-stream-max-connections', '7']).revocationStreamMaxConnections).toBe(7);
    for (const bad of ['0', '100001', 'many']) {
      expect(() => loadConfig({ GATEHOUSE_REVOCATION_STREAM_MAX_CONNECTIONS: bad })).toThrow(/GATEHOUSE_REVOCATION_STREAM_MAX_CONNECTIONS/);
    }
  });

  it('GATEHOUSE_METRICS_PORT: unset by default, 0 to 65535, not the API port, flag mirrors it', () => {
    expect(loadConfig({}).metricsPort).toBeUndefined();
    expect(loadConfig({ GATEHOUSE_METRICS_PORT: '9464' }).metricsPort).toBe(9464);
    expect(loadConfig({}, ['--metrics-port', '0']).metricsPort).toBe(0);
    expect(loadConfig({ GATEHOUSE_PORT: '0', GATEHOUSE_METRICS_PORT: '0' }).metricsPort).toBe(0);
    for (const bad of ['-1', '65536', 'prometheus']) {
      expect(() => loadConfig({ GATEHOUSE_METRICS_PORT: bad })).toThrow(/GATEHOUSE_METRICS_PORT/);
    }
    expect(() => loadConfig({ GATEHOUSE_PORT: '4000', GATEHOUSE_METRICS_PORT: '4000' })).toThrow(/must differ from GATEHOUSE_PORT/);
  });

  it('GATEHOUSE_PASSWORD_HASH_COST: default 17 (OWASP), 14 to 20, flag mirrors it', () => {
    expect(loadConfig({}).passwordHashCost).toBe(17);
    expect(loadConfig({ GATEHOUSE_PASSWORD_HASH_COST: '14' }).passwordHashCost).toBe(14);
    expect(loadConfig({}, ['--password-hash-cost', '18']).passwordHashCost).toBe(18);
    for (const bad of ['13', '21', '1.5', 'high']) {
      expect(() => loadConfig({ GATEHOUSE_PASSWORD_HASH_COST: bad })).toThrow(/GATEHOUSE_PASSWORD_HASH_COST/);
    }
  });

  it('keeps the issuer byte-identical to GATEHOUSE_ISSUER, and refuses what RFC 8414 forbids', () => {
    for (const issuer of ['https://auth.example.com', 'https://auth.example.com/', 'https://example.com/tenants/Acme', 'http://localhost:4000', 'http://127.0.0.1:4000/x', 'http://[::1]:4000']) {
      expect(loadConfig({ GATEHOUSE_ISSUER: issuer }).issuer).toBe(issuer);
    }
    for (const [issuer, problem] of [
      ['http://auth.example.com', /must use https/],
      ['http://10.0.0.1:4000', /must use https/],
      ['https://auth.example.com/?tenant=a', /query or fragment/],
      ['https://auth.example.com/#x', /query or fragment/],
      ['https://auth.example.com?', /query or fragment/],
      ['https://user:pw@auth.example.com', /credentials/],
      ['ftp://auth.example.com', /absolute https URL/],
      ['/relative', /absolute https URL/],
    ] as const) {
      expect(() => loadConfig({ GATEHOUSE_ISSUER: issuer }), issuer).toThrow(problem);
    }
  });

  it('reads the signing settings', () => {
    const config = loadConfig({
      GATEHOUSE_SIGNING_ALG: 'ES256',
      GATEHOUSE_SIGNING_KEY_ACTIVATION_SECONDS: '0',
      GATEHOUSE_MAX_TOKEN_TTL_SECONDS: '3600',
    });
    expect(config).toMatchObject({ signingAlg: 'ES256', signingKeyActivationSeconds: 0, maxTokenTtlSeconds: 3600 });
    expect(loadConfig({}, ['--signing-alg', 'RS256']).signingAlg).toBe('RS256');
    for (const [name, value] of [
      ['GATEHOUSE_SIGNING_ALG', 'HS256'],
      ['GATEHOUSE_SIGNING_ALG', 'none'],
      ['GATEHOUSE_SIGNING_KEY_ACTIVATION_SECONDS', '-1'],
      ['GATEHOUSE_MAX_TOKEN_TTL_SECONDS', '0'],
      ['GATEHOUSE_MAX_TOKEN_TTL_SECONDS', '1.5'],
    ] as const) {
      expect(() => loadConfig({ [name]: value }), `${name}=${value}`).toThrow(name);
    }
  });

  it('collects every problem into one clear error', () => {
    try {
      loadConfig({
        GATEHOUSE_PORT: 'abc',
        GATEHOUSE_DATABASE_URL: 'mysql://x',
        GATEHOUSE_REDIS_URL: 'http://x',
        GATEHOUSE_ISSUER: 'not a url',
        GATEHOUSE_MASTER_KEY: 'c2hvcnQ=',
        GATEHOUSE_LOG_LEVEL: 'loud',
        GATEHOUSE_MANAGEMENT_RATE_LIMIT: 'lots',
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      for (const name of ['GATEHOUSE_PORT', 'GATEHOUSE_DATABASE_URL', 'GATEHOUSE_REDIS_URL', 'GATEHOUSE_ISSUER', 'GATEHOUSE_MASTER_KEY', 'GATEHOUSE_LOG_LEVEL', 'GATEHOUSE_MANAGEMENT_RATE_LIMIT']) {
        expect(problems).toContain(name);
      }
    }
  });

  it('requires a master key with PostgreSQL (every process of a cluster must share it)', () => {
    expect(() => loadConfig({ GATEHOUSE_DATABASE_URL: 'postgres://localhost/x' })).toThrow(/GATEHOUSE_MASTER_KEY is required/);
  });

  it('refuses unknown flags', () => {
    expect(() => loadConfig({}, ['--prot', '1'])).toThrow();
  });

  it('reads the OAuth token lifetimes, with RFC-minded defaults, and refuses an access TTL above the cap', () => {
    expect(loadConfig({})).toMatchObject({
      accessTokenTtlSeconds: 900,
      refreshTokenAbsoluteSeconds: 30 * 86_400,
      refreshTokenIdleSeconds: 7 * 86_400,
      loginSessionSeconds: 86_400,
    });
    const custom = loadConfig({ GATEHOUSE_ACCESS_TOKEN_TTL_SECONDS: '300', GATEHOUSE_REFRESH_TOKEN_IDLE_SECONDS: '3600' }, ['--refresh-token-absolute', '7200']);
    expect(custom).toMatchObject({ accessTokenTtlSeconds: 300, refreshTokenIdleSeconds: 3600, refreshTokenAbsoluteSeconds: 7200 });
    expect(() => loadConfig({ GATEHOUSE_ACCESS_TOKEN_TTL_SECONDS: '3600', GATEHOUSE_MAX_TOKEN_TTL_SECONDS: '600' })).toThrow(/must not exceed/);
    expect(() => loadConfig({ GATEHOUSE_REFRESH_TOKEN_IDLE_SECONDS: '0' })).toThrow(/GATEHOUSE_REFRESH_TOKEN_IDLE_SECONDS/);
  });

  it('reads the Dynamic Client Registration policy: off by default, and refuses what it cannot mean', () => {
    expect(loadConfig({}).clientRegistration).toStrictEqual({
      mode: 'off',
      rateLimit: { limit: 10, windowSeconds: 3600 },
      maxClientsPerAddress: 20,
      grantTypes: ['authorization_code', 'refresh_token'],
      idleDays: 90,
    });
    const custom = loadConfig(
      {
        GATEHOUSE_CLIENT_REGISTRATION: 'token',
        GATEHOUSE_CLIENT_REGISTRATION_RATE_LIMIT: '3/60',
        GATEHOUSE_CLIENT_REGISTRATION_GRANT_TYPES: 'authorization_code, client_credentials',
        GATEHOUSE_DYNAMIC_CLIENT_IDLE_DAYS: '0',
      },
      ['--client-registration-max-per-address', '0'],
    );
    expect(custom.clientRegistration).toStrictEqual({
      mode: 'token',
      rateLimit: { limit: 3, windowSeconds: 60 },
      maxClientsPerAddress: 0,
      grantTypes: ['authorization_code', 'client_credentials'],
      idleDays: 0,
    });
    expect(loadConfig({}, ['--client-registration', 'open']).clientRegistration.mode).toBe('open');
    expect(() => loadConfig({ GATEHOUSE_CLIENT_REGISTRATION: 'yes' })).toThrow(/GATEHOUSE_CLIENT_REGISTRATION must be off, token or open/);
    expect(() => loadConfig({ GATEHOUSE_CLIENT_REGISTRATION_RATE_LIMIT: '10' })).toThrow(/GATEHOUSE_CLIENT_REGISTRATION_RATE_LIMIT/);
    expect(() => loadConfig({ GATEHOUSE_CLIENT_REGISTRATION_GRANT_TYPES: 'implicit' })).toThrow(/GATEHOUSE_CLIENT_REGISTRATION_GRANT_TYPES/);
    expect(() => loadConfig({ GATEHOUSE_DYNAMIC_CLIENT_IDLE_DAYS: '-1' })).toThrow(/GATEHOUSE_DYNAMIC_CLIENT_IDLE_DAYS/);
  });
});
