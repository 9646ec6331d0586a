// Child processes and temp dirs that must not outlive the benchmark: every child started here is killed and
// every temp dir removed on normal exit, on an error, and on SIGINT/SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const children = new Set();
const tempDirs = new Set();
let handlersInstalled = false;

function installHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // Last resort, synchronous: whatever is still alive when the process exits gets SIGKILL.
  process.on('exit', () => {
    for (const child of children) {
      try {
        child.kill('SIGKILL');
      } catch {}
    }
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping child processes\n`);
      cleanup().finally(() => process.exit(130));
    });
  }
}

/** A fresh temp dir, removed when the benchmark exits (unless `keep`). */
export function makeTempDir(prefix, { keep = false } = {}) {
  installHandlers();
  const dir = mkdtempSync(join(process.env.BENCH_TMPDIR || tmpdir(), prefix));
  if (!keep) tempDirs.add(dir);
  return dir;
}

/** The environment for a child: the current one without any GATEHOUSE_* variable, plus `extra`. */
export function cleanEnv(extra = {}) {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('GATEHOUSE_') && !name.startsWith('BENCH_') && name !== 'NODE_OPTIONS') env[name] = value;
  }
  return { ...env, ...extra };
}

/**
 * Starts `node <args>` and resolves once a line of its stdout matches `ready` (the match is returned), or
 * rejects when it exits first or `timeoutMs` passes. Output is drained continuously (a full pipe would stall
 * the child); the last lines are kept for error messages.
 */
export function startNode(name, args, { env, ready, timeoutMs = 30_000, cwd } = {}) {
  installHandlers();
  const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const tail = [];
  const keep = (line) => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
  };
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  const handle = {
    name,
    child,
    exited,
    output: () => tail.join('\n'),
    /** SIGTERM (a graceful stop), then SIGKILL after `graceMs`. Resolves with the exit status. */
    async stop(graceMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const status = await exited;
        clearTimeout(timer);
        return status;
      }
      return exited;
    },
  };

  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn(value);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle(reject, new Error(`${name} did not become ready within ${timeoutMs} ms\n${handle.output()}`));
    }, timeoutMs);
    const lines = (stream, label, onLine) => {
      let buffered = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        buffered += chunk;
        let newline;
        while ((newline = buffered.indexOf('\n')) !== -1) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          keep(`[${label}] ${line}`);
          onLine?.(line);
        }
      });
    };
    lines(child.stdout, 'stdout', (line) => {
      const match = ready ? ready.exec(line) : null;
      if (match) settle(resolve, { ...handle, match });
    });
    lines(child.stderr, 'stderr');
    child.once('error', (error) => settle(reject, error));
    exited.then(({ code, signal }) => {
      settle(reject, new Error(`${name} exited (code ${code}, signal ${signal}) before it was ready\n${handle.output()}`));
    });
  });
}

/** Runs `node <args>` to completion; resolves with its stdout, rejects on a non-zero exit or a timeout. */
export function runNode(name, args, { env, timeoutMs = 120_000, cwd } = {}) {
  installHandlers();
  const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${name} failed (code ${code}, signal ${signal})\n${stderr.slice(-4000)}`));
    });
  });
}

/** Stops every child still running (gracefully first) and removes the temp dirs. */
export async function cleanup() {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}
