import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { tempDir } from './helpers/databases.js';
import { sinkCredential } from './helpers/log-sink.js';
import { api, killSpawned, REPO_ROOT, runCli, spawnServer, type SpawnedServer } from './helpers/spawn-server.js';

/**
 * Both packages as a user gets them: `npm pack` of each workspace, installed with npm from the tarballs into an
 * empty project under the system temporary directory (outside this repository, so nothing resolves through the
 * workspace), then the server started through node_modules/.bin/gatehouse and the SDK imported from an ES module
 * and from a TypeScript file type-checked (moduleResolution nodenext, no skipLibCheck) and compiled by the
 * repository's tsc. Build first (npm test does).
 *
 * better-sqlite3 installs with `prebuild-install || node-gyp rebuild`: offline the download fails and node-gyp
 * compiles for a minute and a half. The project is given the binary the repository already built instead, as a
 * local prebuild (prebuild-install's `local-prebuilds`, read from the project's .prebuild-installrc), under the
 * exact name prebuild-install looks for; better-sqlite3 is pinned to the repository's version so the name matches.
 */

const run = promisify(execFile);
const SERVER_DIR = join(REPO_ROOT, 'packages', 'server');
const SDK_DIR = join(REPO_ROOT, 'packages', 'sdk');
const REPO_MODULES = join(REPO_ROOT, 'node_modules');
const version = (dir: string): string => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;

/** The environment for npm: none of the calling npm's settings (npm test sets npm_config_*), no GATEHOUSE_*. */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(npm_|gatehouse_)/i.test(name) && name !== 'INIT_CWD'));
}

async function npm(args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run('npm', args, { cwd, env: npmEnv(), maxBuffer: 64 * 1024 * 1024, timeout: 240_000 });
    return stdout;
  } catch (error) {
    const e = error as { message: string; stdout?: string; stderr?: string };
    throw new Error(`npm ${args.join(' ')} failed: ${e.message}\n--- stdout ---\n${e.stdout?.slice(-4000)}\n--- stderr ---\n${e.stderr?.slice(-4000)}`);
  }
}

/** The file name prebuild-install looks for (its util.js urlTemplate): {name}-v{version}-{runtime}-v{abi}-{platform}{libc}-{arch}.tar.gz. */
function prebuildName(betterSqliteVersion: string): string {
  const glibc = process.platform !== 'linux' || Boolean((process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime);
  const libc = glibc ? '' : 'musl';
  return `better-sqlite3-v${betterSqliteVersion}-node-v${process.versions.modules}-${process.platform}${libc}-${process.arch}.tar.gz`;
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

interface Packed {
  filename: string;
  files: Array<{ path: string }>;
}

describe('gatehouse-server and gatehouse-sdk installed from their npm pack tarballs, outside the repository', () => {
  const work = tempDir('package-install');
  const project = join(work.path, 'project');
  const packDir = join(work.path, 'tarballs');
  const prebuilds = join(work.path, 'prebuilds');
  const betterSqliteVersion = version(join(REPO_MODULES, 'better-sqlite3'));
  const builtBinary = join(REPO_MODULES, 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  const rootKey = generateApiKey('live').key;
  sinkCredential(rootKey);
  let packed: Record<'server' | 'sdk', Packed>;
  let server: SpawnedServer | undefined;

  beforeAll(async () => {
    expect(work.path.startsWith(REPO_ROOT)).toBe(false);
    for (const dir of [project, packDir, prebuilds]) mkdirSync(dir, { recursive: true });

    const report = JSON.parse(await npm(['pack', '--json', '--pack-destination', packDir, '--workspace', 'packages/server', '--workspace', 'packages/sdk'], REPO_ROOT)) as Array<Packed & { name: string }>;
    const byName = (name: string) => report.find((p) => p.name === name) ?? expect.fail(`npm pack made no ${name} tarball`);
    packed = { server: byName('gatehouse-server'), sdk: byName('gatehouse-sdk') };

    await run('tar', ['-czf', join(prebuilds, prebuildName(betterSqliteVersion)), '-C', join(REPO_MODULES, 'better-sqlite3'), 'build/Release/better_sqlite3.node']);
    writeFileSync(join(project, '.prebuild-installrc'), `local-prebuilds=${prebuilds}\n`);
    // npm 11 asks projects to approve install scripts; better-sqlite3's builds (or here, unpacks) its binary.
    writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'my-api', private: true, type: 'module', allowScripts: { 'better-sqlite3': true } }, null, 2)}\n`);
    await npm(
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        join(packDir, packed.server.filename),
        join(packDir, packed.sdk.filename),
        `better-sqlite3@${betterSqliteVersion}`,
        // For the TypeScript check: the types of Node the repository builds with.
        `@types/node@${version(join(REPO_MODULES, '@types', 'node'))}`,
      ],
      project,
    );
  }, 300_000);

  afterAll(async () => {
    await server?.stop().catch(() => {});
    await killSpawned();
    work.remove();
  });

  it('packs what each package needs at run time, and no sources, tests or build info', () => {
    const paths = (p: Packed) => p.files.map((f) => f.path);
    const server = paths(packed.server);
    const sdk = paths(packed.sdk);
    for (const file of ['package.json', 'README.md', 'LICENSE', 'bin/gatehouse.js', 'dist/index.js', 'dist/index.d.ts', 'dist/main.js', 'dist/cli/main.js']) {
      expect(server).toContain(file);
    }
    expect(server.some((f) => f.startsWith('dist/storage/sql/migrations/'))).toBe(true);
    // The admin console, built (packages/console is not published on its own).
    expect(server).toContain('dist-console/index.html');
    expect(server.some((f) => /^dist-console\/assets\/index-[\w-]+\.js$/.test(f))).toBe(true);
    for (const file of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'dist/client/index.js', 'dist/middleware/fastify.d.ts', 'dist/webhooks/index.js']) {
      expect(sdk).toContain(file);
    }
    for (const file of [...server, ...sdk]) expect(file).not.toMatch(/^(src|test)\/|tsbuildinfo|\/contract\//);
  });

  it('installs from the tarballs with npm, better-sqlite3 from the local prebuild (not compiled)', () => {
    const installed = join(project, 'node_modules');
    for (const [name, dir] of [['gatehouse-server', SERVER_DIR], ['gatehouse-sdk', SDK_DIR]] as const) {
      expect(version(join(installed, name))).toBe(version(dir));
    }
    // The server's dependency on the SDK is met by the SDK's tarball (gatehouse-sdk is not on the registry yet).
    expect(existsSync(join(installed, 'gatehouse-server', 'node_modules', 'gatehouse-sdk'))).toBe(false);
    const binary = join(installed, 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    expect(sha256(binary)).toBe(sha256(builtBinary));
    expect(existsSync(join(installed, 'better-sqlite3', 'build', 'Release', 'obj.target'))).toBe(false);
  });

  it('starts the server through node_modules/.bin/gatehouse on a fresh data dir; the bootstrap admin key works', async () => {
    const bin = join(project, 'node_modules', '.bin', 'gatehouse');
    const versionOutput = await runCli(['--version'], { command: bin, cwd: project });
    expect(versionOutput.code, versionOutput.stderr).toBe(0);
    expect(versionOutput.stdout.trim()).toContain(version(SERVER_DIR));

    server = await spawnServer({
      command: bin,
      cwd: project,
      env: { GATEHOUSE_DATA_DIR: join(project, 'data'), GATEHOUSE_BOOTSTRAP_ADMIN_KEY: rootKey, GATEHOUSE_KEY_PREFIX: 'myapi' },
      timeoutMs: 60_000,
    });
    expect(existsSync(join(project, 'data', 'gatehouse.db'))).toBe(true);
    expect((await api(server.url, 'GET', '/healthz')).status).toBe(200);
    // The console it carries is served.
    const consolePage = await fetch(`${server.url}/console/keys`);
    expect(consolePage.status).toBe(200);
    expect(await consolePage.text()).toContain('<div id="app"></div>');

    const created = await api(server.url, 'POST', '/v1/keys', { key: rootKey, body: { name: 'my api caller', scopes: ['invoices:read'] } });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^myapi_live_/);
    const verified = await api(server.url, 'POST', '/v1/keys/verify', { key: rootKey, body: { key: created.body.key, scopes: ['invoices:read'] } });
    expect(verified.body).toMatchObject({ valid: true, code: 'VALID', keyId: created.body.id });
  }, 90_000);

  /** A key holding keys:verify and a caller's key, from the running server, for the SDK programs (in their env). */
  async function sdkEnv(): Promise<{ GATEHOUSE_URL: string; VERIFIER_KEY: string; CALLER_KEY: string; CALLER_ID: string }> {
    if (!server) expect.fail('the server test runs first');
    const verifier = await api(server.url, 'POST', '/v1/keys', { key: rootKey, body: { name: 'verifier', scopes: ['keys:verify'] } });
    const caller = await api(server.url, 'POST', '/v1/keys', { key: rootKey, body: { name: 'caller', scopes: ['invoices:read'] } });
    expect([verifier.status, caller.status]).toEqual([201, 201]);
    return { GATEHOUSE_URL: server.url, VERIFIER_KEY: verifier.body.key, CALLER_KEY: caller.body.key, CALLER_ID: caller.body.id };
  }

  it('imports the SDK from an ES module, which authenticates a key against the server', async () => {
    const keys = await sdkEnv();
    writeFileSync(
      join(project, 'authenticate.mjs'),
      `import { createAuthenticator, isApiKey } from 'gatehouse-sdk';
import { discoverMetadata } from 'gatehouse-sdk/client';

const { GATEHOUSE_URL, VERIFIER_KEY, CALLER_KEY } = process.env;
const metadata = await discoverMetadata(GATEHOUSE_URL);
const authenticator = createAuthenticator({ issuer: metadata.issuer, audience: 'https://api.example', verifierKey: VERIFIER_KEY, revocationStream: false });
const allowed = await authenticator.authenticate(\`Bearer \${CALLER_KEY}\`, { scopes: ['invoices:read'] });
const refused = await authenticator.authenticate(\`Bearer \${CALLER_KEY}\`, { scopes: ['invoices:write'] });
authenticator.close();
console.log(JSON.stringify({ isApiKey: isApiKey(CALLER_KEY), tokenEndpoint: metadata.token_endpoint, allowed: allowed.ok && allowed.auth.keyId, refused: refused.ok || refused.code }));
`,
    );
    const { stdout } = await run(process.execPath, ['authenticate.mjs'], { cwd: project, env: { ...npmEnv(), ...keys }, timeout: 30_000 });
    expect(JSON.parse(stdout)).toEqual({ isApiKey: true, tokenEndpoint: `${keys.GATEHOUSE_URL}/oauth/token`, allowed: keys.CALLER_ID, refused: 'insufficient_scope' });
  }, 60_000);

  it('imports the SDK from a TypeScript file, type-checked with nodenext resolution by the repository tsc, then run', async () => {
    const keys = await sdkEnv();
    writeFileSync(
      join(project, 'tsconfig.json'),
      `${JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, skipLibCheck: false, types: ['node'], outDir: 'out' }, files: ['check.ts'] }, null, 2)}\n`,
    );
    writeFileSync(
      join(project, 'check.ts'),
      `import { createAuthenticator, parseApiKey, type AuthResult, type DenialCode } from 'gatehouse-sdk';
import { discoverMetadata, type AuthorizationServerMetadata } from 'gatehouse-sdk/client';
import { signWebhook, verifyWebhook } from 'gatehouse-sdk/webhooks';

const env = (name: string): string => process.env[name] ?? '';
export function misuse(): void {
  // @ts-expect-error: audience is required (proves the declarations are read, not taken as any)
  createAuthenticator({ issuer: 'https://auth.example' });
}

const metadata: AuthorizationServerMetadata = await discoverMetadata(env('GATEHOUSE_URL'));
const authenticator = createAuthenticator({ issuer: metadata.issuer, audience: 'https://api.example', verifierKey: env('VERIFIER_KEY'), revocationStream: false });
const result: AuthResult = await authenticator.authenticate(\`Bearer \${env('CALLER_KEY')}\`, { scopes: ['invoices:read'] });
authenticator.close();
const keyId: string | undefined = result.ok ? result.auth.keyId : undefined;
const denial: DenialCode | null = result.ok ? null : result.code;
const parsed = parseApiKey(env('CALLER_KEY'));
const prefix: string | null = parsed.ok ? parsed.prefix : null;
console.log(JSON.stringify({ keyId, denial, prefix, webhooks: typeof signWebhook === 'function' && typeof verifyWebhook === 'function' }));
`,
    );
    const tsc = join(REPO_MODULES, 'typescript', 'bin', 'tsc');
    try {
      await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project, timeout: 120_000 });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string };
      expect.fail(`tsc failed:\n${e.stdout}${e.stderr}`);
    }
    const { stdout } = await run(process.execPath, [join('out', 'check.js')], { cwd: project, env: { ...npmEnv(), ...keys }, timeout: 30_000 });
    expect(JSON.parse(stdout)).toEqual({ keyId: keys.CALLER_ID, denial: null, prefix: 'myapi', webhooks: true });
  }, 150_000);
});
