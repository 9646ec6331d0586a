import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/spawn-server.js';

// The bench's floors and references are small servers built from the server's internals (bench/lib/*-server.js).
// Nothing else runs them, so a change of those internals once broke a floor unseen (it failed every request). This
// runs the scenarios that use them, tiny and bounded: 1 s rounds, 4 connections, 200 keys. It asserts only that
// each scenario measured something (bench/run.js exits non-zero on any failed or unexpected response), never a
// speed: those are npm run bench's business.
describe('npm run bench still runs (tiny settings)', () => {
  it('api-key-verify, usage-storage, detection-overhead and token-client-credentials measure without an error', async () => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bench/run.js')], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        BENCH_SCENARIOS: 'api-key-verify,usage-storage,detection-overhead,token-client-credentials',
        BENCH_DURATION: '1',
        BENCH_WARMUP: '0',
        BENCH_ROUNDS: '1',
        BENCH_CONNECTIONS: '4',
        BENCH_KEYS: '200',
        BENCH_SAMPLE_KEYS: '20',
        BENCH_QUIET_WAIT: '0',
        BENCH_STORAGE_SECONDS: '2',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ code, tail: code === 0 ? '' : output.slice(-3000) }).toEqual({ code: 0, tail: '' });
    for (const row of [
      'floor: the verify fast path, nothing written behind',
      'POST /v1/keys/verify',
      'storage:',
      'token logic on node:http, no audit (floor)',
      'Gatehouse POST /oauth/token (client_credentials)',
    ]) {
      expect(output).toContain(row);
    }
  }, 240_000);
});
