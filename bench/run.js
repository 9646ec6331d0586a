#!/usr/bin/env node
// `npm run bench`: builds (via the npm script), then runs every benchmark scenario and prints one table.
// Exit code 0 whether targets are met or missed (it is a report); non-zero when a scenario fails to run
// (errors, non-2xx responses, a server that does not start).
//
// Settings (environment): BENCH_DURATION seconds per measured run (10), BENCH_WARMUP seconds (3),
// BENCH_ROUNDS alternating rounds (2), BENCH_CONNECTIONS (50), BENCH_KEYS stored keys (100000),
// BENCH_SAMPLE_KEYS keys presented by the load (1000), BENCH_PROFILE=1 adds a CPU-profiled verify run,
// BENCH_SCENARIOS comma-separated scenario names (all), BENCH_TMPDIR where temp dirs go (os.tmpdir()),
// BENCH_QUIET_WAIT seconds to wait before each measured run for other processes to go quiet (20; 0: never),
// BENCH_STORAGE_SECONDS seconds of load of the usage-storage scenario (60).
import { cpus } from 'node:os';
import { cleanup } from './lib/processes.js';
import { formatTable } from './lib/table.js';
import * as apiKeyVerify from './scenarios/api-key-verify.js';
import * as detectionOverhead from './scenarios/detection-overhead.js';
import * as tokenClientCredentials from './scenarios/token-client-credentials.js';
import * as sdkAuthenticate from './scenarios/sdk-authenticate.js';
import * as sdkProtectedRoute from './scenarios/sdk-protected-route.js';
import * as webhookDelivery from './scenarios/webhook-delivery.js';
import * as webhookSigning from './scenarios/webhook-signing.js';
import * as mtls from './scenarios/mtls.js';
import * as usageStorage from './scenarios/usage-storage.js';

const SCENARIOS = [apiKeyVerify, usageStorage, detectionOverhead, tokenClientCredentials, sdkAuthenticate, sdkProtectedRoute, webhookSigning, webhookDelivery, mtls];

function numberSetting(name, fallback, { min = 0, integer = true } = {}) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new Error(`${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function log(text) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
}

async function main() {
  const ctx = {
    duration: numberSetting('BENCH_DURATION', 10, { min: 1 }),
    warmup: numberSetting('BENCH_WARMUP', 3),
    rounds: numberSetting('BENCH_ROUNDS', 2, { min: 1 }),
    connections: numberSetting('BENCH_CONNECTIONS', 50, { min: 1 }),
    storedKeys: numberSetting('BENCH_KEYS', 100_000, { min: 1 }),
    sampleKeys: numberSetting('BENCH_SAMPLE_KEYS', 1000, { min: 1 }),
    settleMs: 1000,
    quietWait: numberSetting('BENCH_QUIET_WAIT', 20),
    profile: /^(1|true|yes|on)$/i.test(process.env.BENCH_PROFILE ?? ''),
    log,
  };
  if (ctx.sampleKeys > ctx.storedKeys) throw new Error('BENCH_SAMPLE_KEYS cannot exceed BENCH_KEYS');
  const wanted = process.env.BENCH_SCENARIOS?.split(',').map((s) => s.trim()).filter(Boolean);
  const scenarios = wanted ? SCENARIOS.filter((s) => wanted.includes(s.name)) : SCENARIOS;
  if (wanted && scenarios.length !== wanted.length) {
    throw new Error(`unknown scenario in BENCH_SCENARIOS; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  }

  // Bounded in time: a scenario that hangs is killed rather than left running.
  const perScenarioSeconds = 360 + (ctx.warmup * 2 + (ctx.duration + ctx.quietWait + 2) * 2 * ctx.rounds) * 1.5 + (ctx.profile ? ctx.warmup + ctx.duration + 120 : 0);
  const watchdog = setTimeout(() => {
    log(`timed out after ${Math.round(perScenarioSeconds * scenarios.length)} s; stopping`);
    cleanup().finally(() => process.exit(1));
  }, perScenarioSeconds * scenarios.length * 1000);
  watchdog.unref();

  const cpuList = cpus();
  log(
    `node ${process.version}, ${cpuList.length} CPUs (${cpuList[0]?.model.trim() ?? 'unknown'}); ` +
      `${ctx.connections} connections, ${ctx.duration} s x ${ctx.rounds} rounds, ${ctx.warmup} s warm-up`,
  );
  const rows = [];
  const notes = [];
  for (const scenario of scenarios) {
    log(`scenario ${scenario.name}: ${scenario.description}`);
    const result = await scenario.run(ctx);
    rows.push(...result.rows);
    notes.push(...result.notes);
  }
  clearTimeout(watchdog);

  process.stdout.write(`\n${formatTable(rows)}\n\n${notes.join('\n')}\n`);
}

try {
  await main();
  await cleanup();
} catch (error) {
  process.stderr.write(`\nbench FAILED: ${error?.stack ?? error}\n`);
  await cleanup();
  process.exit(1);
}
