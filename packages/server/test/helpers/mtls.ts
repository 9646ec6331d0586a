import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { request } from 'node:https';
import { Writable } from 'node:stream';
import { generateApiKey } from '../../src/core/api-keys/key-format.js';
import { createRootCertificate, exportPkcs8, generateKeyPair, issueLeafCertificate, newSerialNumber, privateKeyPem } from '../../src/core/ca/x509.js';
import { loadConfig } from '../../src/config/load-config.js';
import { startServer, type RunningServer } from '../../src/main.js';
import { tempDir } from './databases.js';

export interface ClientCredentials {
  cert: string;
  key: string;
}

export interface MtlsServer {
  server: RunningServer;
  /** http://127.0.0.1:<port> */
  url: string;
  /** https://127.0.0.1:<TLS port> */
  tlsUrl: string;
  rootKey: string;
  dataDir: string;
  /** Moves the server's clock (certificates issued meanwhile start and end then). */
  shiftClock(ms: number): void;
  /** Calls the plain-HTTP API as the root key. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Issues a certificate through the API (generated key). */
  issue(body: Record<string, unknown>): Promise<ClientCredentials & { serialNumber: string; thumbprint: string; body: any }>;
  /** The CA bundle, as published now. */
  bundle(): Promise<string>;
  close(): Promise<void>;
}

/** A real server (SQLite, real clock unless shifted) with its TLS listener on an ephemeral port. */
export async function startMtlsServer(env: Record<string, string> = {}): Promise<MtlsServer> {
  const dir = tempDir('mtls');
  const rootKey = generateApiKey('live').key;
  let offset = 0;
  const config = loadConfig({
    GATEHOUSE_DATA_DIR: dir.path,
    GATEHOUSE_PORT: '0',
    GATEHOUSE_TLS_PORT: '0',
    GATEHOUSE_LOG_LEVEL: 'warn',
    GATEHOUSE_BOOTSTRAP_ADMIN_KEY: rootKey,
    GATEHOUSE_PASSWORD_HASH_COST: '14',
    ...env,
  });
  const server = await startServer(config, {
    clock: { now: () => Date.now() + offset },
    onBackgroundError: () => {},
    logStream: new Writable({ write: (_chunk, _encoding, done) => done() }),
  });
  const url = server.url;
  const api: MtlsServer['api'] = async (method, path, body) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${rootKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: response.status, body: parsed };
  };
  return {
    server,
    url,
    tlsUrl: server.tls!.url,
    rootKey,
    dataDir: dir.path,
    shiftClock(ms) {
      offset = ms;
    },
    api,
    async issue(body) {
      const response = await api('POST', '/v1/certificates', body);
      if (response.status !== 201) throw new Error(`issue: ${response.status} ${JSON.stringify(response.body)}`);
      const b = response.body;
      return { cert: b.certificatePem, key: b.privateKeyPem, serialNumber: b.serialNumber, thumbprint: b.thumbprint, body: b };
    },
    async bundle() {
      return (await fetch(`${url}/v1/ca/certificates`)).text();
    },
    async close() {
      await server.close();
      dir.remove();
    },
  };
}

export interface TlsResponse {
  status: number;
  body: string;
}

/**
 * One request over a fresh TLS connection (no agent: every call is a new handshake), verifying the server
 * against `ca`. Rejects when the connection is refused (reset or closed before an answer).
 */
export function tlsRequest(
  baseUrl: string,
  options: { ca: string; client?: ClientCredentials | undefined; method?: string; path?: string; headers?: Record<string, string>; body?: string },
): Promise<TlsResponse> {
  const url = new URL(options.path ?? '/healthz', baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca: options.ca,
        ...(options.client ? { cert: options.client.cert, key: options.client.key } : {}),
        agent: false,
        headers: { connection: 'close', ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

async function keyPem(key: import('node:crypto').webcrypto.CryptoKey): Promise<string> {
  const der = await exportPkcs8(key);
  return privateKeyPem(der);
}

/** A client certificate from a CA Gatehouse does not know. */
export async function foreignCertificate(commonName = 'intruder'): Promise<ClientCredentials> {
  const rootKeys = await generateKeyPair();
  const now = Date.now();
  const rootPem = await createRootCertificate({ keys: rootKeys, commonName: 'Other CA', serialNumber: newSerialNumber(), notBefore: now - 60_000, notAfter: now + 86_400_000 });
  const leafKeys = await generateKeyPair();
  const leaf = await issueLeafCertificate({
    issuer: { certificatePem: rootPem, privateKey: rootKeys.privateKey },
    publicKey: leafKeys.publicKey,
    serialNumber: newSerialNumber(),
    commonName,
    notBefore: now - 60_000,
    notAfter: now + 3_600_000,
    usage: 'client',
  });
  return { cert: leaf.pem, key: await keyPem(leafKeys.privateKey) };
}

/** A self-signed client certificate (what self_signed_tls_client_auth registers in the client's JWKS). */
export async function selfSignedCertificate(commonName = 'self', validity: { notBefore?: number; notAfter?: number } = {}): Promise<ClientCredentials & { der: Buffer }> {
  const keys = await generateKeyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerialNumber(),
    name: `CN=${commonName}`,
    notBefore: new Date(validity.notBefore ?? now - 60_000),
    notAfter: new Date(validity.notAfter ?? now + 3_600_000),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
  });
  return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey), der: Buffer.from(cert.rawData) };
}
