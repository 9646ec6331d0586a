// Scenario: a Fastify route protected by gatehouse-sdk (a cached API key) against the same route unprotected,
// each in its own process, under the same autocannon load as the other scenarios (lib/load.js: 50 keep-alive
// connections, pipelining 1, loopback), alternating rounds. Target: protected >= 0.8x unprotected.
// A real Gatehouse child process (embedded SQLite) issues the key and serves its first verification (then it
// is cached by the SDK, re-verified every 10 s by the default cache TTL) and the revocation stream.
import { fileURLToPath } from 'node:url';
import { waitForQuiet } from '../lib/cpu.js';
import { runLoad } from '../lib/load.js';
import { cleanEnv, startNode } from '../lib/processes.js';
import { startSdkFixture } from '../lib/sdk-fixture.js';
import { REPO_ROOT } from '../lib/servers.js';
import { median } from './sdk-authenticate.js';

export const name = 'sdk-protected-route';
export const description = 'Fastify GET /resource protected by gatehouse-sdk (cached API key) vs unprotected';

const TARGET_RATIO = 0.8;
const NOISY_CORES = 0.15;
const ROUTE_SERVER = fileURLToPath(new URL('../lib/sdk-route-server.js', import.meta.url));

async function startRouteServer(mode, config) {
  const handle = await startNode(`sdk-route-${mode}`, [ROUTE_SERVER, mode], {
    cwd: REPO_ROOT,
    env: cleanEnv({ NODE_ENV: 'production', SDK_BENCH_CONFIG: JSON.stringify(config) }),
    ready: /^sdk-route \((.+)\) listening on (http:\/\/127\.0\.0\.1:\d+)/,
    timeoutMs: 30_000,
  });
  return { ...handle, how: handle.match[1], url: handle.match[2] };
}

/**
 * @param {object} ctx  settings from run.js: duration, warmup, rounds, connections, settleMs, quietWait, log(text)
 * @returns {Promise<{rows: object[], notes: string[]}>}
 */
export async function run(ctx) {
  const { log } = ctx;
  const fixture = await startSdkFixture();
  const config = { issuer: fixture.issuer, audience: fixture.audience, verifierKey: fixture.verifierKey };
  const open = await startRouteServer('open', config);
  const guarded = await startRouteServer('protected', config);
  log(`gatehouse at ${fixture.issuer}; unprotected route at ${open.url}, protected (${guarded.how}) at ${guarded.url}`);

  // Byte-identical requests for both: same path, same Authorization header.
  const headers = { authorization: `Bearer ${fixture.apiKey}` };
  const requests = [{ method: 'GET', path: '/resource', headers }];
  const ok = (body) => body === '{"ok":true}';

  // Preflight: both answer the key; the protected one refuses no credentials and a wrong key (it protects).
  for (const server of [open, guarded]) {
    const response = await fetch(`${server.url}/resource`, { headers });
    const text = await response.text();
    if (response.status !== 200 || !ok(text)) throw new Error(`preflight ${server.name}: ${response.status} ${text.slice(0, 300)}`);
  }
  // The key with its last character changed (to one it is not: the key may end in 'x').
  const wrongKey = fixture.apiKey.slice(0, -1) + (fixture.apiKey.endsWith('x') ? 'y' : 'x');
  for (const authorization of [undefined, `Bearer ${wrongKey}`]) {
    const response = await fetch(`${guarded.url}/resource`, { headers: authorization ? { authorization } : {} });
    await response.text();
    if (response.status !== 401) throw new Error(`preflight: the protected route answered ${response.status} to a bad credential`);
  }

  const subjects = {
    open: { label: 'Fastify GET /resource, unprotected (baseline)', server: open },
    protected: { label: 'same route protected by SDK, cached API key', server: guarded },
  };
  const load = (which, duration, title) =>
    runLoad({ url: subjects[which].server.url, serverPid: subjects[which].server.child.pid, requests, verifyBody: ok, duration, title, connections: ctx.connections });
  const settle = () => new Promise((resolve) => setTimeout(resolve, ctx.settleMs));
  const quiet = async () => {
    await settle();
    if (ctx.quietWait <= 0) return;
    const sample = await waitForQuiet({
      pids: [open.child.pid, guarded.child.pid, fixture.gatehouse.child.pid],
      threshold: NOISY_CORES,
      maxSeconds: ctx.quietWait,
      onWait: (other) => log(`  other processes are using ${other.toFixed(2)} cores; waiting up to ${ctx.quietWait} s for quiet`),
    });
    if (sample.waited) log(`  ${sample.other <= NOISY_CORES ? 'quiet now' : 'still busy, running anyway'}`);
  };

  if (ctx.warmup > 0) {
    log(`warm-up: ${ctx.warmup} s each, discarded`);
    for (const which of ['open', 'protected']) {
      await load(which, ctx.warmup, `${which} warm-up`);
      await settle();
    }
  }
  const runs = { open: [], protected: [] };
  for (let round = 1; round <= ctx.rounds; round++) {
    for (const which of ['open', 'protected']) {
      await quiet();
      log(`round ${round}/${ctx.rounds}: ${which}, ${ctx.duration} s ...`);
      const result = await load(which, ctx.duration, `${which} round ${round}`);
      runs[which].push(result);
      log(`  ${describe(result)}`);
    }
  }
  await Promise.all([open.stop(), guarded.stop(), fixture.gatehouse.stop()]);

  // The median round of each by req/s (the lower middle for an even count), as token-client-credentials does.
  const middle = (list) => [...list].sort((a, b) => a.reqPerSec - b.reqPerSec)[(list.length - 1) >> 1];
  const baseline = middle(runs.open);
  const subject = middle(runs.protected);
  const ratio = subject.reqPerSec / baseline.reqPerSec;
  const pick = (r) => ({ reqPerSec: r.reqPerSec, p50: r.p50, p99: r.p99 });
  const rows = [
    { scenario: subjects.open.label, ...pick(baseline), ratio: 1, target: null, result: 'baseline' },
    { scenario: subjects.protected.label, ...pick(subject), ratio, target: `>=${TARGET_RATIO}x`, result: ratio >= TARGET_RATIO ? 'PASS' : 'MISS' },
  ];
  const fmt = (v) => Math.round(v).toLocaleString('en-US');
  const rates = (list) => list.map((r) => r.reqPerSec);
  const usPerReq = (r) => (r.cpu?.server ? (r.cpu.server * 1e6) / r.reqPerSec : null);
  const usMedian = (list) => median(list.map(usPerReq).filter((v) => v !== null));
  const notes = [
    `sdk-protected-route: the route protected by ${guarded.how}; ` +
      `one API key (no rate limit, so cached for the default 10 s TTL, then re-verified by Gatehouse), revocation stream on. ` +
      `Median round of ${ctx.rounds} by req/s, ${ctx.duration} s each, ${ctx.connections} connections, pipelining 1, keep-alive.`,
    ...['open', 'protected'].map(
      (which) =>
        `  ${which.padEnd(9)} median round ${fmt(middle(runs[which]).reqPerSec)} req/s (${fmt(Math.min(...rates(runs[which])))}..${fmt(Math.max(...rates(runs[which])))}), ` +
        `server CPU ${Number.isFinite(usMedian(runs[which])) ? usMedian(runs[which]).toFixed(1) : '?'} µs/req (median of rounds)`,
    ),
    `  per-round ratio: ${runs.protected.map((r, i) => `${(r.reqPerSec / runs.open[i].reqPerSec).toFixed(2)}x`).join(', ')}; ` +
      `SDK cost ≈ ${(usMedian(runs.protected) - usMedian(runs.open)).toFixed(1)} µs of server CPU per request`,
    ...['open', 'protected'].flatMap((which) => runs[which].map((r) => `  ${r.title.padEnd(18)} ${describe(r)}`)),
  ];
  const noisy = [...runs.open, ...runs.protected].filter((r) => r.cpu && r.cpu.other > NOISY_CORES);
  if (noisy.length) {
    notes.push(
      `WARNING: other processes used > ${NOISY_CORES} cores during ${noisy.map((r) => r.title).join(', ')}: ` +
        'the machine was not quiet, numbers are noisy (see "other" above).',
    );
  }
  if (ratio < TARGET_RATIO) notes.push(`sdk-protected-route MISS: ${ratio.toFixed(2)}x < ${TARGET_RATIO}x.`);
  return { rows, notes };
}

function describe(r) {
  return (
    `${Math.round(r.reqPerSec).toLocaleString('en-US').padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  ` +
    `max ${r.max.toFixed(1)} ms  (${r.requests.toLocaleString('en-US')} requests in ${r.seconds} s)` +
    (r.cpu
      ? `  cpu: server ${r.cpu.server.toFixed(2)} (${Math.round((r.cpu.server * 1e6) / r.reqPerSec)} µs/req), ` +
        `loadgen ${r.cpu.loadgen.toFixed(2)}, other ${r.cpu.other.toFixed(2)} cores`
      : '')
  );
}
