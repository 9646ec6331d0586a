import { parseArgs } from 'node:util';
import { generateApiKey } from '../core/api-keys/key-format.js';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { scan } from './scan.js';
import { adminRecover } from './admin-recover.js';
import { createServices, startServer } from '../main.js';
import { renewCertificateFiles } from './renew-certificate-files.js';
import { openDatabase } from '../storage/sql/database.js';
import { migrateToLatest } from '../storage/sql/migrate.js';
import { isStorageUnavailable } from '../storage/is-storage-unavailable.js';

const USAGE = `Usage: gatehouse <command> [options]

Commands:
  start                 Start the server (migrates the database first)
  migrate               Bring the database schema up to date and exit (embedded mode: not while a server
                        runs on the data directory; start migrates by itself)
  keys generate [--test]
                        Print a new, well-formed key (for GATEHOUSE_BOOTSTRAP_ADMIN_KEY); stores nothing
  scan [paths...] [--git] [--all-formats] [--json] [--server URL] [--revoke]
                        Find Gatehouse keys (and other secrets) in files and git history;
                        gatehouse scan --help for details
  admin recover         Create a new root admin key (admin, no tenant) and print it once, for when every admin
                        key is lost; run it where the server runs, with its data and master key (on SQLite,
                        stop the server first)
  ca init               Create the built-in certificate authority (mTLS) if there is none; print its PEM bundle
  cert renew --cert FILE --key FILE --server URL [--ca FILE] [--force]
                        Renew a Gatehouse client certificate once 2/3 of its lifetime has passed: over mTLS with
                        the current certificate, or with an admin key in GATEHOUSE_ADMIN_KEY (certificates:write);
                        a new key is generated here and each file is replaced by an atomic rename (give
                        --cert and --key the same FILE to keep both in one file, replaced at once)

Options for start, migrate and admin recover (each mirrors an environment variable):
  --port N              GATEHOUSE_PORT (4000)
  --host ADDR           GATEHOUSE_HOST (127.0.0.1)
  --data-dir DIR        GATEHOUSE_DATA_DIR (./data)
  --database-url URL    GATEHOUSE_DATABASE_URL (unset: SQLite in the data dir)
  --redis-url URL       GATEHOUSE_REDIS_URL (unset: in-memory)
  --redis-timeout MS    GATEHOUSE_REDIS_TIMEOUT_MS (500)
  --revocation-poll S   GATEHOUSE_REVOCATION_POLL_SECONDS (5; cluster mode)
  --issuer URL          GATEHOUSE_ISSUER (http://<host>:<listening port>)
  --trust-proxy LIST    GATEHOUSE_TRUST_PROXY (off)
  --log-level LEVEL     GATEHOUSE_LOG_LEVEL (info)
  --management-rate-limit N/S
                        GATEHOUSE_MANAGEMENT_RATE_LIMIT (1000/60)
  --key-cache-ttl S     GATEHOUSE_KEY_CACHE_TTL_SECONDS (300)
  --signing-alg ALG     GATEHOUSE_SIGNING_ALG (EdDSA | ES256 | RS256)
  --signing-key-activation S
                        GATEHOUSE_SIGNING_KEY_ACTIVATION_SECONDS (60)
  --max-token-ttl S     GATEHOUSE_MAX_TOKEN_TTL_SECONDS (86400)
  --metrics-port N      GATEHOUSE_METRICS_PORT (unset: GET /metrics on the API port only, scope metrics:read)
  --tls-port N          GATEHOUSE_TLS_PORT (unset: no mTLS listener)
  --tls-cert FILE, --tls-key FILE
                        GATEHOUSE_TLS_CERT / GATEHOUSE_TLS_KEY (unset: a CA-issued localhost certificate)
  --mtls-url URL        GATEHOUSE_MTLS_URL (https://<host>:<TLS port>)
  --mtls-trust-domain D GATEHOUSE_MTLS_TRUST_DOMAIN (the issuer's host)
  --certificate-max-ttl S
                        GATEHOUSE_CERTIFICATE_MAX_TTL_SECONDS (604800)
  --client-cert-header H
                        GATEHOUSE_CLIENT_CERT_HEADER (off | client-cert | x-ssl-client-cert)
Secrets are read from the environment only: GATEHOUSE_MASTER_KEY, GATEHOUSE_BOOTSTRAP_ADMIN_KEY.
`;

async function start(argv: string[]): Promise<void> {
  const config = loadConfig(process.env, argv);
  const server = await startServer(config, {
    beforeListen(bootstrap) {
      if (!bootstrap.created || !bootstrap.generatedKey) return;
      // Printed once, straight to the terminal and never through the logger: it is not stored anywhere. Before
      // any port is bound, so it is on the terminal before the server answers anything.
      process.stdout.write(
        `\nRoot admin key (shown once; store it now, it cannot be recovered):\n\n  ${bootstrap.generatedKey}\n\n`,
      );
    },
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('shutdown failed', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (server.metricsUrl) process.stdout.write(`Metrics on ${server.metricsUrl}\n`);
  // Announced only once the signal handlers are in place: a SIGTERM right after this line shuts down gracefully.
  if (server.tls) process.stdout.write(`Gatehouse mTLS listener on ${server.tls.url}\n`);
  process.stdout.write(`Gatehouse listening on ${server.url} (issuer ${config.issuer})\n`);
}

async function migrate(argv: string[]): Promise<void> {
  const config = loadConfig(process.env, argv);
  const database = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    const applied = await migrateToLatest(database);
    process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Schema is up to date.\n');
  } finally {
    await database.close();
  }
}

function keys(argv: string[]): void {
  const [sub, ...rest] = argv;
  if (sub !== 'generate') throw new UsageError(`unknown keys command: ${sub ?? '(none)'}`);
  const { values } = parseArgs({ args: rest, options: { test: { type: 'boolean' } } });
  process.stdout.write(`${generateApiKey(values.test ? 'test' : 'live').key}\n`);
}

/** `gatehouse ca init`: idempotent; of several processes doing it at once, one creates the root. */
async function caInit(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub !== 'init') throw new UsageError(`unknown ca command: ${sub ?? '(none)'}`);
  const config = loadConfig(process.env, rest);
  const services = await createServices(config);
  try {
    const created = await services.ca.init();
    process.stderr.write(created ? 'Certificate authority created.\n' : 'Certificate authority already initialised.\n');
    process.stdout.write(services.ca.bundlePem());
  } finally {
    await services.close();
  }
}

async function cert(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub !== 'renew') throw new UsageError(`unknown cert command: ${sub ?? '(none)'}`);
  const { values } = parseArgs({
    args: rest,
    options: { cert: { type: 'string' }, key: { type: 'string' }, server: { type: 'string' }, ca: { type: 'string' }, force: { type: 'boolean' } },
  });
  if (!values.cert || !values.key || !values.server) throw new UsageError('cert renew needs --cert, --key and --server');
  const outcome = await renewCertificateFiles({
    certFile: values.cert,
    keyFile: values.key,
    serverUrl: values.server,
    caFile: values.ca,
    adminKey: process.env.GATEHOUSE_ADMIN_KEY?.trim() || undefined,
    force: values.force ?? false,
  });
  process.stdout.write(
    outcome.renewed
      ? `Renewed: serial ${outcome.serialNumber}, valid until ${new Date(outcome.notAfter).toISOString()}\n`
      : `Not due: renews after ${new Date(outcome.renewAt).toISOString()} (2/3 of the lifetime)\n`,
  );
}

class UsageError extends Error {}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    if (command === 'start') return await start(rest);
    if (command === 'migrate') return await migrate(rest);
    if (command === 'keys') return keys(rest);
    if (command === 'scan') {
      process.exitCode = await scan(rest);
      return;
    }
    if (command === 'ca') return await caInit(rest);
    if (command === 'admin') {
      const [sub, ...options] = rest;
      if (sub !== 'recover') throw new UsageError(`unknown admin command: ${sub ?? '(none)'}`);
      return await adminRecover(options);
    }
    if (command === 'cert') return await cert(rest);
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      process.stdout.write(USAGE);
      return;
    }
    throw new UsageError(`unknown command: ${command}`);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`gatehouse: ${(error as Error).message}\n${error instanceof UsageError ? USAGE : ''}`);
      process.exit(2);
    }
    // A full disk, a read-only database file, an unreachable PostgreSQL: said so, with the cause below.
    const storage = isStorageUnavailable(error) ? 'storage is unavailable: ' : '';
    process.stderr.write(`gatehouse: ${storage}${(error as Error).message}\n`);
    if ((error as Error).cause) process.stderr.write(`  cause: ${String((error as Error).cause)}\n`);
    process.exit(1);
  }
}
