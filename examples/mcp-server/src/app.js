// The MCP server's HTTP app: Streamable HTTP at the resource's path, protected by gatehouse-sdk/express.
// src/server.js runs it; tests build it with their own authenticator (see examples/mcp-server/README.md).
import express from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { localhostHostValidation } from '@modelcontextprotocol/sdk/server/middleware/hostHeaderValidation.js';
import { protectedResourceMetadata, requireAuth } from 'gatehouse-sdk/express';
import { z } from 'zod';

/** Every MCP request needs this scope; it is what the 401 challenge asks clients for first. */
export const BASE_SCOPE = 'mcp:read';
/** The scopes each tool needs: a tool asking for more than BASE_SCOPE is refused 403 insufficient_scope (step-up). */
export const TOOL_SCOPES = {
  whoami: [BASE_SCOPE],
  add_note: [BASE_SCOPE, 'mcp:write'],
};
export const SCOPES = [...new Set(Object.values(TOOL_SCOPES).flat())];

/**
 * @param {object} options
 * @param {import('gatehouse-sdk').Authenticator} options.authenticator created with `audience: resource`
 * @param {string} options.resource this server's URL, e.g. https://mcp.example.com/mcp: the RFC 8707 resource
 *   indicator clients ask Gatehouse for, the `aud` of the tokens it accepts, and where MCP is served (its path)
 * @param {readonly string[]} [options.scopesSupported] advertised in the protected resource metadata
 * @param {string} [options.resourceName]
 * @param {boolean} [options.localhostOnly] refuse requests whose Host is not a loopback name (DNS rebinding)
 * @param {(line: string) => void} [options.log] where refusals are logged with their cause
 */
export function createMcpApp({ authenticator, resource, scopesSupported = SCOPES, resourceName = 'Gatehouse example MCP server', localhostOnly = false, log = console.error }) {
  const protectedResource = { resource, scopesSupported, resourceName };
  const path = new URL(resource).pathname;
  const notes = new Map(); // subject -> string[]: the example's only state

  // One guard for every MCP request, and one per tool needing more: its 403 names every scope the call needs.
  const baseGuard = requireAuth(authenticator, { scopes: [BASE_SCOPE], protectedResource });
  const toolGuards = new Map(
    Object.entries(TOOL_SCOPES)
      .filter(([, scopes]) => scopes.some((s) => s !== BASE_SCOPE))
      .map(([tool, scopes]) => [tool, requireAuth(authenticator, { scopes, protectedResource })]),
  );

  const app = express();
  app.disable('x-powered-by');
  if (localhostOnly) app.use(localhostHostValidation());
  // Log refusals with their cause: the client only sees a vague body and the challenge.
  app.use((req, res, next) => {
    res.on('finish', () => {
      if (req.authDenial) log(`refused ${req.method} ${req.path}: ${req.authDenial.code} (${res.statusCode})`);
    });
    next();
  });
  // RFC 9728: clients that got a 401 find Gatehouse here (the path-suffixed and the bare well-known URL).
  app.use(protectedResourceMetadata(authenticator, protectedResource));

  // Authenticate before reading the body; then a tool call needing more scopes goes through that tool's guard.
  app.all(path, baseGuard, express.json({ limit: '1mb' }), (req, res, next) => {
    const messages = Array.isArray(req.body) ? req.body : [req.body];
    const tools = messages.filter((m) => m && m.method === 'tools/call' && toolGuards.has(m.params?.name)).map((m) => m.params.name);
    const guards = [...new Set(tools)].map((tool) => toolGuards.get(tool));
    const runNext = (i) => (err) => {
      if (err) return next(err);
      if (i === guards.length) return next();
      guards[i](req, res, runNext(i + 1));
    };
    runNext(0)();
  });

  app.post(path, async (req, res, next) => {
    // Stateless Streamable HTTP: a server and a transport per request, built for this caller.
    const server = buildMcpServer(req.auth, notes);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (error) {
      next(error);
    }
  });
  // No server-initiated stream and no sessions in stateless mode.
  app.all(path, (req, res) => {
    res.status(405).set('allow', 'POST').json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });
  });
  return app;
}

/** The MCP server of one request; `auth` is what gatehouse-sdk verified (subject, client, scopes). */
function buildMcpServer(auth, notes) {
  const server = new McpServer({ name: 'gatehouse-example-mcp-server', version: '1.0.0' });
  // Defence in depth: the HTTP guard already refused a call without these scopes.
  const holds = (tool) => TOOL_SCOPES[tool].every((s) => auth.scopes.includes(s));
  const text = (value) => ({ content: [{ type: 'text', text: JSON.stringify(value) }] });
  const refused = (tool) => ({ isError: true, content: [{ type: 'text', text: `${tool} needs the scopes ${TOOL_SCOPES[tool].join(' ')}` }] });

  server.registerTool(
    'whoami',
    { description: 'Who is calling: the user (subject), the OAuth client and the granted scopes.' },
    async () => (holds('whoami') ? text({ subject: auth.subject, clientId: auth.clientId ?? null, scopes: auth.scopes, tenantId: auth.tenantId }) : refused('whoami')),
  );
  server.registerTool(
    'add_note',
    { description: 'Adds a note for the calling user (needs the mcp:write scope).', inputSchema: { text: z.string().min(1).max(500) } },
    async ({ text: note }) => {
      if (!holds('add_note')) return refused('add_note');
      const list = notes.get(auth.subject) ?? [];
      list.push(note);
      notes.set(auth.subject, list);
      return text({ subject: auth.subject, notes: list.length });
    },
  );
  return server;
}
