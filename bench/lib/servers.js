// Starting the processes under test: the Gatehouse server (the built CLI, as users run it) and the
// hello-world Fastify baseline. Both listen on 127.0.0.1 on a port the OS picks.
import { fileURLToPath } from 'node:url';
import { cleanEnv, startNode } from './processes.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GATEHOUSE_BIN = fileURLToPath(new URL('../../packages/server/bin/gatehouse.js', import.meta.url));
const HELLO_SERVER = fileURLToPath(new URL('./hello-server.js', import.meta.url));

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

export async function startHelloServer() {
  const handle = await startNode('hello-server', [HELLO_SERVER], {
    cwd: REPO_ROOT,
    env: cleanEnv({ NODE_ENV: 'production' }),
    ready: /^hello listening on (http:\/\/127\.0\.0\.1:\d+)/,
    timeoutMs: 30_000,
  });
  return { ...handle, url: handle.match[1] };
}

const HASH_LOOKUP_SERVER = fileURLToPath(new URL('./hash-lookup-server.js', import.meta.url));

/** The reference of api-key-verify: a bare Fastify route hashing the key and looking it up in a Map. */
export async function startHashLookupServer(keysFile) {
  const handle = await startNode('hash-lookup', [HASH_LOOKUP_SERVER, keysFile], {
    cwd: REPO_ROOT,
    env: cleanEnv({ NODE_ENV: 'production' }),
    ready: /^hash-lookup listening on (http:\/\/127\.0\.0\.1:\d+)/,
    timeoutMs: 30_000,
  });
  return { ...handle, url: handle.match[1] };
}

const VERIFY_FLOOR_SERVER = fileURLToPath(new URL('./verify-floor-server.js', import.meta.url));

/** The floor of api-key-verify: Gatehouse's verify fast path without its write-behind work, on the same data. */
export async function startVerifyFloorServer(dataDir, keysFile) {
  const handle = await startNode('verify-floor', [VERIFY_FLOOR_SERVER, dataDir, keysFile], {
    cwd: REPO_ROOT,
    env: cleanEnv({ NODE_ENV: 'production' }),
    ready: /^verify-floor listening on (http:\/\/127\.0\.0\.1:\d+)/,
    timeoutMs: 30_000,
  });
  return { ...handle, url: handle.match[1] };
}

const TOKEN_FLOOR_SERVER = fileURLToPath(new URL('./token-floor-server.js', import.meta.url));

/** The required-work floor of token-client-credentials: Gatehouse's token logic on node:http, nothing audited. */
export async function startTokenFloorServer(dataDir, clientId) {
  const handle = await startNode('token-floor', [TOKEN_FLOOR_SERVER, dataDir, clientId], {
    cwd: REPO_ROOT,
    env: cleanEnv({ NODE_ENV: 'production' }),
    ready: /^token-floor listening on (http:\/\/127\.0\.0\.1:\d+)/,
    timeoutMs: 30_000,
  });
  return { ...handle, url: handle.match[1] };
}

const OIDC_PROVIDER_SERVER = fileURLToPath(new URL('./oidc-provider-server.js', import.meta.url));

/**
 * node-oidc-provider (the baseline of token-client-credentials) in its own process; `config` is passed to
 * lib/oidc-provider-server.js as JSON: {clientId, clientSecret, scope, audience, jwk}.
 */
export async function startOidcProvider(config, { nodeArgs = [] } = {}) {
  const handle = await startNode('oidc-provider', [...nodeArgs, OIDC_PROVIDER_SERVER], {
    cwd: REPO_ROOT,
    env: cleanEnv({ NODE_ENV: 'production', OIDC_BENCH_CONFIG: JSON.stringify(config) }),
    ready: /^oidc-provider listening on (http:\/\/127\.0\.0\.1:\d+)/,
    timeoutMs: 30_000,
  });
  return { ...handle, url: handle.match[1] };
}

const SIGN_FLOOR_SERVER = fileURLToPath(new URL('./sign-floor-server.js', import.meta.url));

/** The floor reference of token-client-credentials: Fastify + form parsing + one Ed25519 signature. */
export async function startSignFloorServer() {
  const handle = await startNode('sign-floor', [SIGN_FLOOR_SERVER], {
    cwd: REPO_ROOT,
    env: cleanEnv({ NODE_ENV: 'production' }),
    ready: /^sign-floor listening on (http:\/\/127\.0\.0\.1:\d+)/,
    timeoutMs: 30_000,
  });
  return { ...handle, url: handle.match[1] };
}
