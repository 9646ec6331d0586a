// Scenario: POST /v1/keys/verify with detection on (failed-auth tracking, block checks, key anomaly learning)
// versus GATEHOUSE_DETECTION=off, on the same seeded store, under the same load, rounds alternating.
// Target: detection on >= 0.9x detection off.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForQuiet } from '../lib/cpu.js';
import { runLoad } from '../lib/load.js';
import { makeTempDir, runNode } from '../lib/processes.js';
import { REPO_ROOT, startGatehouse } from '../lib/servers.js';

export const name = 'detection-overhead';
export const description = 'POST /v1/keys/verify with detection on vs GATEHOUSE_DETECTION=off (same store, same load)';

const TARGET_RATIO = 0.9;
const NOISY_CORES = 0.15;
const SEED_SCRIPT = fileURLToPath(new URL('../lib/seed-keys.js', import.meta.url));

/** @param {object} ctx settings from run.js (see api-key-verify.js) */
export async function run(ctx) {
  const { log } = ctx;
  const dir = makeTempDir('gatehouse-bench-');
  const dataDir = join(dir, 'data');
  const keysFile = join(dir, 'keys.json');
  log(`seeding ${ctx.storedKeys.toLocaleString('en-US')} keys into ${dataDir} ...`);
  await runNode('seed-keys', [SEED_SCRIPT, dataDir, String(ctx.storedKeys), String(ctx.sampleKeys), keysFile], { cwd: REPO_ROOT, timeoutMs: 300_000 });
  const { adminKey, keys } = JSON.parse(readFileSync(keysFile, 'utf8'));

  const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
  // Verifications on behalf of clients spread over a few networks: anomaly detection learns a network per
  // key and tracks its rate on every request, which is the work being measured.
  const requests = keys.map((key, i) => ({
    method: 'POST',
    path: '/v1/keys/verify',
    headers,
    body: JSON.stringify({ key, clientIp: `198.51.${100 + (i % 4)}.${1 + (i % 250)}` }),
  }));
  const verifyOk = (body) => body.startsWith('{"valid":true,');

  // Two processes must not share one SQLite file: each setting runs alone, in alternating rounds.
  const measure = async (setting, duration, title) => {
    const server = await startGatehouse({ dataDir, adminKey, env: { GATEHOUSE_DETECTION: setting } });
    try {
      const first = await fetch(`${server.url}/v1/keys/verify`, { method: 'POST', headers, body: requests[0].body });
      const text = await first.text();
      if (first.status !== 200 || !verifyOk(text)) throw new Error(`preflight (${setting}): ${first.status} ${text.slice(0, 200)}`);
      const load = (d, t) => runLoad({ url: server.url, serverPid: server.child.pid, requests, verifyBody: verifyOk, duration: d, title: t, connections: ctx.connections });
      if (ctx.warmup > 0) await load(ctx.warmup, `${title} warm-up`);
      if (ctx.quietWait > 0) await waitForQuiet({ pids: [server.child.pid], threshold: NOISY_CORES, maxSeconds: ctx.quietWait });
      return await load(duration, title);
    } finally {
      await server.stop();
    }
  };

  const runs = { on: [], off: [] };
  for (let round = 1; round <= ctx.rounds; round++) {
    for (const setting of ['off', 'on']) {
      log(`round ${round}/${ctx.rounds}: detection ${setting}, ${ctx.duration} s ...`);
      const result = await measure(setting, ctx.duration, `detection ${setting} round ${round}`);
      runs[setting].push(result);
      log(`  ${Math.round(result.reqPerSec).toLocaleString('en-US')} req/s, p99 ${result.p99.toFixed(2)} ms`);
    }
  }
  const best = (list) => list.reduce((a, b) => (b.reqPerSec > a.reqPerSec ? b : a));
  const off = best(runs.off);
  const on = best(runs.on);
  const ratio = on.reqPerSec / off.reqPerSec;
  const pick = (r) => ({ reqPerSec: r.reqPerSec, p50: r.p50, p99: r.p99 });
  const rows = [
    { scenario: 'verify, GATEHOUSE_DETECTION=off (baseline)', ...pick(off), ratio: 1, target: null, result: 'baseline' },
    { scenario: 'verify, detection on', ...pick(on), ratio, target: `>=${TARGET_RATIO}x`, result: ratio >= TARGET_RATIO ? 'PASS' : 'MISS' },
  ];
  const notes = [
    `detection-overhead: best of ${ctx.rounds} alternating round(s) each (off, on, ...), ${ctx.duration} s, ${ctx.connections} connections; ` +
      `requests carry clientIp over 4 /24 networks.`,
    ...[...runs.off, ...runs.on].map(
      (r) => `  ${r.title.padEnd(24)} ${Math.round(r.reqPerSec).toLocaleString('en-US').padStart(7)} req/s  p99 ${r.p99.toFixed(2)} ms` +
        (r.cpu ? `  cpu: server ${r.cpu.server.toFixed(2)} (${Math.round((r.cpu.server * 1e6) / r.reqPerSec)} µs/req), other ${r.cpu.other.toFixed(2)}` : ''),
    ),
  ];
  if (ratio < TARGET_RATIO) notes.push(`detection-overhead MISS: ${ratio.toFixed(2)}x < ${TARGET_RATIO}x.`);
  return { rows, notes };
}
