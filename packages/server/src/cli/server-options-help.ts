/**
 * The help of `gatehouse start` (and migrate, admin recover, ca init): every flag load-config accepts, with its
 * environment variable and default. The descriptions are keyed by flag and typed against CONFIG_FLAGS, so a flag
 * added there without a line here does not compile; a test checks the printed help names every flag.
 */

import type { CONFIG_FLAGS } from '../config/load-config.js';

type ConfigFlags = typeof CONFIG_FLAGS;

const FLAG_HELP = {
  port: ['N', '4000; 0 picks a free port'],
  host: ['ADDR', '127.0.0.1'],
  'data-dir': ['DIR', './data'],
  'database-url': ['URL', 'unset: SQLite in the data dir; postgres://...: PostgreSQL'],
  'redis-url': ['URL', 'unset: in-memory (one process)'],
  'redis-namespace': ['NAME', 'gatehouse: the prefix of every Redis key and channel'],
  'redis-timeout': ['MS', '500'],
  'revocation-poll': ['S', '5; cluster mode'],
  issuer: ['URL', 'http://<host>:<listening port>'],
  'trust-proxy': ['LIST', 'off | on | proxy addresses / CIDRs'],
  'log-level': ['LEVEL', 'info (fatal, error, warn, info, debug, trace, silent)'],
  'management-rate-limit': ['N/S', '1000/60 per admin key'],
  'key-cache-ttl': ['S', '300'],
  'key-prefix': ['PREFIX', 'sk: new keys are <prefix>_live_... / <prefix>_test_...'],
  'audit-retention-days': ['DAYS', '90; 0 keeps events for ever'],
  'webhook-retention-days': ['DAYS', '30; 0 keeps deliveries for ever'],
  'usage-flush': ['S', '5: how often usage counters are written'],
  'usage-minute-retention-days': ['DAYS', '7; 0 keeps per-minute usage for ever'],
  'usage-hour-retention-days': ['DAYS', '90; 0 keeps per-hour usage for ever'],
  'usage-day-retention-days': ['DAYS', '730; 0 keeps per-day usage for ever'],
  'audit-success-sample': ['0..1', '0: the fraction of successful verifications, grants and introspections still audited'],
  'password-hash-cost': ['N', '17 (scrypt log2 N)'],
  'signing-alg': ['ALG', 'EdDSA | ES256 | RS256'],
  'signing-key-activation': ['S', '60'],
  'max-token-ttl': ['S', '86400'],
  'access-token-ttl': ['S', '900'],
  'refresh-token-absolute': ['S', '2592000'],
  'refresh-token-idle': ['S', '604800'],
  'login-session': ['S', '86400'],
  'revocation-stream-max-connections': ['N', '1000'],
  detection: ['on|off', 'on'],
  'detection-alert-threshold': ['N', '10'],
  'detection-block-threshold': ['N', '100'],
  'detection-window': ['S', '60'],
  'detection-block-duration': ['S', '900'],
  'detection-allow-list': ['LIST', 'empty: networks (CIDR) never blocked'],
  'detection-learning-period': ['S', '604800'],
  'detection-rate-spike-factor': ['N', '10'],
  'detection-unknown-token-limit': ['N', '100'],
  'login-delay-max': ['MS', '4000; 0 turns the login slow-down off'],
  'metrics-port': ['N', 'unset: GET /metrics on the API port only, scope metrics:read'],
  'webhooks-allow-insecure': ['BOOL', 'false; true allows http and any address (development only)'],
  'webhooks-retry-window': ['S', '86400'],
  'webhooks-disable-after': ['S', '432000'],
  'webhooks-timeout': ['S', '10'],
  'webhooks-concurrency': ['N', '50'],
  'tls-port': ['N', 'unset: no mTLS listener'],
  'tls-cert': ['FILE', 'unset: a CA-issued localhost certificate'],
  'tls-key': ['FILE', 'unset: with --tls-cert'],
  'mtls-url': ['URL', 'https://<host>:<TLS port>'],
  'mtls-trust-domain': ['DOMAIN', "the issuer's host"],
  'certificate-max-ttl': ['S', '604800'],
  'client-cert-header': ['HEADER', 'off | client-cert | x-ssl-client-cert'],
  'client-registration': ['MODE', 'off | token | open'],
  'client-registration-rate-limit': ['LIMIT/S', '10/3600 per address'],
  'client-registration-max-per-address': ['N', '20; 0: no limit'],
  'client-registration-grant-types': ['LIST', 'authorization_code,refresh_token'],
  'dynamic-client-idle-days': ['DAYS', '90; 0: never'],
  'client-id-metadata-documents': ['on|off', 'off; on: https URLs as client_id (Client ID Metadata Documents)'],
  'cimd-allowed-hosts': ['HOSTS', 'empty: any host; else only these (example.com, *.example.com)'],
  'cimd-denied-hosts': ['HOSTS', 'empty'],
  'cimd-allow-loopback': ['BOOL', 'false; true fetches documents from loopback and private addresses (development only)'],
} satisfies Record<keyof ConfigFlags, [arg: string, help: string]>;

export function serverOptionsHelp(flags: ConfigFlags): string {
  const lines = ['Options (each mirrors an environment variable, which it overrides; default in brackets):'];
  for (const [name, flag] of Object.entries(flags) as Array<[keyof ConfigFlags, ConfigFlags[keyof ConfigFlags]]>) {
    const [arg, help] = FLAG_HELP[name];
    lines.push(`  --${name} ${arg}`);
    lines.push(`      ${flag.env}${help ? ` (${help})` : ''}`);
  }
  lines.push('', 'Secrets are read from the environment only: GATEHOUSE_MASTER_KEY, GATEHOUSE_BOOTSTRAP_ADMIN_KEY.');
  lines.push('Every variable and its meaning: docs/configuration.md.');
  return `${lines.join('\n')}\n`;
}
