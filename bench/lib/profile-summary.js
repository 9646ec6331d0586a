// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function, self time by package, and inclusive
// time by function. Usable as a module (summarizeProfile) or on its own:
//
//   node bench/lib/profile-summary.js <file.cpuprofile> [--top 25] [--filter TEXT] [--weight samples|time]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** Where a script comes from: a package name, gatehouse (server dist), gatehouse-sdk, "node:" internals, or V8. */
export function categorize(url, functionName) {
  if (!url) {
    // V8's own entries stay apart; everything else without a script is native code or generated code
    // (Ajv validators, fast-json-stringify serializers, RegExps), whose time is mostly its callers' doing.
    if (['(program)', '(garbage collector)', '(idle)', '(root)'].includes(functionName)) return functionName;
    return '(native, builtin or generated code)';
  }
  if (url.startsWith('node:')) return 'node: internals';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (path.includes('/packages/server/')) return 'gatehouse';
  if (path.includes('/packages/sdk/')) return 'gatehouse-sdk';
  return path;
}

function shortUrl(url) {
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm !== -1) return path.slice(nm + '/node_modules/'.length);
  const pkg = path.indexOf('/packages/');
  if (pkg !== -1) return path.slice(pkg + 1);
  return path;
}

function frameKey(frame) {
  const name = frame.functionName || '(anonymous)';
  return frame.url ? `${name}  ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : name;
}

/**
 * Aggregates the profile; times are in milliseconds.
 *
 * weight 'samples' (default) counts samples, each worth the median sampling interval: V8 samples on a
 * wall-clock timer, but a thread waiting for a CPU takes no samples, so counting approximates CPU time and
 * stays meaningful on a busy machine. weight 'time' sums the recorded time deltas instead (wall time, which
 * charges time spent waiting for a CPU to whatever ran just before, typically a syscall such as writev).
 */
export function aggregateProfile(profile, { weight = 'samples' } = {}) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map();
  const selfByCategory = new Map();
  const inclusive = new Map();
  let total = 0;
  const { samples, timeDeltas } = profile;
  const interval = [...timeDeltas].sort((a, b) => a - b)[timeDeltas.length >> 1] / 1000;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time since the previous sample: the time sample i-1 stood for.
    const ms = weight === 'time' ? (timeDeltas[i + 1] ?? 0) / 1000 : interval;
    if (ms <= 0) continue;
    const node = nodes.get(samples[i]);
    const frame = node.callFrame;
    total += ms;
    const key = frameKey(frame);
    self.set(key, (self.get(key) ?? 0) + ms);
    const category = categorize(frame.url, frame.functionName);
    selfByCategory.set(category, (selfByCategory.get(category) ?? 0) + ms);
    const seen = new Set();
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const k = frameKey(nodes.get(id).callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + ms);
    }
  }
  const sorted = (map) => [...map].sort((a, b) => b[1] - a[1]);
  return { totalMs: total, self: sorted(self), selfByCategory: sorted(selfByCategory), inclusive: sorted(inclusive) };
}

export function summarizeProfile(profile, { top = 25, filter, weight = 'samples' } = {}) {
  const { totalMs, self, selfByCategory, inclusive } = aggregateProfile(profile, { weight });
  const idle = self.filter(([key]) => key === '(idle)').reduce((sum, [, ms]) => sum + ms, 0);
  const busy = totalMs - idle;
  const pct = (ms, of) => `${((100 * ms) / of).toFixed(1).padStart(5)}%`;
  const fmt = (ms) => `${ms.toFixed(0).padStart(7)} ms`;
  const keep = ([key]) => key !== '(idle)' && key !== '(root)' && (!filter || key.includes(filter));
  const out = [];
  out.push(
    `profile: ${(totalMs / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s busy (${pct(busy, totalMs).trim()}); ` +
      `percentages are of busy time; weighted by ${weight === 'time' ? 'recorded wall time' : 'sample count (approximates CPU time)'}`,
  );
  out.push('', 'self time by package:');
  for (const [category, ms] of selfByCategory.filter(([c, ms]) => c !== '(idle)' && ms >= busy / 1000)) {
    out.push(`  ${fmt(ms)} ${pct(ms, busy)}  ${category}`);
  }
  out.push('', `top ${top} functions by self time:`);
  for (const [key, ms] of self.filter(keep).slice(0, top)) out.push(`  ${fmt(ms)} ${pct(ms, busy)}  ${key}`);
  out.push('', `top ${top} functions by inclusive time (gatehouse code and its direct callers):`);
  const inclusiveKeep = ([key]) => keep([key]) && (filter || /packages\/(server|sdk)\//.test(key));
  for (const [key, ms] of inclusive.filter(inclusiveKeep).slice(0, top)) out.push(`  ${fmt(ms)} ${pct(ms, busy)}  ${key}`);
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, filter: { type: 'string' }, weight: { type: 'string', default: 'samples' } },
  });
  if (positionals.length !== 1 || !['samples', 'time'].includes(values.weight)) {
    console.error('usage: node bench/lib/profile-summary.js <file.cpuprofile> [--top N] [--filter TEXT] [--weight samples|time]');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
  console.log(summarizeProfile(profile, { top: Number(values.top), filter: values.filter, weight: values.weight }));
}
