import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { tempDir } from './helpers/databases.js';
import { api, killSpawned, REPO_ROOT, spawnServer, type SpawnedServer } from './helpers/spawn-server.js';

/**
 * Every curl example of README.md and examples/README.md that talks to Gatehouse (127.0.0.1:4000) is
 * run as written, by bash and curl, against a real server, with only the placeholders filled in: the admin key
 * variables ($ROOT, $ROOT_KEY, $VERIFIER_KEY) and a `sk_live_...` key. The other shell examples (npm, the example
 * programs and their curls) are run by packages/sdk/test/examples.test.ts; `npm install`/`npm test` are not.
 */

const run = promisify(execFile);
const GATEHOUSE_EXAMPLE_URL = 'http://127.0.0.1:4000';

interface Example {
  file: string;
  line: number;
  command: string;
}

/** The commands of every ```sh block, continuation lines joined, comments dropped. */
function shellCommands(file: string): Example[] {
  const lines = readFileSync(join(REPO_ROOT, file), 'utf8').split('\n');
  const out: Example[] = [];
  let inBlock = false;
  let current: Example | undefined;
  for (const [i, line] of lines.entries()) {
    if (!inBlock) {
      inBlock = line.trim() === '```sh';
      continue;
    }
    if (line.trim() === '```') {
      inBlock = false;
      continue;
    }
    if (current) {
      current.command += `\n${line}`;
    } else if (line.trim() !== '' && !line.trimStart().startsWith('#')) {
      current = { file, line: i + 1, command: line };
    }
    if (current && !line.endsWith('\\')) {
      out.push(current);
      current = undefined;
    }
  }
  return out;
}

const examples = ['README.md', 'examples/README.md'].flatMap(shellCommands).filter((e) => e.command.startsWith('curl ') && e.command.includes(GATEHOUSE_EXAMPLE_URL));

describe('the shell examples of README.md and examples/README.md work against a real Gatehouse', () => {
  let server: SpawnedServer;
  const rootKey = generateApiKey('live').key;
  let apiKey: string;

  beforeAll(async () => {
    server = await spawnServer({ env: { GATEHOUSE_DATA_DIR: tempDir('shell-examples').path, GATEHOUSE_BOOTSTRAP_ADMIN_KEY: rootKey, GATEHOUSE_LOG_LEVEL: 'warn' } });
    const created = await api(server.url, 'POST', '/v1/keys', { key: rootKey, body: { name: 'for the examples', scopes: ['invoices:read'] } });
    apiKey = created.body.key;
  });
  afterAll(() => killSpawned());

  it('finds the examples (the extraction itself is not broken)', () => {
    expect(examples.map((e) => e.file)).toEqual(expect.arrayContaining(['README.md', 'examples/README.md']));
    expect(examples.length).toBeGreaterThanOrEqual(5);
  });

  it.each(examples.map((e) => [`${e.file}:${e.line}`, e] as const))('%s', async (_where, example) => {
    const command = example.command.replaceAll(GATEHOUSE_EXAMPLE_URL, server.url).replaceAll('sk_live_...', apiKey);
    const { stdout } = await run('bash', ['--norc', '--noprofile', '-ec', `${command} -w '\\n%{http_code}'`], {
      env: { PATH: process.env.PATH, ROOT: rootKey, ROOT_KEY: rootKey, VERIFIER_KEY: rootKey },
    });
    const status = Number(stdout.slice(stdout.lastIndexOf('\n') + 1));
    const body = stdout.slice(0, stdout.lastIndexOf('\n'));
    expect(status, body).toBeGreaterThanOrEqual(200);
    expect(status, body).toBeLessThan(300);
    const json = JSON.parse(body);
    expect(json.error, body).toBeUndefined();
    if (json.valid !== undefined) expect(json, body).toMatchObject({ valid: true, code: 'VALID' });
  });
});
