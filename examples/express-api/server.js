// A small Express API protected by Gatehouse. Run: node examples/express-api/server.js (see examples/README.md).
import express from 'express';
import { createAuthenticator } from 'gatehouse-sdk';
import { requireAuth } from 'gatehouse-sdk/express';

function env(name, fallback) {
  const value = process.env[name] || fallback;
  if (value === undefined) {
    console.error(`${name} is required (see examples/README.md)`);
    process.exit(2);
  }
  return value;
}

const gatehouseUrl = env('GATEHOUSE_URL');
const authenticator = createAuthenticator({
  issuer: env('GATEHOUSE_ISSUER', gatehouseUrl),
  gatehouseUrl,
  audience: env('API_AUDIENCE', 'https://api.example'),
  // Needed for API keys (and the revocation stream); JWT access tokens are verified locally without it.
  verifierKey: process.env.GATEHOUSE_VERIFIER_KEY || undefined,
  revocationStream: Boolean(process.env.GATEHOUSE_VERIFIER_KEY) && process.env.GATEHOUSE_REVOCATION_STREAM !== 'off',
  onError: (error) => console.error(`gatehouse: ${error.message}`),
});

const app = express();
// Log refusals with their cause: the client only sees a vague body.
app.use((req, res, next) => {
  res.on('finish', () => {
    if (req.authDenial) console.error(`refused ${req.method} ${req.path}: ${req.authDenial.code} (${res.statusCode})`);
  });
  next();
});

app.get('/health', (req, res) => res.json({ ok: true }));

app.get('/orders', requireAuth(authenticator, { scopes: ['orders:read'] }), (req, res) => {
  res.json({ caller: req.auth.subject, kind: req.auth.kind, orders: [{ id: 'ord_1', total: 42 }] });
});

// Mounted on the route, so req.params.tenant is known to the middleware.
app.get('/tenants/:tenant/orders', requireAuth(authenticator, { scopes: ['orders:read'], tenantParam: 'tenant' }), (req, res) => {
  res.json({ tenant: req.auth.tenantId, caller: req.auth.subject, orders: [] });
});

const server = app.listen(Number(env('PORT', '3000')), env('HOST', '127.0.0.1'), () => {
  const { address, port } = server.address();
  console.log(`example API listening on http://${address}:${port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    authenticator.close();
  });
}
