// Scenario: OAuth 2.0 client-credentials token issuance, POST /oauth/token on Gatehouse (embedded SQLite, EdDSA)
// against node-oidc-provider (in-memory adapter, JWT access tokens signed EdDSA) in a separate process, under
// the same load (autocannon, same connections, keep-alive, loopback), alternating rounds, and against its
// token-logic floor: Gatehouse's token logic without Fastify, usage counting or audit (lib/token-floor-server.js).
// Target: Gatehouse throughput >= 0.85x the token-logic floor's (issue 16); issue 3's target, >= 3x
// node-oidc-provider's, is reported in the notes. The cheapest Fastify token endpoint (lib/sign-floor-server.js)
// runs beside them as a reference. Also prints Ed25519 signing throughput in one process: node:crypto sign()
// (signJwt) vs jose's SignJWT.
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { generateApiKey } from '../../packages/server/dist/core/api-keys/key-format.js';
import { waitForQuiet } from '../lib/cpu.js';
import { runLoad } from '../lib/load.js';
import { makeTempDir, runNode } from '../lib/processes.js';
import { summarizeProfile } from '../lib/profile-summary.js';
import { REPO_ROOT, startGatehouse, startOidcProvider, startSignFloorServer, startTokenFloorServer } from '../lib/servers.js';
import { describeSigning } from './sign-jwt.js';

export const name = 'token-client-credentials';
export const description = 'POST /oauth/token grant_type=client_credentials (EdDSA JWT) vs its token-logic floor and node-oidc-provider';

const TARGET_RATIO = 0.85;
/** Issue 3's target, against node-oidc-provider: reported in the notes. */
const PROVIDER_TARGET_RATIO = 3;
const NOISY_CORES = 0.15;
const SCOPE = 'read write';
const AUDIENCE = 'https://api.example.com';
const SIGN_JWT_SCRIPT = fileURLToPath(new URL('./sign-jwt.js', import.meta.url));

/**
 * @param {object} ctx  settings from run.js: duration, warmup, rounds, connections, settleMs, quietWait,
 *                      profile (boolean), log(text)
 * @returns {Promise<{rows: object[], notes: string[]}>}
 */
export async function run(ctx) {
  const { log } = ctx;
  const dir = makeTempDir('gatehouse-bench-token-');
  const dataDir = join(dir, 'data');
  const adminKey = generateApiKey('live').key;

  let gatehouse = await startGatehouse({ dataDir, adminKey, env: { GATEHOUSE_SIGNING_ALG: 'EdDSA' } });
  const client = await createClient(gatehouse.url, adminKey);
  // node-oidc-provider gets the same client id and secret, so both servers receive byte-identical requests
  // apart from the path.
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-ed25519' };
  const provider = await startOidcProvider({ clientId: client.clientId, clientSecret: client.clientSecret, scope: SCOPE, audience: AUDIENCE, jwk });
  const floor = await startSignFloorServer();
  const required = await startTokenFloorServer(dataDir, client.clientId);
  log(
    `gatehouse at ${gatehouse.url} (pid ${gatehouse.child.pid}), node-oidc-provider ${providerVersion()} at ${provider.url} ` +
      `(pid ${provider.child.pid}), sign-floor at ${floor.url}, token-floor at ${required.url}`,
  );

  const basic = Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64');
  const headers = { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' };
  const body = `grant_type=client_credentials&scope=${encodeURIComponent(SCOPE)}`;
  const subjects = {
    provider: { label: `node-oidc-provider ${providerVersion()} POST /token`, url: provider.url, pid: provider.child.pid, path: '/token', jwks: '/jwks' },
    gatehouse: { label: 'Gatehouse POST /oauth/token', url: gatehouse.url, pid: gatehouse.child.pid, path: '/oauth/token', jwks: '/.well-known/jwks.json' },
    floor: { label: 'Fastify + form + signJwt only (floor)', url: floor.url, pid: floor.child.pid, path: '/token' },
    required: { label: 'token logic on node:http, no audit (floor)', url: required.url, pid: required.child.pid, path: '/token' },
  };
  const order = ['provider', 'gatehouse', 'floor', 'required'];
  // Both answer {"access_token":"eyJ... (checked on every response; the preflight checks the rest).
  const tokenOk = (text) => text.startsWith('{"access_token":"eyJ');

  for (const subject of [subjects.provider, subjects.gatehouse]) {
    subject.sample = await preflight({ subject, headers, body, clientId: client.clientId });
    log(`preflight ${subject.label}: 200, JWT verified by jose against ${subject.jwks} (${subject.sample})`);
  }
  for (const which of ['floor', 'required']) {
    const check = await fetch(`${subjects[which].url}/token`, { method: 'POST', headers, body });
    if (check.status !== 200 || !tokenOk(await check.text())) throw new Error(`preflight ${which}: ${check.status}`);
  }

  const load = (which, duration, title) =>
    runLoad({
      url: subjects[which].url,
      serverPid: subjects[which].pid,
      requests: [{ method: 'POST', path: subjects[which].path, headers, body }],
      verifyBody: tokenOk,
      duration,
      title,
      connections: ctx.connections,
    });
  const settle = () => new Promise((resolve) => setTimeout(resolve, ctx.settleMs));
  const quiet = async () => {
    await settle();
    if (ctx.quietWait <= 0) return;
    const sample = await waitForQuiet({
      pids: order.map((which) => subjects[which].pid),
      threshold: NOISY_CORES,
      maxSeconds: ctx.quietWait,
      onWait: (other) => log(`  other processes are using ${other.toFixed(2)} cores; waiting up to ${ctx.quietWait} s for quiet`),
    });
    if (sample.waited) log(`  ${sample.other <= NOISY_CORES ? 'quiet now' : 'still busy, running anyway'}`);
  };

  if (ctx.warmup > 0) {
    log(`warm-up: ${ctx.warmup} s each, discarded`);
    for (const which of order) {
      await load(which, ctx.warmup, `${which} warm-up`);
      await settle();
    }
  }

  const runs = { provider: [], gatehouse: [], floor: [], required: [] };
  for (let round = 1; round <= ctx.rounds; round++) {
    for (const which of order) {
      await quiet();
      log(`round ${round}/${ctx.rounds}: ${which}, ${ctx.duration} s ...`);
      const result = await load(which, ctx.duration, `${which} round ${round}`);
      runs[which].push(result);
      log(`  ${describe(result)}`);
    }
  }

  // The table shows the median round of each (by req/s); the ratios are of the medians, against the token-logic
  // floor. The spread is below.
  const baseline = medianRun(runs.required);
  const subject = medianRun(runs.gatehouse);
  const providerMedian = medianRun(runs.provider);
  const ratio = subject.reqPerSec / baseline.reqPerSec;
  const providerRatio = subject.reqPerSec / providerMedian.reqPerSec;
  const pairRatios = runs.gatehouse.map((r, i) => r.reqPerSec / runs.required[i].reqPerSec);
  const providerPairRatios = runs.gatehouse.map((r, i) => r.reqPerSec / runs.provider[i].reqPerSec);
  const rows = [
    { scenario: `${subjects.required.label} (baseline)`, ...pick(baseline), ratio: 1, target: null, result: 'baseline' },
    {
      scenario: `${subjects.gatehouse.label} (client_credentials)`,
      ...pick(subject),
      ratio,
      target: `>=${TARGET_RATIO}x floor`,
      result: ratio >= TARGET_RATIO ? 'PASS' : 'MISS',
    },
    ...['provider', 'floor'].map((which) => ({
      scenario: `reference: ${subjects[which].label}`,
      ...pick(medianRun(runs[which])),
      ratio: medianRun(runs[which]).reqPerSec / baseline.reqPerSec,
      target: null,
      result: 'reference',
    })),
  ];
  const range = (list) => `${fmt(Math.min(...list.map((r) => r.reqPerSec)))}..${fmt(Math.max(...list.map((r) => r.reqPerSec)))}`;
  const notes = [
    `token-client-credentials: grant_type=client_credentials, scope "${SCOPE}", client_secret_basic, one confidential client ` +
      `(the same id and secret on both), EdDSA (Ed25519) JWT access tokens (typ at+jwt, aud ${AUDIENCE}); Gatehouse on embedded ` +
      `SQLite (every issuance counted per client and minute, flushed every GATEHOUSE_USAGE_FLUSH_SECONDS), node-oidc-provider with its in-memory adapter. Every response checked; ` +
      `non-2xx responses: ${order.flatMap((which) => runs[which]).reduce((n, r) => n + r.non2xx, 0)}.`,
    `Each row is the median of ${ctx.rounds} alternating round(s) by req/s (p50/p99 from that round); every round ${ctx.duration} s, ` +
      `${ctx.connections} connections, pipelining 1, keep-alive. Spread: node-oidc-provider ${range(runs.provider)} req/s, ` +
      `Gatehouse ${range(runs.gatehouse)} req/s, floor ${range(runs.floor)} req/s, token-logic floor ${range(runs.required)} req/s; ` +
      `the ratios in the table are against the token-logic floor; per-round Gatehouse/token-logic floor ratios ` +
      `${pairRatios.map((r) => `${r.toFixed(2)}x`).join(', ')}.`,
    `Gatehouse / node-oidc-provider (issue 3's target >=${PROVIDER_TARGET_RATIO}x): ${providerRatio.toFixed(2)}x ` +
      `(${providerRatio >= PROVIDER_TARGET_RATIO ? 'PASS' : 'MISS'}); per round ${providerPairRatios.map((r) => `${r.toFixed(2)}x`).join(', ')}.`,
    'The floor rows are references, not competitors. "Fastify + form + signJwt only": Fastify with no logger or hooks, form ' +
      'parsing and one signJwt per request (no client authentication, checks or audit), the cheapest token endpoint on this ' +
      'stack. "token logic on node:http, no audit": Gatehouse\'s own form parsing, client authentication (the stored client, ' +
      'cached), client_credentials grant and access token on a bare node:http server, without Fastify, usage counting, audit ' +
      `event or metrics: what the issue's required per-token work costs. ${TARGET_RATIO}x of it is ` +
      `${fmt(TARGET_RATIO * baseline.reqPerSec)} req/s.`,
    ...order.flatMap((which) => runs[which].map((r) => `  ${r.title.padEnd(18)} ${describe(r)}`)),
  ];
  const noisy = order.flatMap((which) => runs[which]).filter((r) => r.cpu && r.cpu.other > NOISY_CORES);
  if (noisy.length) {
    notes.push(
      `WARNING: other processes used > ${NOISY_CORES} cores during ${noisy.map((r) => r.title).join(', ')}: ` +
        'the machine was not quiet, numbers are noisy (see "other" above).',
    );
  }
  if (ratio < TARGET_RATIO) notes.push(`token-client-credentials MISS: throughput ${ratio.toFixed(2)}x < ${TARGET_RATIO}x the token-logic floor.`);

  await Promise.all([provider.stop(), floor.stop(), required.stop()]);
  if (ctx.profile) {
    await gatehouse.stop();
    gatehouse = null;
    notes.push(...(await profileToken({ ctx, dataDir, adminKey, headers, body, tokenOk })));
  }
  await gatehouse?.stop();

  // Signing alone, both ways, in one process (a child, with nothing else under load).
  log('signing micro-benchmark: signJwt (node:crypto) vs jose SignJWT ...');
  const signing = JSON.parse(
    (await runNode('sign-jwt', [SIGN_JWT_SCRIPT, '--json'], { cwd: REPO_ROOT, env: { ...process.env, SIGN_JWT_SECONDS: '2', SIGN_JWT_ROUNDS: '3' } }))
      .trim()
      .split('\n')
      .pop(),
  );
  notes.push(...describeSigning(signing));
  return { rows, notes };
}

function providerVersion() {
  try {
    return JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules/oidc-provider/package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

/** A confidential client_credentials client, created as an operator would: through the admin API. */
async function createClient(url, adminKey) {
  const response = await fetch(`${url}/v1/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'bench client',
      grantTypes: ['client_credentials'],
      scopes: SCOPE.split(' '),
      tokenEndpointAuthMethod: 'client_secret_basic',
      audiences: [AUDIENCE],
    }),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`creating the client answered ${response.status} ${text.slice(0, 300)}`);
  const { clientId, clientSecret } = JSON.parse(text);
  if (!clientId || !clientSecret) throw new Error(`creating the client: no clientId/clientSecret in ${text.slice(0, 300)}`);
  return { clientId, clientSecret };
}

/**
 * One token request: it must answer 200, no-store, a Bearer JWT access token that jose verifies against the
 * server's JWKS (EdDSA only, typ at+jwt, the server's issuer, the audience, the client and the scope).
 */
async function preflight({ subject, headers, body, clientId }) {
  const response = await fetch(`${subject.url}${subject.path}`, { method: 'POST', headers, body });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`preflight ${subject.label}: ${response.status} ${text.slice(0, 300)}`);
  if (!/no-store/.test(response.headers.get('cache-control') ?? '')) throw new Error(`preflight ${subject.label}: no Cache-Control: no-store`);
  const token = JSON.parse(text);
  if (token.token_type !== 'Bearer' || typeof token.access_token !== 'string') throw new Error(`preflight ${subject.label}: ${text.slice(0, 300)}`);
  const jwks = await (await fetch(`${subject.url}${subject.jwks}`)).json();
  const { payload, protectedHeader } = await jwtVerify(token.access_token, createLocalJWKSet(jwks), {
    algorithms: ['EdDSA'],
    typ: 'at+jwt',
    issuer: subject.url,
    audience: AUDIENCE,
  });
  if (payload.client_id !== clientId || payload.scope !== SCOPE || payload.sub !== clientId) {
    throw new Error(`preflight ${subject.label}: unexpected claims ${JSON.stringify(payload)}`);
  }
  return `alg ${protectedHeader.alg}, ${token.access_token.length} characters, expires_in ${token.expires_in}`;
}

/** The Gatehouse token endpoint restarted under --cpu-prof on the same data: warm-up, one load, summary. */
async function profileToken({ ctx, dataDir, adminKey, headers, body, tokenOk }) {
  const { log } = ctx;
  const profileDir = makeTempDir('gatehouse-bench-profile-', { keep: true });
  const server = await startGatehouse({ dataDir, adminKey, nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] });
  log(`profiling: gatehouse under --cpu-prof at ${server.url}, ${ctx.duration} s token load ...`);
  const load = (duration, title) =>
    runLoad({
      url: server.url,
      serverPid: server.child.pid,
      requests: [{ method: 'POST', path: '/oauth/token', headers, body }],
      verifyBody: tokenOk,
      duration,
      title,
      connections: ctx.connections,
    });
  if (ctx.warmup > 0) await load(ctx.warmup, 'profile warm-up');
  if (ctx.quietWait > 0) await waitForQuiet({ pids: [server.child.pid], threshold: NOISY_CORES, maxSeconds: ctx.quietWait });
  const result = await load(ctx.duration, 'token profiled');
  const status = await server.stop(30_000);
  const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
  if (status.code !== 0 || files.length === 0) return [`profile: the server did not exit cleanly (${JSON.stringify(status)}); no profile written.`];
  const file = join(profileDir, files[0]);
  return [
    '',
    `CPU profile of the Gatehouse token endpoint (not comparable with the table: ${describe(result)})`,
    `profile file: ${file}`,
    summarizeProfile(JSON.parse(readFileSync(file, 'utf8')), { top: 25 }),
  ];
}

function medianRun(list) {
  const sorted = [...list].sort((a, b) => a.reqPerSec - b.reqPerSec);
  return sorted[(sorted.length - 1) >> 1];
}

const fmt = (v) => Math.round(v).toLocaleString('en-US');

function pick(result) {
  return { reqPerSec: result.reqPerSec, p50: result.p50, p99: result.p99 };
}

function describe(r) {
  return (
    `${fmt(r.reqPerSec).padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  max ${r.max.toFixed(1)} ms  ` +
    `(${r.requests.toLocaleString('en-US')} requests, ${r.non2xx} non-2xx)` +
    (r.cpu
      ? `  cpu: server ${r.cpu.server.toFixed(2)} (${Math.round((r.cpu.server * 1e6) / r.reqPerSec)} µs/req), ` +
        `loadgen ${r.cpu.loadgen.toFixed(2)}, other ${r.cpu.other.toFixed(2)} cores`
      : '')
  );
}

