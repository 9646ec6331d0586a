// An MCP server (Streamable HTTP) protected by Gatehouse. Run: node examples/mcp-server/src/server.js
// (see examples/mcp-server/README.md and docs/mcp.md).
import { createServer } from 'node:http';
import { createAuthenticator } from 'gatehouse-sdk';
import { createMcpApp } from './app.js';

function env(name, fallback) {
  const value = process.env[name] || fallback;
  if (value === undefined) {
    console.error(`${name} is required (see examples/mcp-server/README.md)`);
    process.exit(2);
  }
  return value;
}

const gatehouseUrl = env('GATEHOUSE_URL');
const host = env('HOST', '127.0.0.1');
const server = createServer();
let authenticator;

server.listen(Number(env('PORT', '3001')), host, () => {
  const { address, port } = server.address();
  // The resource identifier: this server's public URL (PORT=0 picks a port, hence after listen).
  const resource = env('MCP_RESOURCE', `http://${address.includes(':') ? `[${address}]` : address}:${port}/mcp`);
  authenticator = createAuthenticator({
    issuer: env('GATEHOUSE_ISSUER', gatehouseUrl),
    gatehouseUrl,
    // Tokens must name this server in `aud`: a token Gatehouse issued for another resource is refused.
    audience: resource,
    // With a keys:verify key the server follows Gatehouse's revocation stream: revoked tokens are refused at once.
    verifierKey: process.env.GATEHOUSE_VERIFIER_KEY || undefined,
    revocationStream: Boolean(process.env.GATEHOUSE_VERIFIER_KEY) && process.env.GATEHOUSE_REVOCATION_STREAM !== 'off',
    onError: (error) => console.error(`gatehouse: ${error.message}`),
  });
  const loopback = ['127.0.0.1', '::1', 'localhost'].includes(host);
  server.on('request', createMcpApp({ authenticator, resource, localhostOnly: loopback && !process.env.MCP_RESOURCE }));
  console.log(`example MCP server listening on ${resource}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    void authenticator?.close();
  });
}
