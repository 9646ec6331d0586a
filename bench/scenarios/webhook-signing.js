// Scenario: webhook signing and verification throughput of gatehouse-sdk/webhooks (issue 5, deliverable 7), in
// one process on one core, against a bare node:crypto HMAC over the same signed bytes in the same run:
//   - baseline per scheme: createHmac('sha256', key).update(signedBytes).digest(), with the key as a Buffer
//     and the signed bytes ("<t>.<body>" for stripe, "<id>.<t>.<body>" for standard) built once beforehand;
//   - signWebhook({ scheme, secret, payload, timestamp[, id] }) -> the headers;
//   - verifyWebhook({ scheme, secret, payload, headers, parse: false }) -> the signature checked (parse: false:
//     the payload is returned as is, so this is the cost of verification alone).
// The payload is a 1 KB JSON event as a Buffer (as a receiver gets the raw body). Target: sign and verify,
// both schemes, >= 0.8x of the baseline. Alternating rounds of a tight loop; the table shows medians. Below it,
// informative figures: verifyWebhook with its default JSON.parse against the baseline plus a JSON.parse of
// the body, scheme detection from the headers, and signing a string payload.
//
// On its own (after `npm run build`):  node bench/scenarios/webhook-signing.js        (the notes)
//                                      node bench/scenarios/webhook-signing.js --json (one JSON line, for run.js)
// Settings: WEBHOOK_BENCH_SECONDS per round (default 1), WEBHOOK_BENCH_ROUNDS (default 5).
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cleanEnv, runNode } from '../lib/processes.js';
import { REPO_ROOT } from '../lib/servers.js';
import { median } from './sdk-authenticate.js';

export const name = 'webhook-signing';
export const description = 'gatehouse-sdk/webhooks signWebhook / verifyWebhook, both schemes, vs a bare createHmac (one process)';

const TARGET_RATIO = 0.8;
const SCRIPT = fileURLToPath(import.meta.url);
const SCHEMES = ['stripe', 'standard'];
const GATED = ['sign', 'verify'];
const LABELS = {
  hmac: 'bare createHmac over the signed bytes (baseline)',
  sign: 'signWebhook',
  verify: 'verifyWebhook (parse: false)',
  hmacParse: 'bare createHmac + JSON.parse (baseline)',
  verifyParse: 'verifyWebhook (default: JSON.parse)',
  verifyDetect: 'verifyWebhook (parse: false, scheme detected)',
  signString: 'signWebhook (string payload)',
};
const SUBJECTS = Object.keys(LABELS);

/**
 * @param {object} ctx  settings from run.js: duration, rounds, log(text)
 * @returns {Promise<{rows: object[], notes: string[]}>}
 */
export async function run(ctx) {
  const seconds = Math.min(ctx.duration, Number(process.env.WEBHOOK_BENCH_SECONDS) || 1);
  const rounds = Math.max(Number(process.env.WEBHOOK_BENCH_ROUNDS) || 5, ctx.rounds);
  ctx.log(`measuring in a child process: ${rounds} alternating rounds of ${seconds} s per subject and scheme ...`);
  const out = await runNode('webhook-signing', [SCRIPT, '--json'], {
    cwd: REPO_ROOT,
    env: cleanEnv({ NODE_ENV: 'production', WEBHOOK_BENCH_SECONDS: String(seconds), WEBHOOK_BENCH_ROUNDS: String(rounds) }),
    timeoutMs: (rounds * seconds * SUBJECTS.length * SCHEMES.length + 60) * 1000,
  });
  return report(JSON.parse(out.trim().split('\n').pop()));
}

function report({ results, seconds, rounds, payloadBytes, node }) {
  const med = (scheme, subject) => median(results[scheme][subject].map((r) => r.opsPerSec));
  const fmt = (v) => Math.round(v).toLocaleString('en-US');
  const rows = [];
  const notes = [
    `webhook-signing (${node}): one process, ${payloadBytes}-byte JSON payload as a Buffer, ${rounds} alternating rounds ` +
      `of ${seconds} s per subject; median ops per CPU-second, (min..max), µs of CPU per op, ratio to the baseline of the same kind.`,
  ];
  for (const scheme of SCHEMES) {
    const base = med(scheme, 'hmac');
    rows.push({ scenario: `${scheme}: bare createHmac (baseline, ops/s)`, reqPerSec: base, ratio: 1, target: null, result: 'baseline' });
    for (const subject of GATED) {
      const ratio = med(scheme, subject) / base;
      rows.push({
        scenario: `${scheme}: ${LABELS[subject]} (ops/s)`,
        reqPerSec: med(scheme, subject),
        ratio,
        target: `>=${TARGET_RATIO}x`,
        result: ratio >= TARGET_RATIO ? 'PASS' : 'MISS',
      });
      if (ratio < TARGET_RATIO) notes.push(`webhook-signing MISS: ${scheme} ${subject} ${ratio.toFixed(2)}x < ${TARGET_RATIO}x.`);
    }
    notes.push(`${scheme}:`);
    for (const subject of SUBJECTS) {
      const rates = results[scheme][subject].map((r) => r.opsPerSec);
      const baseline = subject === 'verifyParse' ? med(scheme, 'hmacParse') : subject === 'hmacParse' ? undefined : base;
      const m = median(rates);
      notes.push(
        `  ${LABELS[subject].padEnd(48)} ${fmt(m).padStart(9)} ops/s  (${fmt(Math.min(...rates))}..${fmt(Math.max(...rates))})  ` +
          `${(1e6 / m).toFixed(2)} µs/op` +
          (baseline === undefined || subject === 'hmac' ? '' : `  ${(m / baseline).toFixed(2)}x`),
      );
    }
  }
  return { rows, notes };
}

// ---- the measuring process ----

async function measure({ seconds, rounds }) {
  const { createHmac } = await import('node:crypto');
  const { generateWebhookSecret, signWebhook, verifyWebhook } = await import('gatehouse-sdk/webhooks');
  const secret = generateWebhookSecret();
  const timestamp = Math.floor(Date.now() / 1000);
  const now = () => timestamp * 1000;
  const id = 'msg_2bH8kQ3vN7xY1zR5tW9pL4mC6dF0';
  const event = { id: 'evt_2bH8kQ3vN7xY1zR5tW9pL4mC6dF0', type: 'key.created', createdAt: new Date(now()).toISOString(), tenantId: 'ten_acme', data: { keyId: 'key_01', name: '' } };
  event.data.name = 'x'.repeat(1024 - JSON.stringify(event).length);
  const bodyText = JSON.stringify(event);
  const body = Buffer.from(bodyText);
  const keys = { stripe: Buffer.from(secret, 'utf8'), standard: Buffer.from(secret.slice('whsec_'.length), 'base64') };
  const signedBytes = { stripe: Buffer.from(`${timestamp}.${bodyText}`), standard: Buffer.from(`${id}.${timestamp}.${bodyText}`) };

  const subjects = {};
  const checks = {};
  for (const scheme of SCHEMES) {
    const signOptions = { scheme, secret, payload: body, timestamp, id: scheme === 'standard' ? id : undefined };
    const headers = Object.fromEntries(Object.entries(signWebhook(signOptions)).map(([k, v]) => [k.toLowerCase(), v]));
    const verifyOptions = { scheme, secret, payload: body, headers, now, parse: false };
    const { scheme: _omit, ...detectOptions } = verifyOptions;
    const signStringOptions = { ...signOptions, payload: bodyText };
    const { parse: _default, ...parseOptions } = verifyOptions;
    const key = keys[scheme];
    const bytes = signedBytes[scheme];
    subjects[scheme] = {
      hmac: () => createHmac('sha256', key).update(bytes).digest(),
      sign: () => signWebhook(signOptions),
      verify: () => verifyWebhook(verifyOptions),
      hmacParse: () => (createHmac('sha256', key).update(bytes).digest(), JSON.parse(body.toString())),
      verifyParse: () => verifyWebhook(parseOptions),
      verifyDetect: () => verifyWebhook(detectOptions),
      signString: () => signWebhook(signStringOptions),
    };
    // Every subject is checked once: the baseline's MAC is the one the headers carry.
    const expected = createHmac('sha256', key).update(bytes).digest();
    const header = scheme === 'stripe' ? headers['gatehouse-signature'] : headers['webhook-signature'];
    const encoded = scheme === 'stripe' ? expected.toString('hex') : expected.toString('base64');
    checks[scheme] = {
      hmac: (r) => r.equals(expected),
      sign: (r) => Object.values(r).some((v) => v.endsWith(encoded)),
      verify: (r) => r === body,
      hmacParse: (r) => r.id === event.id,
      verifyParse: (r) => r.id === event.id,
      verifyDetect: (r) => r === body,
      signString: (r) => Object.values(r).some((v) => v.endsWith(encoded)),
    };
    if (!header.endsWith(encoded)) throw new Error(`${scheme}: the signature header does not carry the bare HMAC`);
    for (const s of SUBJECTS) if (!checks[scheme][s](subjects[scheme][s]())) throw new Error(`${scheme} ${s}: wrong result`);
  }

  const rate = (scheme, s, roundSeconds) => {
    const fn = subjects[scheme][s];
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const end = t0 + roundSeconds * 1000;
    let n = 0;
    let last;
    do {
      for (let i = 0; i < 256; i++) last = fn();
      n += 256;
    } while (performance.now() < end);
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    if (!checks[scheme][s](last)) throw new Error(`${scheme} ${s}: wrong result`);
    // Ops per second of this process's CPU time: everything here is synchronous on the main thread, so this is
    // the cost of the work itself, and other processes competing for the cores do not shrink it.
    return { opsPerSec: n / ((cpu.user + cpu.system) / 1e6), wallOpsPerSec: n / elapsed };
  };
  for (const scheme of SCHEMES) for (const s of SUBJECTS) rate(scheme, s, Math.min(0.5, seconds)); // warm-up (JIT)
  const results = { stripe: {}, standard: {} };
  for (let round = 0; round < rounds; round++) {
    for (const scheme of SCHEMES) for (const s of SUBJECTS) (results[scheme][s] ??= []).push(rate(scheme, s, seconds));
  }
  return { results, seconds, rounds, payloadBytes: body.length, node: process.version };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await measure({
    seconds: Number(process.env.WEBHOOK_BENCH_SECONDS) || 1,
    rounds: Number(process.env.WEBHOOK_BENCH_ROUNDS) || 5,
  });
  if (process.argv.includes('--json')) console.log(JSON.stringify(result));
  else console.log(report(result).notes.join('\n'));
}
