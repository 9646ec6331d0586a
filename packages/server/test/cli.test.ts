import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseApiKey } from '../src/core/api-keys/key-format.js';
import { tempDir } from './helpers/databases.js';
import { api, freePort, killSpawned, REPO_ROOT, runCli, spawnServer } from './helpers/spawn-server.js';

/** The `gatehouse` command line, run as real processes. */

const dirs: Array<{ remove(): void }> = [];
function dataDir(label: string): string {
  const dir = tempDir(label);
  dirs.push(dir);
  return dir.path;
}

afterAll(async () => {
  await killSpawned();
  for (const dir of dirs) dir.remove();
});

const KEY_PATTERN = /sk_(?:live|test)_[0-9A-Za-z]+/g;

describe('gatehouse keys generate', () => {
  it('prints one well-formed live key, and a test key with --test', async () => {
    const live = await runCli(['keys', 'generate']);
    expect(live.code, live.stderr).toBe(0);
    const key = live.stdout.trim();
    expect(key).toMatch(/^sk_live_/);
    expect(parseApiKey(key)).toMatchObject({ ok: true, environment: 'live' });

    const test = await runCli(['keys', 'generate', '--test']);
    expect(test.code, test.stderr).toBe(0);
    expect(test.stdout.trim()).toMatch(/^sk_test_/);
    expect(parseApiKey(test.stdout.trim())).toMatchObject({ ok: true, environment: 'test' });
    expect(test.stdout.trim()).not.toBe(key);
  });

  it('uses the deployment key prefix: --key-prefix, else GATEHOUSE_KEY_PREFIX; a bad one is a usage error', async () => {
    const fromEnv = await runCli(['keys', 'generate', '--test'], { env: { GATEHOUSE_KEY_PREFIX: 'acme' } });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(parseApiKey(fromEnv.stdout.trim())).toMatchObject({ ok: true, prefix: 'acme', environment: 'test' });
    const fromFlag = await runCli(['keys', 'generate', '--key-prefix', 'gh2'], { env: { GATEHOUSE_KEY_PREFIX: 'acme' } });
    expect(parseApiKey(fromFlag.stdout.trim())).toMatchObject({ ok: true, prefix: 'gh2', environment: 'live' });
    const bad = await runCli(['keys', 'generate', '--key-prefix', 'Bad_Prefix']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--key-prefix \(or GATEHOUSE_KEY_PREFIX\): a key prefix is 2 to 16 lowercase letters and digits/);
    expect(bad.stdout).toBe('');
  });
});

describe('gatehouse migrate', () => {
  it('creates the database in an empty data dir, and is a no-op the second time', async () => {
    const dir = join(dataDir('cli-migrate'), 'not-yet-there');
    const first = await runCli(['migrate'], { env: { GATEHOUSE_DATA_DIR: dir } });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^Applied: /);
    expect(existsSync(join(dir, 'gatehouse.db'))).toBe(true);

    const second = await runCli(['migrate', '--data-dir', dir]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe('Schema is up to date.\n');
  });
});

describe('gatehouse start', () => {
  it('prints a generated root admin key exactly once, on the first start only; the key works', async () => {
    const dir = dataDir('cli-start');
    const first = await spawnServer({ env: { GATEHOUSE_DATA_DIR: dir } });
    const printed = first.stdout().match(/Root admin key[^\n]*\n\s*(sk_live_[0-9A-Za-z]+)\s/);
    expect(printed, first.stdout()).not.toBeNull();
    const rootKey = printed![1]!;
    expect(parseApiKey(rootKey).ok).toBe(true);

    const asAdmin = await api(first.url, 'GET', '/v1/keys', { key: rootKey });
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body.data).toEqual([expect.objectContaining({ name: 'root', scopes: ['admin'] })]);
    const created = await api(first.url, 'POST', '/v1/keys', { key: rootKey, body: { name: 'cli' } });
    expect(created.status).toBe(201);
    expect((await api(first.url, 'GET', '/v1/keys', { key: 'sk_live_wrong' })).status).toBe(401);

    const stopped = await first.stop();
    expect(stopped, first.stderr()).toEqual({ code: 0, signal: null });
    // Exactly once: not repeated, and never in a log line (the created key's plaintext is not logged either).
    const output = first.stdout() + first.stderr();
    expect(output.split(rootKey).length - 1).toBe(1);
    expect(output.match(KEY_PATTERN)).toEqual([rootKey]);

    // The data dir's master key is owner-only.
    expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);

    const second = await spawnServer({ env: { GATEHOUSE_DATA_DIR: dir } });
    expect(second.stdout()).not.toMatch(/Root admin key/);
    expect(second.stdout().match(KEY_PATTERN)).toBeNull();
    expect((await api(second.url, 'GET', '/v1/keys', { key: rootKey })).status).toBe(200);
    expect(await second.stop()).toEqual({ code: 0, signal: null });
    expect(second.stdout() + second.stderr()).not.toMatch(KEY_PATTERN);
  });

  it('exits 2 with a clear message on an invalid environment', async () => {
    const result = await runCli(['start'], { env: { GATEHOUSE_DATA_DIR: dataDir('cli-bad-env'), GATEHOUSE_PORT: 'abc' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Invalid configuration/);
    expect(result.stderr).toMatch(/GATEHOUSE_PORT must be a whole number/);
    expect(result.stdout).not.toMatch(/listening/);
  });

  it('--host 0.0.0.0 without GATEHOUSE_ISSUER exits 2 asking for it, in one line; with it, starts', async () => {
    const dir = dataDir('cli-wildcard-host');
    const refused = await runCli(['start', '--host', '0.0.0.0'], { env: { GATEHOUSE_DATA_DIR: dir } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^  - GATEHOUSE_HOST 0\.0\.0\.0 listens on every interface, .* set GATEHOUSE_ISSUER \(--issuer\) to the public URL clients use.*$/m);
    expect(refused.stdout).not.toMatch(/listening/);

    const port = await freePort();
    const server = await spawnServer({ args: ['start', '--host', '0.0.0.0'], env: { GATEHOUSE_DATA_DIR: dir, GATEHOUSE_PORT: String(port), GATEHOUSE_ISSUER: `http://localhost:${port}` } });
    const metadata = await api(`http://127.0.0.1:${port}`, 'GET', '/.well-known/openid-configuration');
    expect(metadata.status).toBe(200);
    expect(metadata.body.issuer).toBe(`http://localhost:${port}`);
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  });

  it('exits 2 naming GATEHOUSE_KEY_PREFIX when the key prefix cannot be one', async () => {
    const result = await runCli(['start', '--key-prefix', 'live'], { env: { GATEHOUSE_DATA_DIR: dataDir('cli-bad-prefix') } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^  - GATEHOUSE_KEY_PREFIX "live" is refused: a key prefix cannot be "live", an environment name$/m);
    expect(result.stdout).not.toMatch(/listening|Root admin key/);
  });

  it('exits 2 on an unknown flag', async () => {
    const result = await runCli(['start', '--no-such-flag'], { env: { GATEHOUSE_DATA_DIR: dataDir('cli-bad-flag') } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^gatehouse: .*no-such-flag/);
  });

  it('refuses to start with a master key other than the one the data dir was set up with', async () => {
    const dir = dataDir('cli-master-key');
    const first = await spawnServer({ env: { GATEHOUSE_DATA_DIR: dir } });
    // SIGTERM at once after the "listening" line: the handlers must already be installed (graceful exit 0).
    expect(await first.stop()).toEqual({ code: 0, signal: null });
    expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);

    const wrong = await runCli(['start'], {
      env: { GATEHOUSE_DATA_DIR: dir, GATEHOUSE_PORT: '0', GATEHOUSE_MASTER_KEY: randomBytes(32).toString('base64') },
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/master key does not match the one this database was set up with/);
    expect(wrong.stdout).not.toMatch(/listening/);
  });
});

describe('npx gatehouse (workspace bin link)', () => {
  it('starts from the repo root and answers /healthz', async () => {
    const link = join(REPO_ROOT, 'node_modules', '.bin', 'gatehouse');
    expect(
      existsSync(link),
      `${link} is missing: the workspace bin link is created by \`npm install\` (package.json "bin" of packages/server)`,
    ).toBe(true);
    // --no: never fetch anything from the registry (the npm name gatehouse belongs to an unrelated package).
    const server = await spawnServer({
      command: 'npx',
      args: ['--no', '--', 'gatehouse', 'start'],
      cwd: REPO_ROOT,
      env: { GATEHOUSE_DATA_DIR: dataDir('cli-npx'), GATEHOUSE_LOG_LEVEL: 'warn' },
    });
    const health = await api(server.url, 'GET', '/healthz');
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
    const stopped = await server.stop();
    expect(stopped.signal === 'SIGTERM' || stopped.code === 0 || stopped.code === 143, JSON.stringify(stopped)).toBe(true);
  });
});
