// Scenario: what mTLS costs, measured against plain TLS in the same run.
// 1. Handshakes: new connections to Gatehouse's TLS listener (GATEHOUSE_TLS_PORT), each doing the full handshake
//    and one GET /healthz (`Connection: close`), 16 at a time: with a client certificate (verified by the
//    listener against the CA) versus without one.
// 2. Requests: an SDK-guarded Fastify route over keep-alive HTTPS (lib/mtls-route-server.js, autocannon, the usual
//    50 connections): mTLS with a certificate-bound token (the SDK checks the peer certificate's thumbprint) versus
//    plain TLS with an ordinary bearer token.
// No target is set by the issue: the rows report the ratios.
import { request } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateApiKey } from '../../packages/server/dist/core/api-keys/key-format.js';
import { createRootCertificate, exportPkcs8, generateKeyPair, issueLeafCertificate, newSerialNumber, privateKeyPem } from '../../packages/server/dist/core/ca/x509.js';
import { runLoad } from '../lib/load.js';
import { cleanEnv, makeTempDir, startNode } from '../lib/processes.js';
import { REPO_ROOT, startGatehouse } from '../lib/servers.js';

export const name = 'mtls';
export const description = 'mTLS handshakes (certificate verified) and an SDK-guarded route with a bound token, vs plain TLS';

const AUDIENCE = 'https://api.example.com';
const ROUTE_SERVER = fileURLToPath(new URL('../lib/mtls-route-server.js', import.meta.url));
const HANDSHAKE_CONCURRENCY = 16;

/** One HTTPS request on a fresh connection (no agent). */
function once(url, { method = 'GET', headers = {}, body, tls = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { connection: 'close', ...headers }, agent: false, rejectUnauthorized: false, ...tls }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function json(url, options, expect = 200) {
  const response = options?.tls ? await once(url, options) : await fetch(url, options).then(async (r) => ({ status: r.status, body: await r.text() }));
  if (response.status !== expect) throw new Error(`${url} answered ${response.status} ${response.body.slice(0, 300)}`);
  return JSON.parse(response.body);
}

/** Full handshakes per second (plus one tiny request each), `concurrency` at a time, for `seconds`. */
async function handshakes(url, tls, seconds) {
  let done = 0;
  const until = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < until) {
      const response = await once(`${url}/healthz`, { tls });
      if (response.status !== 200) throw new Error(`handshake run: ${response.status}`);
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: HANDSHAKE_CONCURRENCY }, worker));
  return done / ((performance.now() - started) / 1000);
}

/** A throwaway server certificate for the route servers (the load generator does not verify it). */
async function serverCertificate() {
  const rootKeys = await generateKeyPair();
  const now = Date.now();
  const rootPem = await createRootCertificate({ keys: rootKeys, commonName: 'bench', serialNumber: newSerialNumber(), notBefore: now - 60_000, notAfter: now + 86_400_000 });
  const keys = await generateKeyPair();
  const leaf = await issueLeafCertificate({
    issuer: { certificatePem: rootPem, privateKey: rootKeys.privateKey },
    publicKey: keys.publicKey,
    serialNumber: newSerialNumber(),
    commonName: 'localhost',
    notBefore: now - 60_000,
    notAfter: now + 86_400_000,
    usage: 'server',
    ipAddresses: ['127.0.0.1'],
  });
  return { cert: leaf.pem, key: privateKeyPem(await exportPkcs8(keys.privateKey)) };
}

export async function run(ctx) {
  const { log } = ctx;
  const adminKey = generateApiKey('live').key;
  const gatehouse = await startGatehouse({ dataDir: join(makeTempDir('gatehouse-bench-mtls-'), 'data'), adminKey, env: { GATEHOUSE_TLS_PORT: '0' } });
  const issuer = gatehouse.url;
  const admin = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
  const metadata = await json(`${issuer}/.well-known/oauth-authorization-server`);
  const tlsUrl = new URL(metadata.mtls_endpoint_aliases.token_endpoint).origin;

  // A tls_client_auth client, its certificate, and a bound token; a secret client and an ordinary token.
  const post = (path, body) => json(`${issuer}${path}`, { method: 'POST', headers: admin, body: JSON.stringify(body) }, 201);
  const mtlsClient = await post('/v1/clients', {
    name: 'bench mtls', grantTypes: ['client_credentials'], scopes: ['read'], audiences: [AUDIENCE],
    tokenEndpointAuthMethod: 'tls_client_auth', tlsClientAuthSubjectDn: 'CN=placeholder',
  });
  const issued = await post('/v1/certificates', { clientId: mtlsClient.clientId });
  await json(`${issuer}/v1/clients/${mtlsClient.clientId}`, { method: 'PATCH', headers: admin, body: JSON.stringify({ tlsClientAuthSanUri: issued.sanUri }) });
  const clientTls = { cert: issued.certificatePem, key: issued.privateKeyPem };
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const bound = await json(`${tlsUrl}/oauth/token`, { method: 'POST', headers: form, body: `grant_type=client_credentials&client_id=${mtlsClient.clientId}`, tls: clientTls });
  const secretClient = await post('/v1/clients', { name: 'bench tls', grantTypes: ['client_credentials'], scopes: ['read'], audiences: [AUDIENCE], tokenEndpointAuthMethod: 'client_secret_post' });
  const plain = await json(`${issuer}/oauth/token`, {
    method: 'POST', headers: form,
    body: `grant_type=client_credentials&client_id=${secretClient.clientId}&client_secret=${encodeURIComponent(secretClient.clientSecret)}`,
  });

  const config = { issuer, audience: AUDIENCE, ...(await serverCertificate()) };
  const start = async (mode) => {
    const handle = await startNode(`mtls-route-${mode}`, [ROUTE_SERVER, mode], {
      cwd: REPO_ROOT,
      env: cleanEnv({ NODE_ENV: 'production', MTLS_BENCH_CONFIG: JSON.stringify(config) }),
      ready: /^mtls-route \((\w+)\) listening on (https:\/\/127\.0\.0\.1:\d+)/,
    });
    return { ...handle, url: handle.match[2] };
  };
  const routes = { tls: await start('tls'), mtls: await start('mtls') };
  const subjects = {
    tls: { server: routes.tls, token: plain.access_token, tlsOptions: undefined },
    mtls: { server: routes.mtls, token: bound.access_token, tlsOptions: clientTls },
  };
  // Preflight: each route answers its token; the mTLS route refuses the bound token without the certificate.
  for (const [which, s] of Object.entries(subjects)) {
    const r = await once(`${s.server.url}/resource`, { headers: { authorization: `Bearer ${s.token}` }, tls: s.tlsOptions ?? {} });
    if (r.status !== 200) throw new Error(`preflight ${which}: ${r.status} ${r.body}`);
  }
  const stolen = await once(`${routes.mtls.url}/resource`, { headers: { authorization: `Bearer ${bound.access_token}` } });
  if (stolen.status !== 401) throw new Error(`preflight: a bound token without its certificate got ${stolen.status}`);

  const ok = (body) => body === '{"ok":true}';
  const load = (which, duration, title) =>
    runLoad({
      url: subjects[which].server.url,
      serverPid: subjects[which].server.child.pid,
      requests: [{ method: 'GET', path: '/resource', headers: { authorization: `Bearer ${subjects[which].token}` } }],
      verifyBody: ok,
      duration,
      title,
      connections: ctx.connections,
      tlsOptions: subjects[which].tlsOptions,
    });

  if (ctx.warmup > 0) {
    log(`warm-up: ${ctx.warmup} s each, discarded`);
    await handshakes(tlsUrl, {}, ctx.warmup);
    await handshakes(tlsUrl, clientTls, ctx.warmup);
    for (const which of ['tls', 'mtls']) await load(which, ctx.warmup, `${which} warm-up`);
  }
  const rounds = { hsTls: [], hsMtls: [], tls: [], mtls: [] };
  for (let round = 1; round <= ctx.rounds; round++) {
    log(`round ${round}/${ctx.rounds}: handshakes, ${ctx.duration} s each ...`);
    rounds.hsTls.push(await handshakes(tlsUrl, {}, ctx.duration));
    rounds.hsMtls.push(await handshakes(tlsUrl, clientTls, ctx.duration));
    for (const which of ['tls', 'mtls']) {
      log(`round ${round}/${ctx.rounds}: ${which} requests, ${ctx.duration} s ...`);
      rounds[which].push(await load(which, ctx.duration, `${which} round ${round}`));
    }
  }
  await Promise.all([routes.tls.stop(), routes.mtls.stop(), gatehouse.stop()]);

  const median = (list) => [...list].sort((a, b) => a - b)[(list.length - 1) >> 1];
  const middle = (list) => [...list].sort((a, b) => a.reqPerSec - b.reqPerSec)[(list.length - 1) >> 1];
  const hsTls = median(rounds.hsTls);
  const hsMtls = median(rounds.hsMtls);
  const tls = middle(rounds.tls);
  const mtls = middle(rounds.mtls);
  const rows = [
    { scenario: 'TLS handshake + GET /healthz (baseline)', reqPerSec: hsTls, p50: null, p99: null, ratio: 1, target: null, result: 'baseline' },
    { scenario: 'mTLS handshake + GET /healthz, cert verified', reqPerSec: hsMtls, p50: null, p99: null, ratio: hsMtls / hsTls, target: null, result: 'report' },
    { scenario: 'SDK-guarded route, TLS, bearer (baseline)', reqPerSec: tls.reqPerSec, p50: tls.p50, p99: tls.p99, ratio: 1, target: null, result: 'baseline' },
    { scenario: 'same route, mTLS, certificate-bound token', reqPerSec: mtls.reqPerSec, p50: mtls.p50, p99: mtls.p99, ratio: mtls.reqPerSec / tls.reqPerSec, target: null, result: 'report' },
  ];
  const notes = [
    `mtls: handshakes = new connections to Gatehouse's TLS listener, ${HANDSHAKE_CONCURRENCY} at a time, each with one GET /healthz ` +
      `(the mTLS ones present an ECDSA P-256 client certificate the listener verifies); requests = keep-alive, ${ctx.connections} connections. ` +
      `Median of ${ctx.rounds} rounds, ${ctx.duration} s each.`,
    `  handshakes/s per round: TLS ${rounds.hsTls.map(Math.round).join(', ')}; mTLS ${rounds.hsMtls.map(Math.round).join(', ')}`,
    `  requests/s per round: TLS ${rounds.tls.map((r) => Math.round(r.reqPerSec)).join(', ')}; mTLS ${rounds.mtls.map((r) => Math.round(r.reqPerSec)).join(', ')}`,
  ];
  return { rows, notes };
}
