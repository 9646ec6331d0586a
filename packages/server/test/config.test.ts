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
      trustProxy: false,
      logLevel: 'info',
      managementRateLimit: { limit: 1000, windowSeconds: 60 },
      keyCacheTtlSeconds: 300,
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
      issuer: 'https://auth.example.com',
      trustProxy: ['10.0.0.0/8', '127.0.0.1'],
      logLevel: 'warn',
      managementRateLimit: { limit: 50, windowSeconds: 10 },
    });
    expect(loadConfig({ GATEHOUSE_TRUST_PROXY: 'off' }).trustProxy).toBe(false);
    expect(loadConfig({ GATEHOUSE_HOST: '::1' }).issuer).toBe('http://[::1]:4000');
  });

  it('GATEHOUSE_PASSWORD_HASH_COST: default 17 (OWASP), 14 to 20, flag mirrors it', () => {
    expect(loadConfig({}).passwordHashCost).toBe(17);
    expect(loadConfig({ GATEHOUSE_PASSWORD_HASH_COST: '14' }).passwordHashCost).toBe(14);
    expect(loadConfig({}, ['--password-hash-cost', '18']).passwordHashCost).toBe(18);
    for (const bad of ['13', '21', '1.5', 'high']) {
      expect(() => loadConfig({ GATEHOUSE_PASSWORD_HASH_COST: bad })).toThrow(/GATEHOUSE_PASSWORD_HASH_COST/);
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
});
