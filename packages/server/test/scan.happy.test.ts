import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { findSecrets } from '../src/core/secret-scanning/find-secrets.js';
import { tempDir } from './helpers/databases.js';
import { api, killSpawned, runCli, spawnServer, type SpawnedServer } from './helpers/spawn-server.js';

/** `gatehouse scan`, run as a real process over real files, real git repositories and a real server. */

const dirs: Array<{ remove(): void }> = [];
function workDir(label: string): string {
  const dir = tempDir(label);
  dirs.push(dir);
  return dir.path;
}
afterAll(async () => {
  await killSpawned();
  for (const dir of dirs) dir.remove();
});

function write(root: string, path: string, text: string | Buffer): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    encoding: 'utf8',
  });
}

/** A key with its last (checksum) character changed: the right shape, the wrong checksum. */
function lookAlike(key: string): string {
  return key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
}

const scan = (args: string[], options: { cwd: string; env?: Record<string, string> }) => runCli(['scan', ...args], options);
const json = (stdout: string) => JSON.parse(stdout) as { findings: any[]; summary: any };

describe('findSecrets', () => {
  it('finds checksum-valid Gatehouse keys only, with their display prefix and position', () => {
    const key = generateApiKey('live');
    const test = generateApiKey('test');
    const text = `a=${key.key} b=${lookAlike(test.key)} c="${test.key}" x${generateApiKey('live').key}`;
    expect(findSecrets(text, { allFormats: false })).toEqual([
      { kind: 'gatehouse_api_key', value: key.key, index: 2, displayPrefix: key.displayPrefix },
      { kind: 'gatehouse_api_key', value: test.key, index: text.indexOf(test.key), displayPrefix: test.displayPrefix },
    ]);
  });

  it('finds keys of every prefix: the default sk, a deployment GATEHOUSE_KEY_PREFIX, an earlier one; none is a Stripe key', () => {
    const sk = generateApiKey('live');
    const acme = generateApiKey('live', 'acme');
    const earlier = generateApiKey('test', 'old2');
    const text = `${acme.key} ${lookAlike(generateApiKey('live', 'acme').key)} sk=${sk.key} x_${generateApiKey('live', 'acme').key} "${earlier.key}"`;
    const expected = [
      { kind: 'gatehouse_api_key', value: acme.key, index: 0, displayPrefix: acme.displayPrefix },
      { kind: 'gatehouse_api_key', value: sk.key, index: text.indexOf(sk.key), displayPrefix: sk.displayPrefix },
      { kind: 'gatehouse_api_key', value: earlier.key, index: text.indexOf(earlier.key), displayPrefix: earlier.displayPrefix },
    ];
    expect(acme.displayPrefix).toMatch(/^acme_live_/);
    expect(findSecrets(text, { allFormats: false })).toEqual(expected);
    expect(findSecrets(text, { allFormats: true })).toEqual(expected);
  });

  it('with allFormats, recognises the documented list of other formats, and not a Gatehouse look-alike as a Stripe key', () => {
    const samples: Array<[string, string, string]> = [
      ['aws_access_key_id', 'AKIAIOSFODNN7EXAMPLE', 'AKIAIOSF'],
      ['github_token', `ghp_${'a1B2c3D4e5'.repeat(3)}abcdef`, 'ghp_a1B2'],
      ['github_token', `github_pat_${'x'.repeat(22)}_${'Y'.repeat(59)}`, 'github_pat_xxxx'],
      ['stripe_secret_key', `sk_live_${'4eC39HqLyjWDarjtT1zdp7dc'}`, 'sk_live_4eC3'],
      ['slack_token', 'xoxb-1234567890-abcdefghij', 'xoxb-1234'],
      ['private_key', '-----BEGIN OPENSSH PRIVATE KEY-----', '-----BEGIN OPENSSH PRIVATE KEY-----'],
      ['gatehouse_client_secret', `cs_${'Ab1'.repeat(14)}C`, 'cs_Ab1Ab1'],
      ['gatehouse_refresh_token', `gatehouse_rt_${'-_aZ09'.repeat(7)}x`, 'gatehouse_rt_-_aZ'],
      ['gatehouse_registration_access_token', `rat_${'Ab1'.repeat(14)}C`, 'rat_Ab1Ab1'],
      ['gatehouse_initial_access_token', `iat_${'Ab1'.repeat(14)}C`, 'iat_Ab1Ab1'],
      // As earlier versions issued them (still honoured): 43 characters, where GitHub's ghr_ tokens have 36.
      ['gatehouse_refresh_token', `ghr_${'-_aZ09'.repeat(7)}x`, 'ghr_-_aZ'],
      ['github_token', `ghr_${'a1B2c3D4e5'.repeat(3)}abcdef`, 'ghr_a1B2'],
    ];
    for (const [kind, value, displayPrefix] of samples) {
      expect(findSecrets(`token: ${value}\n`, { allFormats: true }), kind).toEqual([{ kind, value, index: 7, displayPrefix }]);
      expect(findSecrets(`token: ${value}\n`, { allFormats: false }), kind).toEqual([]);
    }
    const fake = lookAlike(generateApiKey('live').key);
    expect(findSecrets(fake, { allFormats: true })).toEqual([]);
    // A valid Gatehouse key is reported once, as what it is.
    const real = generateApiKey('live').key;
    expect(findSecrets(real, { allFormats: true }).map((m) => m.kind)).toEqual(['gatehouse_api_key']);
  });
});

describe('gatehouse scan over files', () => {
  it('finds keys recursively, skipping binary files, node_modules and .git, and prints the display prefix only', async () => {
    const root = workDir('scan-files');
    const a = generateApiKey('live');
    const b = generateApiKey('test');
    write(root, 'src/config.ts', `// settings\nexport const key = '${a.key}';\n`);
    write(root, 'deep/er/notes.md', `line one\nline two\n  token=${b.key}\n`);
    write(root, 'node_modules/pkg/index.js', `module.exports = '${generateApiKey('live').key}';\n`);
    write(root, '.git/config', `[remote] key = ${generateApiKey('live').key}\n`);
    write(root, 'image.bin', Buffer.concat([Buffer.from([0x89, 0x50, 0, 1]), Buffer.from(generateApiKey('live').key)]));
    write(root, 'lookalike.txt', `${lookAlike(generateApiKey('live').key)}\n`);

    const result = await scan([], { cwd: root });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout.trim().split('\n')).toEqual([
      `deep/er/notes.md:3:9  gatehouse_api_key  ${b.displayPrefix}...  checksum valid, not verified`,
      `src/config.ts:2:21  gatehouse_api_key  ${a.displayPrefix}...  checksum valid, not verified`,
    ]);
    expect(result.stderr).toBe('gatehouse scan: 2 finding(s) in 3 file(s)\n');
    expect(result.stdout + result.stderr).not.toContain(a.key.slice(a.displayPrefix.length, a.displayPrefix.length + 10));
  });

  it('finds keys of a deployment prefix with no configuration, beside sk keys', async () => {
    const root = workDir('scan-prefix');
    const acme = generateApiKey('live', 'acme');
    const sk = generateApiKey('test');
    write(root, '.env', `ACME_KEY=${acme.key}\nOLD_KEY=${sk.key}\nTYPO=${lookAlike(generateApiKey('live', 'acme').key)}\n`);
    const result = await scan(['--json'], { cwd: root });
    expect(result.code, result.stderr).toBe(1);
    expect(json(result.stdout).findings.map((f) => [f.line, f.kind, f.displayPrefix])).toEqual([
      [1, 'gatehouse_api_key', acme.displayPrefix],
      [2, 'gatehouse_api_key', sk.displayPrefix],
    ]);
    expect(result.stdout).not.toContain(acme.key);
  });

  it('--json: one document with every finding and a summary; exit 0 when nothing is found', async () => {
    const root = workDir('scan-json');
    const key = generateApiKey('live');
    write(root, 'one.env', `GATEHOUSE_KEY=${key.key}\nAWS=AKIAIOSFODNN7EXAMPLE\n`);
    write(root, 'two.txt', 'nothing here\n');
    const result = await scan(['--json', 'one.env', 'two.txt'], { cwd: root });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toBe('');
    expect(json(result.stdout)).toEqual({
      findings: [
        { kind: 'gatehouse_api_key', file: 'one.env', line: 1, column: 15, commit: null, displayPrefix: key.displayPrefix, status: 'unverified', keyId: null, revoked: false },
      ],
      summary: { filesScanned: 2, commitsScanned: null, findings: 1, live: 0, revoked: 0, verified: false },
    });
    expect(result.stdout).not.toContain(key.key);

    const all = json((await scan(['--json', '--all-formats', 'one.env'], { cwd: root })).stdout);
    expect(all.findings.map((f) => [f.kind, f.line, f.displayPrefix])).toEqual([
      ['gatehouse_api_key', 1, key.displayPrefix],
      ['aws_access_key_id', 2, 'AKIAIOSF'],
    ]);

    const clean = await scan(['--json', 'two.txt'], { cwd: root });
    expect(clean.code).toBe(0);
    expect(json(clean.stdout)).toEqual({ findings: [], summary: { filesScanned: 1, commitsScanned: null, findings: 0, live: 0, revoked: 0, verified: false } });
  });
});

describe('gatehouse scan --git', () => {
  it('finds a key committed then deleted only in the history, with the commit that added it', async () => {
    const root = workDir('scan-git');
    const key = generateApiKey('live');
    git(root, 'init', '-q');
    write(root, 'README.md', '# project\n');
    git(root, 'add', '.');
    git(root, 'commit', '-qm', 'start');
    write(root, 'src/app.js', `const a = 1;\nconst b = 2;\nconst key = "${key.key}";\n`);
    git(root, 'add', '.');
    git(root, 'commit', '-qm', 'add a key by mistake');
    const leaked = git(root, 'rev-parse', 'HEAD').trim();
    rmSync(join(root, 'src/app.js'));
    git(root, 'add', '-A');
    git(root, 'commit', '-qm', 'remove it');
    // On another branch only, a key in a file that still exists there.
    git(root, 'checkout', '-qb', 'feature');
    const other = generateApiKey('test');
    write(root, 'docs/x.md', `see ${other.key}\n`);
    git(root, 'add', '.');
    git(root, 'commit', '-qm', 'docs');
    const otherCommit = git(root, 'rev-parse', 'HEAD').trim();
    git(root, 'checkout', '-q', 'main');

    const now = await scan(['--json'], { cwd: root });
    expect(now.code, now.stderr).toBe(0);
    expect(json(now.stdout).findings).toEqual([]);

    const history = await scan(['--json', '--git'], { cwd: root });
    expect(history.code, history.stderr).toBe(1);
    const { findings, summary } = json(history.stdout);
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: 'src/app.js', line: 3, column: 14, commit: leaked, displayPrefix: key.displayPrefix, status: 'unverified' }),
        expect.objectContaining({ file: 'docs/x.md', line: 1, column: 5, commit: otherCommit, displayPrefix: other.displayPrefix }),
      ]),
    );
    expect(findings).toHaveLength(2);
    expect(summary.commitsScanned).toBe(4);
    expect(history.stdout).not.toContain(key.key);

    // From a subdirectory, the whole repository's history is scanned.
    mkdirSync(join(root, 'sub'));
    const fromSub = await scan(['--git'], { cwd: join(root, 'sub') });
    expect(fromSub.stdout).toContain(`../src/app.js:3:14 (commit ${leaked.slice(0, 12)})  gatehouse_api_key  ${key.displayPrefix}...`);
  });
});

describe('gatehouse scan against a server', () => {
  let server: SpawnedServer;
  const adminKey = generateApiKey('live').key;
  beforeAll(async () => {
    server = await spawnServer({ env: { GATEHOUSE_DATA_DIR: workDir('scan-server'), GATEHOUSE_BOOTSTRAP_ADMIN_KEY: adminKey, GATEHOUSE_LOG_LEVEL: 'warn' } });
  });

  it('verifies the keys found: only live ones fail the scan; --revoke revokes them, after which they fail verification', async () => {
    const live = await api(server.url, 'POST', '/v1/keys', { key: adminKey, body: { name: 'leaked' } });
    const revoked = await api(server.url, 'POST', '/v1/keys', { key: adminKey, body: { name: 'already revoked' } });
    await api(server.url, 'POST', `/v1/keys/${revoked.body.id}/revoke`, { key: adminKey });
    const unknown = generateApiKey('live').key;
    const root = workDir('scan-live');
    write(root, 'a.txt', `${live.body.key}\n${revoked.body.key}\n${unknown}\n`);
    write(root, 'b.txt', `again: ${live.body.key}\n`);
    const env = { GATEHOUSE_URL: server.url, GATEHOUSE_ADMIN_KEY: adminKey };

    const checked = await scan(['--json'], { cwd: root, env });
    expect(checked.code, checked.stderr).toBe(1);
    expect(json(checked.stdout).findings.map((f) => [f.file, f.line, f.status, f.keyId, f.revoked])).toEqual([
      ['a.txt', 1, 'live', live.body.id, false],
      ['a.txt', 2, 'revoked', revoked.body.id, false],
      ['a.txt', 3, 'not_found', null, false],
      ['b.txt', 1, 'live', live.body.id, false],
    ]);
    expect(json(checked.stdout).summary).toMatchObject({ findings: 4, live: 2, verified: true });

    const revoking = await scan(['--revoke', '--server', server.url], { cwd: root, env: { GATEHOUSE_ADMIN_KEY: adminKey } });
    expect(revoking.code, revoking.stderr).toBe(1);
    expect(revoking.stdout).toContain(`a.txt:1:1  gatehouse_api_key  ${live.body.prefix}...  live, revoked now (${live.body.id})`);
    expect(revoking.stderr).toBe('gatehouse scan: 4 finding(s) in 2 file(s), 2 of them live\n');
    const verified = await api(server.url, 'POST', '/v1/keys/verify', { key: adminKey, body: { key: live.body.key } });
    expect(verified.body).toMatchObject({ valid: false, code: 'REVOKED' });

    // Nothing live is left: the scan passes, though the keys are still there to be cleaned up.
    const after = await scan(['--json'], { cwd: root, env });
    expect(after.code, after.stderr).toBe(0);
    expect(json(after.stdout).findings.map((f) => f.status)).toEqual(['revoked', 'revoked', 'not_found', 'revoked']);
  });

  it('exits 2 when the admin key is refused, and when the server cannot be reached', async () => {
    const root = workDir('scan-refused');
    write(root, 'a.txt', `${generateApiKey('live').key}\n`);
    const refused = await scan([], { cwd: root, env: { GATEHOUSE_URL: server.url, GATEHOUSE_ADMIN_KEY: generateApiKey('live').key } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('answered 401 invalid_token (check GATEHOUSE_ADMIN_KEY)');
    expect(refused.stdout).toBe('');

    const noVerify = (await api(server.url, 'POST', '/v1/keys', { key: adminKey, body: { name: 'reader', scopes: ['keys:read'] } })).body.key;
    const forbidden = await scan([], { cwd: root, env: { GATEHOUSE_URL: server.url, GATEHOUSE_ADMIN_KEY: noVerify } });
    expect(forbidden.code).toBe(2);
    expect(forbidden.stderr).toContain('answered 403 insufficient_scope');

    const unreachable = await scan([], { cwd: root, env: { GATEHOUSE_URL: 'http://127.0.0.1:1', GATEHOUSE_ADMIN_KEY: adminKey } });
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain('cannot reach http://127.0.0.1:1/');
  });
});
