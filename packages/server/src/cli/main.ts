import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiError, ConnectionError, MissingAdminKeyError } from './admin-api.js';
import { closest, runGroup, UsageError, unknownHint, type CommandGroup } from './command.js';
import { auditGroup } from './commands/audit.js';
import { blocksGroup } from './commands/blocks.js';
import { certificatesGroup } from './commands/certificates.js';
import { clientsGroup } from './commands/clients.js';
import { registrationTokensGroup } from './commands/registration-tokens.js';
import { resourcesGroup } from './commands/resources.js';
import { keysGroup } from './commands/keys.js';
import { signingKeysGroup } from './commands/signing-keys.js';
import { usersGroup } from './commands/users.js';
import { webhooksGroup } from './commands/webhooks.js';
import { serverOptionsHelp } from './server-options-help.js';

// The server, its storage and the scanner are imported when a command needs them, so that the admin commands (HTTP
// calls) start quickly.
const loadConfigModule = () => import('../config/load-config.js');

const GROUPS: CommandGroup[] = [keysGroup, clientsGroup, registrationTokensGroup, resourcesGroup, usersGroup, webhooksGroup, certificatesGroup, blocksGroup, signingKeysGroup, auditGroup];

const USAGE = `Usage: gatehouse <command> [options]

Running the server (where it runs, with its data and master key):
  start                 Start the server (migrates the database first); gatehouse start --help lists every option
  migrate               Bring the database schema up to date and exit (embedded mode: not while a server
                        runs on the data directory; start migrates by itself)
  admin recover         Create a new root admin key (admin, no tenant) and print it once, for when every admin
                        key is lost; run it where the server runs, with its data and master key (on SQLite,
                        stop the server first)
  ca init               Create the built-in certificate authority (mTLS) if there is none; print its PEM bundle
  keys generate [--test]
                        Print a new, well-formed key (for GATEHOUSE_BOOTSTRAP_ADMIN_KEY); stores nothing

Administering a running server (--server URL or GATEHOUSE_URL, default http://127.0.0.1:4000; the admin key in
GATEHOUSE_ADMIN_KEY, never a flag; --json prints the API's JSON as is):
${GROUPS.map((g) => `  ${g.name.padEnd(20)}  ${g.commands.filter((c) => c.remote !== false).map((c) => c.name).join(', ')}`).join('\n')}

Other:
  scan [paths...] [--git] [--all-formats] [--json] [--server URL] [--revoke]
                        Find Gatehouse keys (and other secrets) in files and git history;
                        gatehouse scan --help for details
  cert renew --cert FILE --key FILE --server URL [--ca FILE] [--force]
                        Renew a Gatehouse client certificate once 2/3 of its lifetime has passed: over mTLS with
                        the current certificate, or with an admin key in GATEHOUSE_ADMIN_KEY (certificates:write);
                        a new key is generated here and each file is replaced by an atomic rename (give
                        --cert and --key the same FILE to keep both in one file, replaced at once)
  --version             Print the version

gatehouse <command> --help lists the options of a command. Documentation: docs/cli.md.
`;

const SERVER_COMMANDS: Record<string, string> = {
  start: 'Start the server (migrates the database first).',
  migrate: 'Bring the database schema up to date and exit.',
  'admin recover': 'Create a new root admin key (admin, no tenant) and print it once.',
  'ca init': 'Create the built-in certificate authority (mTLS) if there is none; print its PEM bundle.',
};

/** `gatehouse start --help` and the like: every server flag, from load-config's list. */
async function printServerHelp(command: string): Promise<void> {
  const { CONFIG_FLAGS } = await loadConfigModule();
  process.stdout.write(`Usage: gatehouse ${command} [options]\n\n${SERVER_COMMANDS[command]}\n\n${serverOptionsHelp(CONFIG_FLAGS)}`);
}

function version(): string {
  // dist/cli/main.js and src/cli/main.ts are both two levels below the package root.
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

async function start(argv: string[]): Promise<void> {
  const { loadConfig } = await loadConfigModule();
  const { startServer } = await import('../main.js');
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
  const { loadConfig } = await loadConfigModule();
  const { openDatabase } = await import('../storage/sql/database.js');
  const { migrateToLatest } = await import('../storage/sql/migrate.js');
  const config = loadConfig(process.env, argv);
  const database = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    const applied = await migrateToLatest(database);
    process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Schema is up to date.\n');
  } finally {
    await database.close();
  }
}

/** `gatehouse ca init`: idempotent; of several processes doing it at once, one creates the root. */
async function caInit(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub !== 'init') throw unknownHint('command', `ca ${sub ?? ''}`.trim(), ['ca init'], 'gatehouse --help');
  const { loadConfig } = await loadConfigModule();
  const { createServices } = await import('../main.js');
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
  if (sub !== 'renew') throw unknownHint('command', `cert ${sub ?? ''}`.trim(), ['cert renew'], 'gatehouse --help');
  const { renewCertificateFiles } = await import('./renew-certificate-files.js');
  const { values } = parseArgs({
    args: rest,
    options: { cert: { type: 'string' }, key: { type: 'string' }, server: { type: 'string' }, ca: { type: 'string' }, force: { type: 'boolean' } },
  });
  if (!values.cert || !values.key || !values.server) throw new UsageError('cert renew needs --cert, --key and --server', 'gatehouse --help');
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


const TOP_LEVEL = ['start', 'migrate', 'scan', 'ca', 'admin', 'cert', 'help', ...GROUPS.map((g) => g.name)];

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    if (command === '--version' || command === '-v' || command === 'version') {
      process.stdout.write(`${version()}\n`);
      return;
    }
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      process.stdout.write(USAGE);
      return;
    }
    const wantsHelp = rest.includes('--help') || rest.includes('-h');
    if (command === 'start' || command === 'migrate') {
      if (wantsHelp) return await printServerHelp(command);
      return command === 'start' ? await start(rest) : await migrate(rest);
    }
    if (command === 'scan') {
      const { scan } = await import('./scan.js');
      process.exitCode = await scan(rest);
      return;
    }
    if (command === 'ca') {
      if (rest[0] === 'init' && wantsHelp) return await printServerHelp('ca init');
      return await caInit(rest);
    }
    if (command === 'admin') {
      const [sub, ...options] = rest;
      if (sub !== 'recover') throw unknownHint('command', `admin ${sub ?? ''}`.trim(), ['admin recover'], 'gatehouse --help');
      if (wantsHelp) return await printServerHelp('admin recover');
      const { adminRecover } = await import('./admin-recover.js');
      return await adminRecover(options);
    }
    if (command === 'cert') {
      if (wantsHelp) {
        process.stdout.write(USAGE.slice(USAGE.indexOf('  cert renew'), USAGE.indexOf('  --version')));
        return;
      }
      return await cert(rest);
    }
    const group = GROUPS.find((g) => g.name === command);
    if (group) return await runGroup(group, rest);
    if (command.startsWith('-')) throw unknownHint('option', command, ['--help', '--version'], 'gatehouse --help');
    throw unknownHint('command', command, TOP_LEVEL, 'gatehouse --help');
  } catch (error) {
    await fail(error, command ?? '');
  }
}

async function fail(error: unknown, command: string): Promise<never> {
  const err = error as Error & { code?: string };
  if (error instanceof UsageError) {
    process.stderr.write(`gatehouse: ${err.message}${/[.?!]$/.test(err.message) ? '' : '.'} See ${error.helpCommand}\n`);
    process.exit(2);
  }
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    // An unknown flag of start, migrate, admin recover or ca init (parsed by load-config): one line with a hint.
    const given = err.message.match(/'(-[^']*)'/)?.[1] ?? err.message;
    const helpCommand = `gatehouse ${command === 'admin' ? 'admin recover' : command === 'ca' ? 'ca init' : command} --help`;
    const { CONFIG_FLAGS } = await loadConfigModule();
    const suggestion = closest(given, Object.keys(CONFIG_FLAGS).map((name) => `--${name}`));
    process.stderr.write(`gatehouse: unknown option "${given}".${suggestion ? ` Did you mean "${suggestion}"?` : ''} See ${helpCommand}\n`);
    process.exit(2);
  }
  if (err.code?.startsWith('ERR_PARSE_ARGS') || err.name === 'ConfigError') {
    process.stderr.write(`gatehouse: ${err.message}\n`);
    process.exit(2);
  }
  if (error instanceof MissingAdminKeyError) {
    process.stderr.write(`gatehouse: ${err.message}\n`);
    process.exit(2);
  }
  if (error instanceof ApiError || error instanceof ConnectionError) {
    process.stderr.write(`gatehouse: ${err.message}\n`);
    process.exit(1);
  }
  // A full disk, a read-only database file, an unreachable PostgreSQL: said so, with the cause below.
  const { isStorageUnavailable } = await import('../storage/is-storage-unavailable.js');
  process.stderr.write(`gatehouse: ${isStorageUnavailable(error) ? 'storage is unavailable: ' : ''}${err.message}\n`);
  if (err.cause) process.stderr.write(`  cause: ${String(err.cause)}\n`);
  process.exit(1);
}
