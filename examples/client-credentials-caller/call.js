// Calls a protected API as a service, with a client_credentials access token from Gatehouse.
// Run: node examples/client-credentials-caller/call.js (see examples/README.md).
import { ClientCredentialsClient } from 'gatehouse-sdk/client';

function env(name, fallback) {
  const value = process.env[name] || fallback;
  if (value === undefined) {
    console.error(`${name} is required (see examples/README.md)`);
    process.exit(2);
  }
  return value;
}

const client = new ClientCredentialsClient({
  issuer: env('GATEHOUSE_ISSUER', process.env.GATEHOUSE_URL),
  clientId: env('GATEHOUSE_CLIENT_ID'),
  clientSecret: env('GATEHOUSE_CLIENT_SECRET'),
  scope: env('API_SCOPE', 'orders:read'),
  // The API's audience: the token is minted for it (RFC 8707).
  resource: env('API_AUDIENCE', 'https://api.example'),
});

const url = new URL(env('API_PATH', '/orders'), env('API_URL', 'http://127.0.0.1:3000'));
// The token is fetched once, cached, refreshed before expiry, and retried once after a 401.
const response = await client.fetch(url);
console.log(`${response.status} ${await response.text()}`);
process.exitCode = response.ok ? 0 : 1;
