// The node-oidc-provider baseline of the token-client-credentials scenario, run as its own process:
//   node bench/lib/oidc-provider-server.js   (configuration as JSON in the OIDC_BENCH_CONFIG env variable)
// OIDC_BENCH_CONFIG = {clientId, clientSecret, scope, audience, jwk}: one confidential client allowed
// client_credentials with client_secret_basic and the given scope; JWT access tokens (RFC 9068, through the
// resourceIndicators feature) for `audience`, signed EdDSA with `jwk` (an Ed25519 private JWK). The in-memory
// adapter (the default). Listens on 127.0.0.1 on a port the OS picks and prints "oidc-provider listening on <url>".
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const { clientId, clientSecret, scope, audience, jwk } = JSON.parse(process.env.OIDC_BENCH_CONFIG ?? '{}');
if (!clientId || !clientSecret || !scope || !audience || !jwk) throw new Error('OIDC_BENCH_CONFIG is incomplete');

// The issuer must be known before listening; the port is not. A server on port 0 is created first, then the
// provider with the issuer that names the port actually listened on.
const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope,
    },
  ],
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  clientDefaults: { id_token_signed_response_alg: 'EdDSA' },
  jwks: { keys: [{ ...jwk, alg: 'EdDSA', use: 'sig' }] },
  scopes: scope.split(' '),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resourceIndicator) => {
        if (resourceIndicator !== audience) throw new Error(`unexpected resource ${resourceIndicator}`);
        return { scope, audience, accessTokenTTL: 900, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'EdDSA' } } };
      },
    },
  },
});
// Errors are counted by the load generator (non-2xx); a server_error is also printed, once.
let reported = false;
provider.on('server_error', (_ctx, error) => {
  if (!reported) process.stderr.write(`oidc-provider server_error: ${error?.stack ?? error}\n`);
  reported = true;
});
server.on('request', provider.callback());
process.stdout.write(`oidc-provider listening on ${issuer}\n`);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
