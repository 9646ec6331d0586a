import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DENIAL_CODES, type AuthDenial } from '../src/index.js';
import { denials } from '../src/authentication-result.js';

// The denial codes are a public contract: the list, the denials the authenticator builds, the table in
// authentication-result.ts's doc comment and the one in docs/sdk.md must agree.

const sdkDoc = readFileSync(new URL('../../../docs/sdk.md', import.meta.url), 'utf8');
const resultSource = readFileSync(new URL('../src/authentication-result.ts', import.meta.url), 'utf8');

/** Every denial the authenticator can build, one per code. */
function everyDenial(): AuthDenial[] {
  const deny = denials('realm');
  return [
    ...(['missing_credentials', 'malformed_authorization', 'invalid_token', 'expired_token', 'revoked_token', 'certificate_mismatch'] as const).map(
      (code) => deny.unauthorized(code),
    ),
    deny.forbidden('insufficient_scope', ['a']),
    deny.forbidden('wrong_tenant'),
    deny.rateLimited({ limit: 1, remaining: 0, reset: 100 }, 40),
    deny.ipBlocked(60),
    deny.unavailable(),
  ];
}

/** `code -> status` of the markdown rows `| code | status | ...` (code optionally in backticks) in `text`. */
function tableRows(text: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of text.split('\n')) {
    const cells = line.replace(/^\s*\*\s?/, '').split('|').map((c) => c.trim());
    const code = /^`?([a-z_]+)`?$/.exec(cells[1] ?? '')?.[1];
    if (code && /^\d{3}$/.test(cells[2] ?? '')) rows.set(code, cells[2]!);
  }
  return rows;
}

describe('denial codes', () => {
  const built = new Map(everyDenial().map((d) => [d.code, d]));

  it('every code has a denial, and every denial a listed code', () => {
    expect([...built.keys()].sort()).toEqual([...DENIAL_CODES].sort());
  });

  it('docs/sdk.md lists every code with its status, and nothing else', () => {
    const section = sdkDoc.slice(sdkDoc.indexOf('### Denial codes'), sdkDoc.indexOf('### Certificate-bound tokens'));
    const documented = tableRows(section);
    expect([...documented.keys()]).toEqual([...DENIAL_CODES]);
    for (const [code, denial] of built) expect(documented.get(code), code).toBe(String(denial.status));
    // The vague bodies are named too.
    for (const body of new Set([...built.values()].map((d) => d.error.error))) expect(section).toContain(`\`${body}\``);
  });

  it('the doc comment of DENIAL_CODES lists every code with its status', () => {
    const comment = resultSource.slice(0, resultSource.indexOf('export const DENIAL_CODES'));
    const documented = tableRows(comment);
    expect([...documented.keys()]).toEqual([...DENIAL_CODES]);
    for (const [code, denial] of built) expect(documented.get(code), code).toBe(String(denial.status));
  });

  it('ip_blocked: 429 with the Retry-After given, none when none was sane', () => {
    expect(built.get('ip_blocked')).toEqual({
      ok: false,
      code: 'ip_blocked',
      status: 429,
      headers: { 'Retry-After': '60' },
      error: { error: 'ip_blocked', error_description: expect.any(String) },
    });
    expect(denials('realm').ipBlocked(undefined).headers).toEqual({});
  });
});
