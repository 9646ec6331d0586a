import { appendFileSync } from 'node:fs';

const sink = process.env.GATEHOUSE_TEST_LOG_SINK || undefined;
const credentialSink = process.env.GATEHOUSE_TEST_CREDENTIAL_SINK || undefined;

/**
 * The whole-run log scan (test/global/log-scan.ts sets both variables for every test run):
 * - GATEHOUSE_TEST_LOG_SINK=<file>: the JSON log lines of every test app and spawned server are appended to it.
 *   Lines that are not JSON (a spawned server's own announcements, such as a generated root key printed once by
 *   design) are left out.
 * - GATEHOUSE_TEST_CREDENTIAL_SINK=<file>: every credential the test helpers create or receive is appended to it
 *   (one per line), so that the end of the run can search the logs for each of them.
 */
export function sinkLogLines(text: string): void {
  if (sink === undefined) return;
  const lines = text.split('\n').filter((line) => line.startsWith('{'));
  if (lines.length > 0) appendFileSync(sink, `${lines.join('\n')}\n`);
}

/** Response fields that carry a credential in plaintext. */
const CREDENTIAL_FIELDS = new Set(['key', 'secret', 'clientSecret', 'client_secret', 'access_token', 'refresh_token', 'id_token', 'privateKey', 'privateKeyPem']);

/** Notes `value` as a credential the logs must never hold. */
export function sinkCredential(value: string): void {
  if (credentialSink !== undefined && value.length >= 16 && !value.includes('\n')) appendFileSync(credentialSink, `${value}\n`);
}

/** Notes every credential a JSON response body carries (at any depth). */
export function sinkCredentialsIn(body: unknown, depth = 0): void {
  if (credentialSink === undefined || depth > 4 || typeof body !== 'object' || body === null) return;
  for (const [name, value] of Object.entries(body)) {
    if (typeof value === 'string' && CREDENTIAL_FIELDS.has(name)) sinkCredential(value);
    else if (typeof value === 'object') sinkCredentialsIn(value, depth + 1);
  }
}

/** A credential as it may turn up in text: as it is, and as others would encode it. */
export function credentialEncodings(value: string): string[] {
  const bytes = Buffer.from(value);
  return [...new Set([value, bytes.toString('base64'), bytes.toString('base64url'), encodeURIComponent(value), bytes.toString('hex')])];
}
