// A reference for the token-client-credentials scenario, in its own process: the least a Fastify token
// endpoint can do. POST /token parses the form body (URLSearchParams) and answers a token response with a
// freshly signed Ed25519 JWT (Gatehouse's signJwt, a new jti each time); no client authentication, no scope
// or audience checks, no audit, no logger, no hooks. No real token endpoint on Fastify can be cheaper.
//
//   node bench/lib/sign-floor-server.js   prints "sign-floor listening on http://127.0.0.1:<port>"
import { generateKeyPairSync } from 'node:crypto';
import Fastify from 'fastify';
import { randomBase62 } from '../../packages/server/dist/core/random.js';
import { signJwt } from '../../packages/server/dist/core/tokens/sign-jwt.js';
import { serveFastify } from './serve-fastify.js';

const key = { kid: 'sig_floor', alg: 'EdDSA', privateKey: generateKeyPairSync('ed25519').privateKey };
const app = Fastify({ logger: false });
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, new URLSearchParams(body)));
app.post('/token', async (request) => {
  const scope = request.body.get('scope') ?? '';
  const iat = Math.floor(Date.now() / 1000);
  const claims = { iss: 'http://127.0.0.1', sub: 'cli_floor', aud: 'https://api.example.com', exp: iat + 900, iat, jti: randomBase62(22), client_id: 'cli_floor', scope };
  return { access_token: await signJwt(key, claims, 'at+jwt'), token_type: 'Bearer', expires_in: 900, scope };
});

await serveFastify(app, 'sign-floor');
