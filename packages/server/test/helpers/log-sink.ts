import { appendFileSync } from 'node:fs';

const sink = process.env.GATEHOUSE_TEST_LOG_SINK || undefined;

/**
 * GATEHOUSE_TEST_LOG_SINK=<file>: the JSON log lines of every test app and spawned server are appended to that
 * file, so that the logs of a whole test run can be searched afterwards:
 *   GATEHOUSE_TEST_LOG_SINK=/tmp/logs.jsonl npx vitest run && npx gatehouse scan --all-formats /tmp/logs.jsonl
 * Lines that are not JSON (a spawned server's own announcements, such as a generated root key printed once by
 * design) are left out.
 */
export function sinkLogLines(text: string): void {
  if (sink === undefined) return;
  const lines = text.split('\n').filter((line) => line.startsWith('{'));
  if (lines.length > 0) appendFileSync(sink, `${lines.join('\n')}\n`);
}
