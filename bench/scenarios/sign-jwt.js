// Micro-benchmark, run on its own (not part of `npm run bench`'s table):
//   npm run build && node bench/scenarios/sign-jwt.js
// Ed25519 access-token signing in one process, same run, same payload: Gatehouse's signJwt (node:crypto
// sign() directly, precomputed header) vs jose's SignJWT. Each side runs SIGN_JWT_SECONDS (default 3) per
// round, alternating, SIGN_JWT_ROUNDS (default 3) rounds; prints tokens/s and the ratio. Both outputs are
// checked with jose's jwtVerify first.
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { signJwt } from '../../packages/server/dist/core/tokens/sign-jwt.js';

export const name = 'sign-jwt';
const seconds = Number(process.env.SIGN_JWT_SECONDS ?? 3);
const rounds = Number(process.env.SIGN_JWT_ROUNDS ?? 3);

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const key = { kid: 'sig_bench', alg: 'EdDSA', privateKey };
const claims = () => {
  const iat = Math.floor(Date.now() / 1000);
  return { iss: 'https://auth.example.com', sub: 'cli_bench', aud: 'https://api.example.com', exp: iat + 900, iat, jti: String(Math.random()), client_id: 'cli_bench', scope: 'read write' };
};
const viaNode = async () => signJwt(key, claims(), 'at+jwt');
const viaJose = () => new SignJWT(claims()).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'sig_bench' }).sign(privateKey);

async function rate(fn) {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) await fn();
    n += 100;
  }
  return n / seconds;
}

for (const fn of [viaNode, viaJose]) await jwtVerify(await fn(), publicKey, { typ: 'at+jwt' });
const results = { node: [], jose: [] };
for (let r = 0; r < rounds; r++) {
  results.node.push(await rate(viaNode));
  results.jose.push(await rate(viaJose));
}
const best = (list) => Math.max(...list);
console.log(`signJwt (node:crypto): ${Math.round(best(results.node))} tokens/s`);
console.log(`jose SignJWT:          ${Math.round(best(results.jose))} tokens/s`);
console.log(`ratio:                 ${(best(results.node) / best(results.jose)).toFixed(2)}x`);
