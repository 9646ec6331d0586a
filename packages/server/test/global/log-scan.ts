import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findSecrets } from '../../src/core/secret-scanning/find-secrets.js';
import { credentialEncodings } from '../helpers/log-sink.js';

/**
 * The whole-run log scan (issue 6: "a test scans the logs of a full test run for every credential it created
 * and finds none"). Before the run it points GATEHOUSE_TEST_LOG_SINK and GATEHOUSE_TEST_CREDENTIAL_SINK at
 * fresh files (the test helpers append every JSON log line, and every credential they create or receive: keys,
 * client and webhook secrets, tokens, codes, passwords); after it, it searches the collected logs for each of
 * those credentials (plain and as others would encode them) and for anything `gatehouse scan --all-formats`
 * recognises, and fails the run on any finding. A run given GATEHOUSE_TEST_LOG_SINK of its own keeps its files.
 */
let dir: string | undefined;

export function setup(): void {
  if (process.env.GATEHOUSE_TEST_LOG_SINK) return;
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-logs-'));
  process.env.GATEHOUSE_TEST_LOG_SINK = join(dir, 'logs.jsonl');
  process.env.GATEHOUSE_TEST_CREDENTIAL_SINK = join(dir, 'credentials.txt');
}

export function teardown(): void {
  const logFile = process.env.GATEHOUSE_TEST_LOG_SINK!;
  const credentialFile = process.env.GATEHOUSE_TEST_CREDENTIAL_SINK;
  try {
    const logs = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    const credentials = credentialFile && existsSync(credentialFile) ? [...new Set(readFileSync(credentialFile, 'utf8').split('\n').filter(Boolean))] : [];
    const found: string[] = [];
    for (const credential of credentials) {
      const at = credentialEncodings(credential).find((form) => logs.includes(form));
      if (at !== undefined) found.push(`a credential the tests created (${credential.slice(0, 8)}..., ${at === credential ? 'plain' : 'encoded'})`);
    }
    for (const match of findSecrets(logs, { allFormats: true })) found.push(`${match.kind} ${match.displayPrefix}...`);
    const lines = logs.split('\n').length - 1;
    if (found.length > 0) {
      // Vitest reports an error thrown here but keeps its exit code: set it, so the run (and CI) fails.
      process.exitCode = 1;
      throw new Error(`the logs of this test run hold credentials (${lines} log lines searched):\n  ${[...new Set(found)].join('\n  ')}`);
    }
    process.stdout.write(`log scan: ${lines} log lines of the whole run searched for ${credentials.length} credentials and every known secret format: none found\n`);
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
