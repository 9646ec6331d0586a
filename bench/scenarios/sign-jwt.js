// Micro-benchmark of Ed25519 access-token signing in one process, same run, same claims:
//   - Gatehouse's signJwt: node:crypto sign() on the thread pool, precomputed header;
//   - jose's SignJWT (jose 6, the version Gatehouse depends on: WebCrypto);
//   - jose 5's SignJWT as node-oidc-provider 8 uses it (its Node build signs with node:crypto), when installed.
// Each runs SIGN_JWT_SECONDS (default 3) per round, alternating, SIGN_JWT_ROUNDS (default 3) rounds. jose verifies
// every output first.
//
// On its own (after `npm run build`):  node bench/scenarios/sign-jwt.js       (prints a small table)
//                                      node bench/scenarios/sign-jwt.js --json (one JSON line, for run.js)
// The token-client-credentials scenario runs it as a child process and prints its figures under its table.
import { generateKeyPairSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { SignJWT, jwtVerify } from 'jose';
import { signJwt } from '../../packages/server/dist/core/tokens/sign-jwt.js';

export const name = 'sign-jwt';

/** jose as node-oidc-provider resolves it (its own nested copy, if any); undefined when not installed. */
async function oidcProviderJose() {
  try {
    const require = createRequire(import.meta.url);
    const providerRequire = createRequire(require.resolve('oidc-provider'));
    const path = providerRequire.resolve('jose');
    const version = providerRequire('jose/package.json').version;
    return { jose: await import(pathToFileURL(path).href), version };
  } catch {
    return undefined;
  }
}

/**
 * Tokens per second of each signer, per round. Resolves with
 * `{ signers: [{ name, label, rates: number[] }], seconds, rounds }`.
 */
export async function measureSigning({ seconds = 3, rounds = 3 } = {}) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const key = { kid: 'sig_bench', alg: 'EdDSA', privateKey };
  const header = { alg: 'EdDSA', typ: 'at+jwt', kid: 'sig_bench' };
  const claims = () => {
    const iat = Math.floor(Date.now() / 1000);
    return { iss: 'https://auth.example.com', sub: 'cli_bench', aud: 'https://api.example.com', exp: iat + 900, iat, jti: String(Math.random()), client_id: 'cli_bench', scope: 'read write' };
  };
  const signers = [
    { name: 'node', label: 'signJwt (node:crypto sign(), thread pool)', fn: async () => signJwt(key, claims(), 'at+jwt') },
    { name: 'jose', label: `jose SignJWT (jose ${joseVersion()}, WebCrypto)`, fn: () => new SignJWT(claims()).setProtectedHeader(header).sign(privateKey) },
  ];
  const nested = await oidcProviderJose();
  if (nested && nested.jose.SignJWT !== SignJWT) {
    signers.push({
      name: 'jose-oidc-provider',
      label: `jose SignJWT (jose ${nested.version}, as node-oidc-provider uses it)`,
      fn: () => new nested.jose.SignJWT(claims()).setProtectedHeader(header).sign(privateKey),
    });
  }

  for (const signer of signers) await jwtVerify(await signer.fn(), publicKey, { typ: 'at+jwt', algorithms: ['EdDSA'] });
  const rate = async (fn) => {
    const end = performance.now() + seconds * 1000;
    let n = 0;
    // 50 signatures in flight, as under the load test's 50 connections: signers that work on the thread pool
    // (signJwt, jose 5) overlap them; a synchronous one does not.
    while (performance.now() < end) {
      await Promise.all(Array.from({ length: 50 }, () => fn()));
      n += 50;
    }
    return n / seconds;
  };
  const results = signers.map((signer) => ({ name: signer.name, label: signer.label, rates: [] }));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < signers.length; i++) results[i].rates.push(await rate(signers[i].fn));
  }
  return { signers: results, seconds, rounds };
}

function joseVersion() {
  try {
    return createRequire(import.meta.url)('jose/package.json').version;
  } catch {
    return '?';
  }
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Lines describing a measureSigning() result: median and range of each signer, ratios against signJwt. */
export function describeSigning({ signers, seconds, rounds }) {
  const width = Math.max(...signers.map((s) => s.label.length));
  const base = median(signers[0].rates);
  const fmt = (v) => Math.round(v).toLocaleString('en-US');
  return [
    `Ed25519 signing in one process (${rounds} alternating rounds of ${seconds} s; median, range):`,
    ...signers.map((s) => {
      const m = median(s.rates);
      return (
        `  ${s.label.padEnd(width)}  ${fmt(m).padStart(7)} tokens/s  (${fmt(Math.min(...s.rates))}..${fmt(Math.max(...s.rates))})` +
        (s === signers[0] ? '' : `  signJwt is ${(base / m).toFixed(2)}x`)
      );
    }),
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await measureSigning({ seconds: Number(process.env.SIGN_JWT_SECONDS ?? 3), rounds: Number(process.env.SIGN_JWT_ROUNDS ?? 3) });
  if (process.argv.includes('--json')) console.log(JSON.stringify(result));
  else console.log(describeSigning(result).join('\n'));
}
