// Scenario: the SDK authenticator in one process, on one core (issue 4). A real Gatehouse child process
// (embedded SQLite, EdDSA) issues an access token and an API key; then, in a separate measuring process:
//   - authenticate('Bearer <JWT>') against a bare jose.jwtVerify with the same key (a local key set built from
//     the server's JWKS), the same algorithm (EdDSA) and the same checks as far as jose does them
//     (issuer, audience, typ at+jwt, clock tolerance, required claims). Target: >= 0.9x.
//   - authenticate('Bearer <API key>') with the key cached (after its first verification by Gatehouse).
//     Target: >= 200,000 per second.
// A tight loop of awaited calls for a fixed time (the figures in the table), alternating rounds
// (jose, JWT, key, jose, ...); then the same with 50 calls in flight (Promise.all), shown as detail lines.
//
// On its own (after `npm run build`, with a Gatehouse fixture):  the scenario runs
//   node bench/scenarios/sdk-authenticate.js --json   with SDK_BENCH_CONFIG (JSON) in the environment.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startSdkFixture } from '../lib/sdk-fixture.js';
import { cleanEnv, runNode } from '../lib/processes.js';
import { REPO_ROOT } from '../lib/servers.js';

export const name = 'sdk-authenticate';
export const description = 'gatehouse-sdk authenticate(): JWT vs bare jose.jwtVerify, cached API key (one process)';

const TARGET_JWT_RATIO = 0.9;
const TARGET_KEY_RATE = 200_000;
const SCRIPT = fileURLToPath(import.meta.url);
const SUBJECTS = ['jose', 'jwt', 'key'];

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * @param {object} ctx  settings from run.js: duration, rounds, log(text)
 * @returns {Promise<{rows: object[], notes: string[]}>}
 */
export async function run(ctx) {
  const { log } = ctx;
  const fixture = await startSdkFixture();
  log(`gatehouse at ${fixture.issuer} (pid ${fixture.gatehouse.child.pid}): token and API key issued`);
  // Short rounds: a micro-benchmark with no load generator; at least 5 rounds for a median and a spread.
  const seconds = Math.min(ctx.duration, Number(process.env.SDK_BENCH_SECONDS) || 3);
  const rounds = Math.max(5, ctx.rounds);
  const config = {
    issuer: fixture.issuer,
    audience: fixture.audience,
    verifierKey: fixture.verifierKey,
    apiKey: fixture.apiKey,
    accessToken: fixture.accessToken,
    jwks: fixture.jwks,
    seconds,
    rounds,
  };
  log(`measuring in a child process: ${rounds} alternating rounds of ${seconds} s per subject, sequential then 50 in flight ...`);
  const out = await runNode('sdk-authenticate', [SCRIPT, '--json'], {
    cwd: REPO_ROOT,
    env: cleanEnv({ NODE_ENV: 'production', SDK_BENCH_CONFIG: JSON.stringify(config) }),
    timeoutMs: (rounds * seconds * SUBJECTS.length * 2 + 60) * 1000,
  });
  await fixture.gatehouse.stop();
  const result = JSON.parse(out.trim().split('\n').pop());
  return report(result);
}

function report({ sequential, inFlight, seconds, rounds, streamConnections, verifyRequests, node }) {
  const med = (subject, mode = sequential) => median(mode[subject].map((r) => r.opsPerSec));
  const jose = med('jose');
  const jwt = med('jwt');
  const key = med('key');
  const jwtRatio = jwt / jose;
  const rows = [
    { scenario: 'jose.jwtVerify EdDSA, local JWKS (baseline, ops/s)', reqPerSec: jose, ratio: 1, target: null, result: 'baseline' },
    {
      scenario: 'SDK authenticate() JWT (ops/s)',
      reqPerSec: jwt,
      ratio: jwtRatio,
      target: `>=${TARGET_JWT_RATIO}x`,
      result: jwtRatio >= TARGET_JWT_RATIO ? 'PASS' : 'MISS',
    },
    {
      scenario: 'SDK authenticate() cached API key (ops/s)',
      reqPerSec: key,
      ratio: null,
      target: `>=${TARGET_KEY_RATE.toLocaleString('en-US')}/s`,
      result: key >= TARGET_KEY_RATE ? 'PASS' : 'MISS',
    },
  ];
  const fmt = (v) => Math.round(v).toLocaleString('en-US');
  const labels = {
    jose: 'jose.jwtVerify (baseline)',
    jwt: 'authenticate() JWT',
    key: 'authenticate() cached API key',
  };
  const describe = (mode, subject) => {
    const list = mode[subject];
    const rates = list.map((r) => r.opsPerSec);
    const m = median(rates);
    return (
      `  ${labels[subject].padEnd(30)} ${fmt(m).padStart(9)} ops/s  (${fmt(Math.min(...rates))}..${fmt(Math.max(...rates))})  ` +
      `${(1e6 / m).toFixed(2)} µs/op wall, ${median(list.map((r) => r.cpuUsPerOp)).toFixed(2)} µs/op CPU ` +
      `(rounds: ${rates.map(fmt).join(', ')})`
    );
  };
  const perRound = (mode) => mode.jwt.map((r, i) => (r.opsPerSec / mode.jose[i].opsPerSec).toFixed(2) + 'x').join(', ');
  const notes = [
    `sdk-authenticate (${node}): one process, ${rounds} alternating rounds of ${seconds} s (jose, JWT, key, ...); median, (min..max), ` +
      'µs per op (wall, and CPU of the process: Web Crypto verifies on the thread pool, so CPU can exceed wall).',
    `Sequential (one awaited authenticate() at a time; the table):`,
    ...SUBJECTS.map((s) => describe(sequential, s)),
    `  JWT ratio per round: ${perRound(sequential)}`,
    `50 calls in flight (Promise.all batches):`,
    ...SUBJECTS.map((s) => describe(inFlight, s)),
    `  JWT ratio of medians ${(med('jwt', inFlight) / med('jose', inFlight)).toFixed(2)}x; per round: ${perRound(inFlight)}`,
    `The authenticator: algorithms [EdDSA], default 10 s key cache TTL (so a cached key is re-verified by Gatehouse ` +
      `every 10 s: ${verifyRequests} verify requests in all), revocation stream connected (${streamConnections} connection(s)).`,
  ];
  if (jwtRatio < TARGET_JWT_RATIO) notes.push(`sdk-authenticate MISS: JWT ${jwtRatio.toFixed(2)}x < ${TARGET_JWT_RATIO}x.`);
  if (key < TARGET_KEY_RATE) notes.push(`sdk-authenticate MISS: cached API key ${fmt(key)}/s < ${fmt(TARGET_KEY_RATE)}/s.`);
  return { rows, notes };
}

// ---- the measuring process ----

async function measure(config) {
  const { createLocalJWKSet, jwtVerify } = await import('jose');
  const { createAuthenticator } = await import('gatehouse-sdk');
  let verifyRequests = 0;
  const countingFetch = (input, init) => {
    if (String(input).endsWith('/v1/keys/verify')) verifyRequests++;
    return fetch(input, init);
  };
  const authenticator = createAuthenticator({
    issuer: config.issuer,
    audience: config.audience,
    verifierKey: config.verifierKey,
    algorithms: ['EdDSA'],
    fetch: countingFetch,
  });
  const jwks = createLocalJWKSet(config.jwks);
  const joseOptions = {
    issuer: config.issuer,
    audience: config.audience,
    algorithms: ['EdDSA'],
    typ: 'at+jwt',
    clockTolerance: 5,
    requiredClaims: ['exp', 'iat', 'sub', 'jti', 'client_id'],
  };
  const jwtHeader = `Bearer ${config.accessToken}`;
  const keyHeader = `Bearer ${config.apiKey}`;
  const subjects = {
    jose: () => jwtVerify(config.accessToken, jwks, joseOptions),
    jwt: () => authenticator.authenticate(jwtHeader),
    key: () => authenticator.authenticate(keyHeader),
  };
  const checks = {
    jose: (r) => r.payload.client_id !== undefined,
    jwt: (r) => r.ok && r.auth.kind === 'jwt',
    key: (r) => r.ok && r.auth.kind === 'api_key',
  };
  // First calls: JWKS discovery, the key's first verification by Gatehouse (then cached), the stream.
  for (const s of SUBJECTS) {
    const r = await subjects[s]();
    if (!checks[s](r)) throw new Error(`${s}: first call failed: ${JSON.stringify(r)}`);
  }
  for (let i = 0; i < 50 && authenticator.status().streamConnections === 0; i++) await new Promise((r) => setTimeout(r, 100));
  if (authenticator.status().cachedKeys !== 1) throw new Error('the API key was not cached after its first verification');

  const rate = async (s, inFlight) => {
    const fn = subjects[s];
    const check = checks[s];
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const end = t0 + config.seconds * 1000;
    let n = 0;
    do {
      if (inFlight > 1) {
        const results = await Promise.all(Array.from({ length: inFlight }, fn));
        for (const r of results) if (!check(r)) throw new Error(`${s}: failed: ${JSON.stringify(r)}`);
        n += inFlight;
      } else {
        for (let i = 0; i < 64; i++) {
          const r = await fn();
          if (!check(r)) throw new Error(`${s}: failed: ${JSON.stringify(r)}`);
        }
        n += 64;
      }
    } while (performance.now() < end);
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { opsPerSec: n / elapsed, cpuUsPerOp: (cpu.user + cpu.system) / n };
  };
  // Warm-up (JIT), discarded.
  for (const s of SUBJECTS) {
    const saved = config.seconds;
    config.seconds = Math.min(1, saved);
    await rate(s, 1);
    config.seconds = saved;
  }
  const sequential = { jose: [], jwt: [], key: [] };
  const inFlight = { jose: [], jwt: [], key: [] };
  for (const [mode, n] of [[sequential, 1], [inFlight, 50]]) {
    for (let round = 0; round < config.rounds; round++) {
      for (const s of SUBJECTS) mode[s].push(await rate(s, n));
    }
  }
  const { streamConnections } = authenticator.status();
  authenticator.close();
  return { sequential, inFlight, seconds: config.seconds, rounds: config.rounds, streamConnections, verifyRequests, node: process.version };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const config = JSON.parse(process.env.SDK_BENCH_CONFIG ?? 'null');
  if (!config) {
    process.stderr.write('SDK_BENCH_CONFIG is not set: run this through `npm run bench` (BENCH_SCENARIOS=sdk-authenticate)\n');
    process.exit(2);
  }
  const result = await measure(config);
  if (process.argv.includes('--json')) console.log(JSON.stringify(result));
  else console.log(report(result).notes.join('\n'));
  process.exit(0);
}
