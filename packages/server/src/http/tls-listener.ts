import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { FastifyBaseLogger } from 'fastify';
import type { Services } from '../services.js';
import type { App } from './app-types.js';
import { requestListenerOf } from './build-app.js';
import { auditRefusedCertificate, presentedCertificate, rememberPeerCertificate } from './peer-certificate.js';

/** The embedded-mode server certificate's lifetime; it is renewed after 2/3 of it. */
const SERVER_CERTIFICATE_LIFETIME_SECONDS = 86_400;

export interface TlsListener {
  server: Server;
  /** https://<host>:<port actually listened on> */
  url: string;
  /** Renews the embedded-mode server certificate now (tests; it also renews itself after 2/3 of its lifetime). */
  renewServerCertificate(): Promise<void>;
  /** Stops accepting; closes idle connections (the caller waits for the app to finish in-flight requests). */
  close(): Promise<void>;
}

interface Credentials {
  cert: string;
  key: string;
  /** Epoch ms; embedded mode only. */
  renewAt?: number;
}

/** Names a CA-issued server certificate covers: loopback, plus the listening host and the mTLS URL's host. */
function serverNames(services: Services): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames = new Set(['localhost']);
  const ipAddresses = new Set(['127.0.0.1', '::1']);
  const { host, mtlsUrl } = services.config;
  for (const name of [host, mtlsUrl ? new URL(mtlsUrl).hostname.replace(/^\[|\]$/g, '') : undefined]) {
    if (!name || name === '0.0.0.0' || name === '::') continue;
    if (/^[\d.]+$/.test(name) || name.includes(':')) ipAddresses.add(name);
    else dnsNames.add(name.toLowerCase());
  }
  return { dnsNames: [...dnsNames], ipAddresses: [...ipAddresses] };
}

async function loadCredentials(services: Services): Promise<Credentials> {
  const { tlsCertFile, tlsKeyFile } = services.config;
  if (tlsCertFile !== undefined && tlsKeyFile !== undefined) {
    return { cert: readFileSync(tlsCertFile, 'utf8'), key: readFileSync(tlsKeyFile, 'utf8') };
  }
  const issued = await services.ca.issueServerCertificate({ ...serverNames(services), lifetimeSeconds: SERVER_CERTIFICATE_LIFETIME_SECONDS });
  return {
    cert: issued.certificatePem,
    key: issued.privateKeyPem,
    renewAt: issued.notBefore + ((issued.notAfter - issued.notBefore) * 2) / 3,
  };
}

/**
 * The mTLS listener: the same app (requestListenerOf) behind node:https, asking every client for a certificate
 * (`requestCert`) but not letting OpenSSL decide (`rejectUnauthorized: false`): a connection without one goes on
 * as any HTTPS connection; a presented one is verified here, once per connection, against the CA's in-memory
 * trust (CertificateAuthority.verify: issuer signature, validity period at the server's clock, revocation).
 * A refused certificate (unknown CA, expired, not yet valid, revoked) closes the connection right after the
 * handshake, before any HTTP is read, with an audit event saying why; peerCertificate checks it again for each
 * request that uses it (a kept-alive connection outlives revocation and expiry). Self-signed certificates pass: they prove
 * possession of a key only, which is all self_signed_tls_client_auth and certificate binding need.
 *
 * Rotation: the CA's onChange swaps the secure context (the `ca` list sent in the CertificateRequest) without a
 * restart; in embedded mode the server certificate is re-issued after 2/3 of its lifetime, by the CA then current.
 */
export async function startTlsListener(app: App, services: Services, log: FastifyBaseLogger): Promise<TlsListener> {
  const { config, ca } = services;
  let credentials = await loadCredentials(services);
  const contextOptions = () => ({ cert: credentials.cert, key: credentials.key, ca: ca.bundlePem() });
  const server = createServer(
    { ...contextOptions(), requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' },
    requestListenerOf(app) as (request: IncomingMessage, response: ServerResponse) => void,
  );
  server.keepAliveTimeout = app.server.keepAliveTimeout;
  server.requestTimeout = app.server.requestTimeout;
  server.headersTimeout = app.server.headersTimeout;
  server.setTimeout(app.server.timeout);

  const unused = new Set<Socket>();
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    const certificate = socket.getPeerX509Certificate();
    if (certificate === undefined) return;
    const verdict = ca.verify(certificate);
    if (!verdict.ok) {
      auditRefusedCertificate(services, verdict.reason, certificate, {
        ip: socket.remoteAddress ?? null,
        userAgent: null,
        route: null,
        requestId: null,
      });
      socket.destroy();
      return;
    }
    rememberPeerCertificate(socket, presentedCertificate(certificate.raw, certificate, verdict, 'tls'));
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    unused.add(socket);
    socket.once('close', () => unused.delete(socket));
  });
  server.on('request', (request: IncomingMessage) => unused.delete(request.socket));
  server.on('tlsClientError', (error: Error) => log.debug({ err: error }, 'TLS handshake failed'));

  const refresh = () => {
    try {
      server.setSecureContext(contextOptions());
    } catch (error) {
      log.error({ err: error }, 'the TLS secure context could not be updated');
    }
  };
  const unsubscribe = ca.onChange(refresh);

  let timer: NodeJS.Timeout | undefined;
  const renewServerCertificate = async () => {
    credentials = await loadCredentials(services);
    refresh();
    schedule();
  };
  const schedule = () => {
    clearTimeout(timer);
    if (credentials.renewAt === undefined) return;
    const delay = Math.max(1000, Math.min(credentials.renewAt - services.clock.now(), 2 ** 31 - 1));
    timer = setTimeout(() => {
      renewServerCertificate().catch((error: unknown) => {
        log.error({ err: error }, 'the TLS server certificate could not be renewed; retrying in a minute');
        timer = setTimeout(() => void renewServerCertificate().catch(() => {}), 60_000);
        timer.unref();
      });
    }, delay);
    timer.unref();
  };
  schedule();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.tlsPort, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    server,
    url: `https://${host}:${port}`,
    renewServerCertificate,
    close: () =>
      new Promise<void>((resolve) => {
        clearTimeout(timer);
        unsubscribe();
        server.close(() => resolve());
        server.closeIdleConnections();
        for (const socket of unused) socket.destroy();
        // Connections with a request in flight close once it is answered (keep-alive ends with the server).
        const sweep = setInterval(() => server.closeIdleConnections(), 100);
        server.once('close', () => clearInterval(sweep));
      }),
  };
}
