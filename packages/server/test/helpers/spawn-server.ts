import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { sinkCredentialsIn, sinkLogLines } from './log-sink.js';

/**
 * Real `gatehouse` processes for end-to-end tests: spawns the built CLI (packages/server/bin/gatehouse.js,
 * which runs dist/: build first), waits for its "listening on" line, and keeps track of every child so that
 * `killSpawned()` (call it in afterAll) and the exit handler below leave nothing running.
 */

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const CLI_PATH = fileURLToPath(new URL('../../bin/gatehouse.js', import.meta.url));

const DEFAULT_TIMEOUT_MS = 20_000;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedProcess {
  process: ChildProcess;
  /** Everything written to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  exited: Promise<ExitStatus>;
  /** Resolves once `pattern` appears in stdout; rejects on exit or after timeoutMs, with the output. */
  waitForStdout(pattern: RegExp, what: string, timeoutMs?: number): Promise<RegExpMatchArray>;
}

export interface SpawnedServer extends SpawnedProcess {
  /** e.g. http://127.0.0.1:40123 (no trailing slash). */
  url: string;
  /** Sends `signal` (default SIGTERM) and waits (bounded) for the exit. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitStatus>;
  /** SIGKILL, then waits for the exit. */
  kill9(): Promise<ExitStatus>;
}

export interface SpawnOptions {
  /** GATEHOUSE_* variables; the parent's GATEHOUSE_* variables are never passed on. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Written to the process's stdin, which is then closed; unset: no stdin. */
  input?: string;
  /** The command; default: node packages/server/bin/gatehouse.js. */
  command?: string;
  timeoutMs?: number;
}

const live = new Set<ChildProcess>();

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    // Each child leads its own process group (detached), so wrappers such as npx take their children along.
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

process.once('exit', () => {
  for (const child of live) signalGroup(child, 'SIGKILL');
});

/** Kills (SIGKILL) every process spawned by this module that is still running, and waits for them. */
export async function killSpawned(): Promise<void> {
  const waits = [...live].map(
    (child) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        signalGroup(child, 'SIGKILL');
        setTimeout(resolve, 5_000).unref();
      }),
  );
  await Promise.all(waits);
  live.clear();
}

function childEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const result: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('GATEHOUSE_') && name !== 'NODE_OPTIONS') result[name] = value;
  }
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined) result[name] = value;
  }
  return result;
}

function describeOutput(p: { stdout(): string; stderr(): string }): string {
  const tail = (text: string) => (text.length > 4000 ? `...${text.slice(-4000)}` : text);
  return `\n--- stdout ---\n${tail(p.stdout())}\n--- stderr ---\n${tail(p.stderr())}`;
}

/** Spawns `command args` (default: the gatehouse CLI) and tracks it. */
export function spawnProcess(args: string[], options: SpawnOptions = {}): SpawnedProcess {
  const [file, fileArgs] = options.command ? [options.command, args] : [process.execPath, [CLI_PATH, ...args]];
  const child = spawn(file, fileArgs, {
    cwd: options.cwd ?? REPO_ROOT,
    env: childEnv(options.env),
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(child);
  if (options.input !== undefined) child.stdin!.end(options.input);
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('error', (error) => {
      err += `\nspawn error: ${error.message}`;
      live.delete(child);
      resolve({ code: null, signal: null });
    });
    // 'close' (not 'exit'): the output pipes are drained by then.
    child.once('close', (code, signal) => {
      live.delete(child);
      sinkLogLines(`${out}\n${err}`);
      resolve({ code, signal });
    });
  });
  const self: SpawnedProcess = {
    process: child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForStdout(pattern, what, timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS) {
      return new Promise((resolve, reject) => {
        let done = false;
        const finish = (error: Error | undefined, match?: RegExpMatchArray) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve(match!);
        };
        const check = () => {
          const match = out.match(pattern);
          if (match) finish(undefined, match);
        };
        const timer = setTimeout(
          () => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (pid ${child.pid})${describeOutput(self)}`)),
          timeoutMs,
        );
        listeners.add(check);
        check();
        void exited.then((status) => {
          check();
          finish(new Error(`process exited (code ${status.code}, signal ${status.signal}) before ${what}${describeOutput(self)}`));
        });
      });
    },
  };
  return self;
}

/** Waits (bounded) for a process to exit; kills it and throws if it does not. */
export async function waitForExit(p: SpawnedProcess, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ExitStatus> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const result = await Promise.race([p.exited, timeout]);
  clearTimeout(timer);
  if (result === 'timeout') {
    signalGroup(p.process, 'SIGKILL');
    throw new Error(`${what}: process ${p.process.pid} did not exit within ${timeoutMs} ms (killed)${describeOutput(p)}`);
  }
  return result;
}

/** Runs a CLI command to completion (bounded). */
export async function runCli(
  args: string[],
  options: SpawnOptions = {},
): Promise<ExitStatus & { stdout: string; stderr: string }> {
  const p = spawnProcess(args, options);
  const status = await waitForExit(p, `gatehouse ${args.join(' ')}`, options.timeoutMs);
  return { ...status, stdout: p.stdout(), stderr: p.stderr() };
}

const LISTENING = /Gatehouse listening on (https?:\/\/\S+)/;

/** Starts `gatehouse start` (with GATEHOUSE_PORT=0 unless env says otherwise) and waits until it listens. */
export async function spawnServer(options: SpawnOptions & { args?: string[] } = {}): Promise<SpawnedServer> {
  const p = spawnProcess(options.args ?? ['start'], { ...options, env: { GATEHOUSE_PORT: '0', ...options.env } });
  let match: RegExpMatchArray;
  try {
    match = await p.waitForStdout(LISTENING, 'the "Gatehouse listening on" line');
  } catch (error) {
    signalGroup(p.process, 'SIGKILL');
    throw error;
  }
  const url = match[1]!.replace(/\/+$/, '');
  return {
    ...p,
    url,
    async stop(signal = 'SIGTERM', timeoutMs) {
      signalGroup(p.process, signal);
      return waitForExit(p, `stop (${signal})`, timeoutMs);
    },
    async kill9() {
      signalGroup(p.process, 'SIGKILL');
      return waitForExit(p, 'kill -9');
    },
  };
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
}

/** One HTTP call (bounded by a timeout), JSON in and out. */
export async function api(
  baseUrl: string,
  method: string,
  path: string,
  options: { key?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<ApiResponse> {
  const response = await fetch(baseUrl + path, {
    method,
    headers: {
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  sinkCredentialsIn(body);
  return { status: response.status, headers: response.headers, body };
}

/** Polls `probe` until it returns a value that is not undefined; bounded, with a clear failure. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = DEFAULT_TIMEOUT_MS, intervalMs = 50 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = undefined;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Every page of a cursor-paginated list endpoint (`{data, nextCursor}`). */
export async function listAll(baseUrl: string, path: string, key: string): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 1000; pages++) {
    const separator = path.includes('?') ? '&' : '?';
    const response = await api(baseUrl, 'GET', cursor ? `${path}${separator}cursor=${encodeURIComponent(cursor)}` : path, { key });
    if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    items.push(...response.body.data);
    cursor = response.body.nextCursor;
    if (!cursor) return items;
  }
  throw new Error(`GET ${path}: more than 1000 pages`);
}

/** A loopback port free right now (the kernel's choice), for a server whose address must be known before it starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Runs `attempt` with `count` ports free right now; again with fresh ones (at most 3 times) when it failed because
 * another process took one in between (its error mentions EADDRINUSE, as spawnServer's does with the output).
 */
export async function withFreePorts<T>(count: number, attempt: (ports: number[]) => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    const ports: number[] = [];
    while (ports.length < count) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    try {
      return await attempt(ports);
    } catch (error) {
      if (tries >= 3 || !String((error as Error).message).includes('EADDRINUSE')) throw error;
    }
  }
}
