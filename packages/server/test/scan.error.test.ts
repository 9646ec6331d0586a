import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { tempDir } from './helpers/databases.js';
import { runCli } from './helpers/spawn-server.js';

const dirs: Array<{ remove(): void }> = [];
function workDir(label: string): string {
  const dir = tempDir(label);
  dirs.push(dir);
  return dir.path;
}
afterAll(() => dirs.forEach((dir) => dir.remove()));

describe('gatehouse scan: usage and failures (exit status 2, never mistaken for "nothing found")', () => {
  const root = workDir('scan-errors');
  writeFileSync(join(root, 'a.txt'), `${generateApiKey('live').key}\n`);
  const scan = (args: string[], env: Record<string, string> = {}) => runCli(['scan', ...args], { cwd: root, env });

  it('--help prints the usage and exits 0', async () => {
    const help = await scan(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: gatehouse scan [paths...] [options]');
    expect(help.stdout).toContain('Exit status: 0 nothing to report; 1');
  });

  it('refuses bad usage with the usage text', async () => {
    for (const [args, env, message] of [
      [['--bogus'], {}, "Unknown option '--bogus'"],
      [['--revoke'], {}, '--revoke needs a server'],
      [['--server', 'http://127.0.0.1:4000'], {}, 'needs an admin key in GATEHOUSE_ADMIN_KEY'],
      [[], { GATEHOUSE_URL: 'http://127.0.0.1:4000' }, 'needs an admin key in GATEHOUSE_ADMIN_KEY'],
      [['--server', 'http://gatehouse.example.com'], { GATEHOUSE_ADMIN_KEY: 'x' }, '--server must be an https URL'],
      [['--server', 'not a url'], { GATEHOUSE_ADMIN_KEY: 'x' }, '--server must be a URL'],
    ] as Array<[string[], Record<string, string>, string]>) {
      const result = await scan(args, env);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toContain(message);
      expect(result.stderr).toContain('Usage: gatehouse scan');
      expect(result.stdout).toBe('');
    }
  });

  it('fails on a path it cannot read, and on --git outside a repository', async () => {
    const missing = await scan(['a.txt', 'no-such-dir']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('gatehouse scan: cannot read no-such-dir\n');
    expect(missing.stdout).toBe('');

    const notGit = await scan(['--git']);
    expect(notGit.code).toBe(2);
    expect(notGit.stderr).toContain('not in a git repository: .');
  });

  it('a repository without commits has no history: the files alone decide', async () => {
    const empty = workDir('scan-empty-git');
    execFileSync('git', ['init', '-q'], { cwd: empty });
    writeFileSync(join(empty, 'clean.txt'), 'nothing\n');
    const result = await runCli(['scan', '--git', '--json'], { cwd: empty });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).summary).toMatchObject({ filesScanned: 1, commitsScanned: 0, findings: 0 });
  });
});
