// A reference for the token-client-credentials scenario, in its own process: Gatehouse's own token logic
// (core/oauth: form parsing, client authentication against the client record the server stored, the
// client_credentials grant with its scope and audience checks, the RFC 9068 access token signed by signJwt on
// the thread pool) on a bare node:http server, with what a token endpoint could leave out taken out: no
// Fastify (routing, hooks, reply), no usage count, no audit event (and so no detection and no SQLite write
// behind), no metrics. The signing key is its own Ed25519 key (the server's is encrypted under its master key), which
// costs the same to sign with. Not a competitor and not a configuration users can run: it shows what the
// issue's required per-token work costs on this machine, in the same run as the rest.
//
//   node bench/lib/token-floor-server.js <dataDir> <clientId>
//   prints "token-floor listening on http://127.0.0.1:<port>"
//
// It reads the client from the server's SQLite file (WAL: beside the running server).
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { KeyCache } from '../../packages/server/dist/core/cache/key-cache.js';
import { systemClock } from '../../packages/server/dist/core/clock.js';
import { OAuthError } from '../../packages/server/dist/core/errors.js';
import { authenticateClient } from '../../packages/server/dist/core/oauth/client-auth.js';
import { parseRequestParams } from '../../packages/server/dist/core/oauth/request-params.js';
import { handleTokenRequest } from '../../packages/server/dist/core/oauth/token-request.js';
import { newRequestId } from '../../packages/server/dist/http/request-id.js';
import { SECURITY_HEADERS } from '../../packages/server/dist/http/plugins/security-headers.js';
import { firstValues } from '../../packages/server/dist/http/routes/oauth/form-body.js';
import { createSqlStores } from '../../packages/server/dist/storage/sql/create-sql-stores.js';
import { openServerDatabase } from './open-server-database.js';

const [dataDir, clientId] = process.argv.slice(2);
if (!dataDir || !clientId) {
  console.error('usage: node bench/lib/token-floor-server.js <dataDir> <clientId>');
  process.exit(2);
}

const database = openServerDatabase(dataDir);
const stores = createSqlStores(database);
const clock = systemClock;
const clientCache = new KeyCache({ load: (id) => stores.clients.findById(id), clock, ttlMs: 3_600_000, maxEntries: 100_000 });
if (!(await clientCache.get(clientId))) throw new Error(`no client ${clientId} in ${dataDir}`);
const clients = { lookup: (id) => clientCache.get(id) };
// RFC 8707 resources, as the server looks them up (the audience of a client_credentials token): remembered, misses too.
const resources = new Map();
async function findResource(identifier) {
  if (!resources.has(identifier)) resources.set(identifier, await stores.resources.findByIdentifier(identifier));
  return resources.get(identifier);
}
const signingKey = { kid: 'sig_token_floor', alg: 'EdDSA', privateKey: generateKeyPairSync('ed25519').privateKey };
const unused = () => {
  throw new Error('not used by client_credentials');
};
let issuer = 'http://127.0.0.1';
const deps = {
  clock,
  issuer: () => issuer,
  policy: { accessTokenTtlSeconds: 900, maxTokenTtlSeconds: 3600 },
  signingKey: () => signingKey,
  audit: () => {},
  recordSuccess: () => {},
  findClient: unused,
  findResource,
  findUser: unused,
  verifyAccessToken: unused,
};
const baseHeaders = [...Object.entries(SECURITY_HEADERS).flat(), 'pragma', 'no-cache'];

function answer(response, status, body, requestId) {
  const text = JSON.stringify(body);
  const headers = ['x-request-id', requestId, ...baseHeaders, 'content-type', 'application/json; charset=utf-8', 'content-length', String(Buffer.byteLength(text))];
  response.writeHead(status, headers);
  response.end(text);
}

async function token(request, text, requestId) {
  const params = parseRequestParams(text);
  if (params instanceof OAuthError) return [400, { error: params.code }];
  const auth = await authenticateClient({ authorization: request.headers.authorization, body: firstValues(params) }, { clients, clock });
  if (!auth.ok) return [401, { error: auth.error }];
  const origin = { ip: request.socket.remoteAddress ?? null, userAgent: request.headers['user-agent'] ?? null, route: 'POST /oauth/token', requestId };
  try {
    return [200, await handleTokenRequest(deps, { client: auth.client, params, origin })];
  } catch (error) {
    if (error instanceof OAuthError) return [400, { error: error.code }];
    throw error;
  }
}

const server = createServer((request, response) => {
  const requestId = newRequestId();
  if (request.method !== 'POST' || request.url !== '/token' || request.headers['content-type'] !== 'application/x-www-form-urlencoded') {
    answer(response, 404, { error: 'not_found' }, requestId);
    return;
  }
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    token(request, Buffer.concat(chunks).toString('utf8'), requestId).then(
      ([status, body]) => answer(response, status, body, requestId),
      () => answer(response, 500, { error: 'server_error' }, requestId),
    );
  });
});
server.listen(0, '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  process.stdout.write(`token-floor listening on ${issuer}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => database.close().then(() => process.exit(0), () => process.exit(1))));
}
