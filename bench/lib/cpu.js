// CPU accounting from /proc (Linux; elsewhere every figure is null): how many cores the server under test,
// the load generator (this process) and everything else on the machine used during a run. On a 2-core
// machine a busy neighbour (a test run, a build) skews results, so each run reports it.
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every mainstream Linux

function machineTicks() {
  // cpu  user nice system idle iowait irq softirq steal ...
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields;
  return { busy: user + nice + system + irq + softirq + steal, all: user + nice + system + idle + iowait + irq + softirq + steal };
}

function processTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 (1-based).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return 0;
  }
}

/** Starts measuring; call the returned function at the end for cores used (average over the interval). */
export function startCpuMeter(pids) {
  let start;
  try {
    start = { at: performance.now(), machine: machineTicks(), self: processTicks(process.pid), pids: pids.map(processTicks) };
  } catch {
    return () => null;
  }
  return () => {
    const seconds = (performance.now() - start.at) / 1000;
    const machine = machineTicks();
    const self = processTicks(process.pid) - start.self;
    const watched = pids.map((pid, i) => processTicks(pid) - start.pids[i]);
    const busy = machine.busy - start.machine.busy;
    const cores = (ticks) => ticks / TICKS_PER_SECOND / seconds;
    const ours = self + watched.reduce((a, b) => a + b, 0);
    return {
      loadgen: cores(self),
      watched: watched.map(cores),
      other: Math.max(0, cores(busy - ours)),
    };
  };
}

/**
 * Waits (at most `maxSeconds`) until the rest of the machine is quiet: other processes, i.e. all but this
 * one and `pids`, using at most `threshold` cores over a one-second sample. Resolves with the last sample.
 */
export async function waitForQuiet({ pids = [], threshold, maxSeconds, onWait }) {
  const deadline = performance.now() + maxSeconds * 1000;
  let waited = false;
  for (;;) {
    const stop = startCpuMeter(pids);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const sample = stop();
    if (!sample || sample.other <= threshold || performance.now() >= deadline) return { ...sample, waited };
    if (!waited) onWait?.(sample.other);
    waited = true;
  }
}
