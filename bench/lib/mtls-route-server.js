// The mtls scenario's subjects: one Fastify GET /resource route over HTTPS answering {"ok":true}, protected by
// gatehouse-sdk's requireAuth, in its own process. `tls`: plain TLS, a bearer token (the baseline). `mtls`:
// the server asks for a client certificate and the token is certificate-bound (RFC 8705), so the SDK also checks
// the peer certificate's thumbprint on every request.
//
//   node bench/lib/mtls-route-server.js tls|mtls   prints "mtls-route (<mode>) listening on https://127.0.0.1:<port>"
//
// MTLS_BENCH_CONFIG (JSON): issuer, audience, cert, key (the server's certificate, PEM).
import Fastify from 'fastify';
import { createAuthenticator } from 'gatehouse-sdk';
import { requireAuth } from 'gatehouse-sdk/fastify';
import { serveFastify } from './serve-fastify.js';

const mode = process.argv[2];
if (mode !== 'tls' && mode !== 'mtls') throw new Error('usage: mtls-route-server.js tls|mtls');
const config = JSON.parse(process.env.MTLS_BENCH_CONFIG);

const app = Fastify({
  logger: false,
  https: { cert: config.cert, key: config.key, ...(mode === 'mtls' ? { requestCert: true, rejectUnauthorized: false } : {}) },
});
const authenticator = createAuthenticator({ issuer: config.issuer, audience: config.audience, revocationStream: false });
app.addHook('onRequest', requireAuth(authenticator));
app.addHook('onClose', async () => authenticator.close());
app.get('/resource', async () => ({ ok: true }));

await serveFastify(app, `mtls-route (${mode})`);
