// Starting the processes under test: the Gatehouse server (the built CLI, as users run it) and the bench's
// baselines and references (lib/*-server.js). All listen on 127.0.0.1 on a port the OS picks.
import { fileURLToPath } from 'node:url';
import { cleanEnv, startNode } from './processes.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GATEHOUSE_BIN = fileURLToPath(new URL('../../packages/server/bin/gatehouse.js', import.meta.url));

/**
 * `gatehouse start` on an embedded SQLite data dir. `nodeArgs` go before the script (e.g. --cpu-prof).
 * Resolves with { url, stop(), ... } once it prints its "listening" line.
 */
export async function startGatehouse({ dataDir, adminKey, nodeArgs = [], env = {} }) {
  const handle = await startNode('gatehouse', [...nodeArgs, GATEHOUSE_BIN, 'start'], {
    cwd: REPO_ROOT,
    env: cleanEnv({
      GATEHOUSE_DATA_DIR: dataDir,
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_PORT: '0',
      GATEHOUSE_LOG_LEVEL: 'warn',
      GATEHOUSE_BOOTSTRAP_ADMIN_KEY: adminKey,
      NODE_ENV: 'production',
      ...env,
    }),
    ready: /^Gatehouse listening on (http:\/\/127\.0\.0\.1:\d+)/,
    timeoutMs: 60_000,
  });
  return { ...handle, url: handle.match[1] };
}

/**
 * One of the bench's server scripts (lib/<script>) in its own process with NODE_ENV=production, ready once it
 * prints "<label> listening on <url>".
 */
async function startScript(label, script, args = [], { env = {}, nodeArgs = [] } = {}) {
  const handle = await startNode(label, [...nodeArgs, fileURLToPath(new URL(script, import.meta.url)), ...args], {
    cwd: REPO_ROOT,
    env: cleanEnv({ NODE_ENV: 'production', ...env }),
    ready: new RegExp(`^${label} listening on (http://127\\.0\\.0\\.1:\\d+)`),
    timeoutMs: 30_000,
  });
  return { ...handle, url: handle.match[1] };
}

/** The baseline of api-key-verify: a hello-world Fastify route. */
export const startHelloServer = () => startScript('hello', './hello-server.js');

/** The reference of api-key-verify: a bare Fastify route hashing the key and looking it up in a Map. */
export const startHashLookupServer = (keysFile) => startScript('hash-lookup', './hash-lookup-server.js', [keysFile]);

/** The floor of api-key-verify: Gatehouse's verify fast path without its write-behind work, on the same data. */
export const startVerifyFloorServer = (dataDir, keysFile) => startScript('verify-floor', './verify-floor-server.js', [dataDir, keysFile]);

/**
 * node-oidc-provider (the baseline of token-client-credentials) in its own process; `config` is passed to
 * lib/oidc-provider-server.js as JSON: {clientId, clientSecret, scope, audience, jwk}.
 */
export const startOidcProvider = (config, { nodeArgs = [] } = {}) =>
  startScript('oidc-provider', './oidc-provider-server.js', [], { env: { OIDC_BENCH_CONFIG: JSON.stringify(config) }, nodeArgs });

/** The floor reference of token-client-credentials: Fastify + form parsing + one Ed25519 signature. */
export const startSignFloorServer = () => startScript('sign-floor', './sign-floor-server.js');

/** The token-logic floor of token-client-credentials: Gatehouse's token logic on node:http, nothing audited. */
export const startTokenFloorServer = (dataDir, clientId) => startScript('token-floor', './token-floor-server.js', [dataDir, clientId]);
