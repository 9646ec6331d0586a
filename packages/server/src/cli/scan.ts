import { spawn, spawnSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { isLoopbackHost } from '../config/load-config.js';
import { findSecrets, type SecretKind } from '../core/secret-scanning/find-secrets.js';

export const SCAN_USAGE = `Usage: gatehouse scan [paths...] [options]

Finds Gatehouse API keys (checksum-verified) in files, recursively (default: the current directory), skipping
binary files, symbolic links, node_modules and .git. Prints where each was found and its display prefix only.

Options:
  --git                 Also scan the git history of the repositories holding the paths (every commit, every
                        branch and tag: the lines each commit added)
  --all-formats         Also report other secret formats (AWS, GitHub, Stripe, Slack, PEM private keys, Gatehouse
                        client secrets and refresh tokens); see docs/secret-scanning.md
  --json                One JSON document on stdout
  --server URL          Verify the keys found against this Gatehouse (default: GATEHOUSE_URL), with the admin key
                        in GATEHOUSE_ADMIN_KEY (scope keys:verify); https unless the host is loopback
  --revoke              Revoke the live keys found (needs --server; the admin key needs keys:write too)

Exit status: 0 nothing to report; 1 a live key (or, without a server, any checksum-valid key; or any secret of
another format) was found; 2 the scan could not be completed (bad usage, unreadable path, git or server error).
`;

type Status = 'unverified' | 'live' | 'revoked' | 'expired' | 'not_found';

export interface ScanFinding {
  kind: SecretKind;
  file: string;
  line: number;
  column: number;
  /** The commit that added the line (--git), or null for a file as it is now. */
  commit: string | null;
  displayPrefix: string;
  /** Gatehouse keys verified against a server: live, revoked, expired or not_found; everything else: unverified. */
  status: Status;
  keyId: string | null;
  /** True when this run revoked the key (--revoke). */
  revoked: boolean;
}

/** The scan cannot be completed (exit status 2). */
class ScanFailure extends Error {}
/** ... because of how it was called (the usage text follows the message). */
class UsageFailure extends ScanFailure {}

const SKIPPED_DIRECTORIES = new Set(['node_modules', '.git']);
/** Git's own test for binary content: a NUL byte in the first 8000 bytes. */
const BINARY_SNIFF_BYTES = 8000;

interface Located {
  finding: ScanFinding;
  /** The secret, kept in memory only to verify or revoke it. */
  value: string;
}

function scanText(text: string, file: string, commit: string | null, allFormats: boolean, into: Located[], firstLine = 1): void {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    for (const match of findSecrets(lines[i]!, { allFormats })) {
      into.push({
        value: match.value,
        finding: {
          kind: match.kind,
          file,
          line: firstLine + i,
          column: match.index + 1,
          commit,
          displayPrefix: match.displayPrefix,
          status: 'unverified',
          keyId: null,
          revoked: false,
        },
      });
    }
  }
}

function statOrFail(path: string): Stats {
  try {
    return lstatSync(path);
  } catch {
    throw new ScanFailure(`cannot read ${path}`);
  }
}

/** Files under `path` (itself when it is a file), without following symbolic links. */
function* filesUnder(path: string, stats = statOrFail(path)): Generator<string> {
  if (stats.isFile()) {
    yield path;
    return;
  }
  if (!stats.isDirectory()) return;
  for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const child = join(path, entry.name);
    if (entry.isDirectory() && !SKIPPED_DIRECTORIES.has(entry.name)) yield* filesUnder(child, lstatSync(child));
    else if (entry.isFile()) yield child;
  }
}

function scanFiles(paths: string[], allFormats: boolean, into: Located[]): number {
  let scanned = 0;
  for (const path of paths) {
    for (const file of filesUnder(path)) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch {
        throw new ScanFailure(`cannot read ${file}`);
      }
      if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) continue;
      scanned++;
      scanText(bytes.toString('utf8'), file, null, allFormats, into);
    }
  }
  return scanned;
}

function gitRoot(path: string): string {
  const directory = statOrFail(path).isDirectory() ? path : dirname(path);
  const result = spawnSync('git', ['-C', directory, 'rev-parse', '--show-toplevel'], { encoding: 'utf8' });
  if (result.error) throw new ScanFailure(`cannot run git: ${result.error.message}`);
  if (result.status !== 0) throw new ScanFailure(`not in a git repository: ${path}`);
  return result.stdout.trim();
}

/**
 * Every line every commit added, on every ref (`git log -p --all`, zero lines of context, no rename detection:
 * a renamed file's lines count as added again). Each finding names the commit and the line in that commit's
 * version of the file. Merge commits add nothing of their own here (their changes come from their parents).
 */
async function scanHistory(root: string, allFormats: boolean, into: Located[]): Promise<number> {
  const shownRoot = relative(process.cwd(), root) || '.';
  const git = spawn(
    'git',
    ['-C', root, '-c', 'core.quotePath=false', 'log', '-p', '--all', '--no-color', '--no-ext-diff', '--no-textconv', '--no-renames', '--unified=0', '--format=commit %H'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  git.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve, reject) => {
    git.once('error', reject);
    git.once('close', resolve);
  });
  let commits = 0;
  let commit: string | null = null;
  let file: string | null = null;
  /** Between a `diff --git` line and its first hunk: where `+++ b/<path>` names the file. */
  let inFileHeader = false;
  let nextLine = 0;
  for await (const line of createInterface({ input: git.stdout, crlfDelay: Infinity })) {
    const header = /^commit ([0-9a-f]{40,64})$/.exec(line);
    if (header) {
      commit = header[1]!;
      commits++;
      file = null;
      inFileHeader = false;
    } else if (line.startsWith('diff --git ')) {
      file = null;
      inFileHeader = true;
    } else if (inFileHeader && line.startsWith('+++ ')) {
      const target = line.slice(4).replace(/^"(.*)"$/, '$1');
      file = target.startsWith('b/') ? join(shownRoot, target.slice(2)) : null;
    } else if (line.startsWith('@@ ')) {
      inFileHeader = false;
      nextLine = Number(/\+(\d+)/.exec(line)?.[1] ?? 0);
    } else if (!inFileHeader && line.startsWith('+') && file !== null && commit !== null) {
      scanText(line.slice(1), file, commit, allFormats, into, nextLine++);
    }
  }
  const code = await exited.catch((error: Error) => {
    throw new ScanFailure(`cannot run git: ${error.message}`);
  });
  // An empty repository (no commits yet) has no history to scan.
  if (code !== 0 && !/does not have any commits/.test(stderr)) throw new ScanFailure(`git log failed in ${root}: ${stderr.trim()}`);
  return commits;
}

interface Server {
  url: string;
  adminKey: string;
}

async function serverCall(server: Server, path: string, body?: unknown): Promise<any> {
  let response: Response;
  try {
    response = await fetch(new URL(path, server.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    throw new ScanFailure(`cannot reach ${server.url}: ${(error as Error).message}`);
  }
  const text = await response.text();
  if (response.status !== 200) {
    let code = `HTTP ${response.status}`;
    try {
      code = (JSON.parse(text) as { error?: string }).error ?? code;
    } catch {
      /* not JSON */
    }
    throw new ScanFailure(`POST ${path} answered ${response.status} ${code}${response.status === 401 ? ' (check GATEHOUSE_ADMIN_KEY)' : ''}`);
  }
  return JSON.parse(text);
}

const STATUS_OF_CODE: Record<string, Status> = { VALID: 'live', RATE_LIMITED: 'live', REVOKED: 'revoked', EXPIRED: 'expired' };

/** Verifies each distinct key once (POST /v1/keys/verify), and revokes the live ones when asked. */
async function checkWithServer(server: Server, found: Located[], revoke: boolean, warn: (message: string) => void): Promise<boolean> {
  let complete = true;
  const byValue = new Map<string, Located[]>();
  for (const located of found) {
    if (located.finding.kind !== 'gatehouse_api_key') continue;
    byValue.set(located.value, [...(byValue.get(located.value) ?? []), located]);
  }
  for (const [value, places] of byValue) {
    const verification = (await serverCall(server, '/v1/keys/verify', { key: value })) as { code: string; keyId: string | null };
    const status = STATUS_OF_CODE[verification.code] ?? 'not_found';
    let revoked = false;
    if (revoke && status === 'live' && verification.keyId) {
      try {
        await serverCall(server, `/v1/keys/${encodeURIComponent(verification.keyId)}/revoke`);
        revoked = true;
      } catch (error) {
        warn(`could not revoke ${places[0]!.finding.displayPrefix}... (${verification.keyId}): ${(error as Error).message}`);
        complete = false;
      }
    }
    for (const { finding } of places) Object.assign(finding, { status, keyId: verification.keyId, revoked });
  }
  return complete;
}

function serverFrom(url: string | undefined, adminKey: string | undefined): Server | undefined {
  if (url === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageFailure(`--server must be a URL: ${url}`);
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname))) {
    throw new UsageFailure('--server must be an https URL (http only for localhost): the keys found are sent to it');
  }
  if (!adminKey) throw new UsageFailure('verifying against a server needs an admin key in GATEHOUSE_ADMIN_KEY');
  return { url: parsed.href, adminKey };
}

/** Whether a finding makes the scan fail: a live key, an unverified one, or any secret of another format. */
const isReportable = (finding: ScanFinding) => finding.kind !== 'gatehouse_api_key' || finding.status === 'live' || finding.status === 'unverified';

function describe(finding: ScanFinding): string {
  const where = `${finding.file}:${finding.line}:${finding.column}${finding.commit ? ` (commit ${finding.commit.slice(0, 12)})` : ''}`;
  let status: string = finding.status;
  if (finding.kind === 'gatehouse_api_key' && finding.status === 'unverified') status = 'checksum valid, not verified';
  if (finding.revoked) status += ', revoked now';
  if (finding.keyId) status += ` (${finding.keyId})`;
  return `${where}  ${finding.kind}  ${finding.displayPrefix}...  ${status}`;
}

/** `gatehouse scan`: returns the exit status. */
export async function scan(argv: string[]): Promise<number> {
  const io = { env: process.env, stdout: process.stdout, stderr: process.stderr };
  const fail = (message: string, usage = false) => {
    io.stderr.write(`gatehouse scan: ${message}\n${usage ? SCAN_USAGE : ''}`);
    return 2;
  };
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        git: { type: 'boolean' },
        'all-formats': { type: 'boolean' },
        json: { type: 'boolean' },
        server: { type: 'string' },
        revoke: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    return fail((error as Error).message, true);
  }
  if (values.help) {
    io.stdout.write(SCAN_USAGE);
    return 0;
  }
  try {
    const server = serverFrom(values.server ?? (io.env.GATEHOUSE_URL?.trim() || undefined), io.env.GATEHOUSE_ADMIN_KEY?.trim() || undefined);
    if (values.revoke && !server) throw new UsageFailure('--revoke needs a server (--server or GATEHOUSE_URL) and GATEHOUSE_ADMIN_KEY');
    const paths = positionals.length > 0 ? positionals : ['.'];
    const allFormats = values['all-formats'] === true;
    const found: Located[] = [];
    const filesScanned = scanFiles(paths, allFormats, found);
    let commitsScanned: number | null = null;
    if (values.git) {
      commitsScanned = 0;
      for (const root of new Set(paths.map(gitRoot))) commitsScanned += await scanHistory(root, allFormats, found);
    }
    const complete = server ? await checkWithServer(server, found, values.revoke === true, (message) => io.stderr.write(`gatehouse scan: ${message}\n`)) : true;

    const findings = found.map((located) => located.finding);
    const live = findings.filter((finding) => finding.status === 'live').length;
    if (values.json) {
      const summary = { filesScanned, commitsScanned, findings: findings.length, live, revoked: findings.filter((f) => f.revoked).length, verified: server !== undefined };
      io.stdout.write(`${JSON.stringify({ findings, summary }, null, 2)}\n`);
    } else {
      for (const finding of findings) io.stdout.write(`${describe(finding)}\n`);
      const history = commitsScanned === null ? '' : ` and ${commitsScanned} commit(s)`;
      io.stderr.write(`gatehouse scan: ${findings.length} finding(s) in ${filesScanned} file(s)${history}${server ? `, ${live} of them live` : ''}\n`);
    }
    if (!complete) return 2;
    return findings.some(isReportable) ? 1 : 0;
  } catch (error) {
    if (error instanceof ScanFailure) return fail(error.message, error instanceof UsageFailure);
    throw error;
  }
}
