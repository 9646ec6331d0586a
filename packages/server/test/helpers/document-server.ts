import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createRootCertificate, exportPkcs8, generateKeyPair, issueLeafCertificate, newSerialNumber, privateKeyPem } from '../../src/core/ca/x509.js';
import { tempDir } from './databases.js';

/** What the document server answers for a path. */
export interface DocumentRoute {
  status?: number;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  /** Wait this long before answering (a slow server). */
  delayMs?: number;
}

/**
 * A local HTTPS server for Client ID Metadata Documents, its certificate (localhost, 127.0.0.1, ::1) issued by a
 * test CA made for it. `caFile` is the CA's PEM on disk, for NODE_EXTRA_CA_CERTS of a spawned server; `caPem`
 * for the fetcher's test-only extra CA.
 */
export interface DocumentServer {
  /** https://localhost:<port> */
  origin: string;
  /** https://127.0.0.1:<port> */
  ipOrigin: string;
  port: number;
  caPem: string;
  caFile: string;
  /** Sets what a path answers (replacing the previous route). */
  route(path: string, route: DocumentRoute): void;
  /** Requests received per path. */
  hits(path: string): number;
  close(): Promise<void>;
}

/** A test CA and a serverAuth certificate (localhost, 127.0.0.1, ::1) it signed, in PEM. */
export interface TestServerCertificates {
  caPem: string;
  cert: string;
  key: string;
}

export async function createTestServerCertificates(caName = 'Gatehouse test CA'): Promise<TestServerCertificates> {
  const now = Date.now();
  const caKeys = await generateKeyPair();
  const caPem = await createRootCertificate({ keys: caKeys, commonName: caName, serialNumber: newSerialNumber(), notBefore: now - 60_000, notAfter: now + 86_400_000 });
  const leafKeys = await generateKeyPair();
  const leaf = await issueLeafCertificate({
    issuer: { certificatePem: caPem, privateKey: caKeys.privateKey },
    publicKey: leafKeys.publicKey,
    serialNumber: newSerialNumber(),
    commonName: 'localhost',
    notBefore: now - 60_000,
    notAfter: now + 86_400_000,
    usage: 'server',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
  });
  return { caPem, cert: leaf.pem, key: privateKeyPem(await exportPkcs8(leafKeys.privateKey)) };
}

export async function startDocumentServer(): Promise<DocumentServer> {
  const dir = tempDir('cimd-ca');
  const { caPem, cert, key } = await createTestServerCertificates('CIMD test CA');
  const caFile = join(dir.path, 'ca.pem');
  writeFileSync(caFile, caPem);
  const routes = new Map<string, DocumentRoute>();
  const counts = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const server = https.createServer({ cert, key }, (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const route = routes.get(path) ?? { status: 404, body: 'not found', headers: { 'content-type': 'text/plain' } };
    const answer = () => {
      const body = typeof route.body === 'string' ? route.body : JSON.stringify(route.body ?? {});
      res.writeHead(route.status ?? 200, { 'content-type': 'application/json', ...route.headers });
      res.end(body);
    };
    if (route.delayMs) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!res.destroyed) answer();
      }, route.delayMs);
      timers.add(timer);
    } else {
      answer();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://localhost:${port}`,
    ipOrigin: `https://127.0.0.1:${port}`,
    port,
    caPem,
    caFile,
    route: (path, route) => routes.set(path, route),
    hits: (path) => counts.get(path) ?? 0,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      dir.remove();
    },
  };
}

/** A good metadata document for a client_id URL. */
export function metadataDocument(clientId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: clientId,
    client_name: 'Example MCP Client',
    redirect_uris: ['http://127.0.0.1/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    scope: 'openid profile read',
    ...overrides,
  };
}
