import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { compile } from 'proxy-addr';
import { createAuditEvent, type RequestOrigin } from '../core/audit/audit-event.js';
import { certificateThumbprint } from '../core/ca/certificate-thumbprint.js';
import type { PeerCertificateVerdict } from '../core/ca/verify-peer-certificate.js';
import { GatehouseError } from '../core/errors.js';
import type { Services } from '../services.js';
import { requestOrigin } from './plugins/authenticate.js';

/** A client certificate that passed verification: presented in this TLS connection, or by a trusted proxy. */
export interface PresentedCertificate {
  der: Buffer;
  certificate: X509Certificate;
  /** RFC 8705 x5t#S256. */
  thumbprint: string;
  /** issued: by the built-in CA (tls_client_auth); self_signed: only proves possession of its key. */
  kind: 'issued' | 'self_signed';
  via: 'tls' | 'proxy';
}

/** Per TLS socket: the certificate its handshake presented, once verified (see tls-listener.ts). */
const bySocket = new WeakMap<object, PresentedCertificate>();
/** Per request: its verified certificate (the connection's, or a trusted proxy's header), checked once. */
const byRequest = new WeakMap<IncomingMessage, PresentedCertificate | null>();

export function presentedCertificate(der: Buffer, certificate: X509Certificate, verdict: Extract<PeerCertificateVerdict, { ok: true }>, via: 'tls' | 'proxy'): PresentedCertificate {
  return { der, certificate, thumbprint: certificateThumbprint(der), kind: verdict.kind, via };
}

export function rememberPeerCertificate(socket: object, presented: PresentedCertificate): void {
  bySocket.set(socket, presented);
}

/** Audits a refused certificate (written behind: a client can cause many). */
export function auditRefusedCertificate(services: Services, reason: string, certificate: X509Certificate | undefined, origin: RequestOrigin): void {
  services.audit.add(
    createAuditEvent(
      services.clock.now(),
      {
        type: 'mtls.certificate_refused',
        outcome: 'failure',
        reason,
        details: certificate ? { subject: certificate.subject.slice(0, 256), serialNumber: certificate.serialNumber.toLowerCase(), issuer: certificate.issuer.slice(0, 256) } : null,
      },
      origin,
    ),
  );
}

/**
 * A certificate from a header: RFC 9440 `Client-Cert` (`:base64 DER:`), or `X-SSL-Client-Cert` as proxies send it
 * (URL-encoded PEM, as nginx's $ssl_client_escaped_cert, or PEM with its line breaks turned into spaces).
 */
export function certificateFromHeader(name: 'client-cert' | 'x-ssl-client-cert', value: string): Buffer | undefined {
  let base64: string | undefined;
  if (name === 'client-cert') {
    base64 = /^:([A-Za-z0-9+/]+={0,2}):$/.exec(value.trim())?.[1];
  } else {
    let text = value;
    if (text.includes('%')) {
      try {
        text = decodeURIComponent(text);
      } catch {
        return undefined;
      }
    }
    base64 = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(text)?.[1]?.replace(/\s+/g, '');
  }
  if (!base64 || base64.length > 16_384) return undefined;
  return Buffer.from(base64, 'base64');
}

type Reader = (request: IncomingMessage, origin: () => RequestOrigin) => PresentedCertificate | undefined;
const readers = new WeakMap<Services, Reader>();

/**
 * The verified client certificate of a request, if any. The TLS connection's own certificate comes first; the
 * header GATEHOUSE_CLIENT_CERT_HEADER names (`Client-Cert` or `X-SSL-Client-Cert`, never both: a proxy overwrites
 * the one it sets and passes the other through from the client) is read only when that is set and the connection
 * comes from a proxy trusted by GATEHOUSE_TRUST_PROXY (anyone else could write it). A header certificate that
 * fails verification is refused (401 certificate_refused), as the TLS listener refuses the connection of one
 * presented directly.
 */
export function peerCertificate(services: Services, request: FastifyRequest): PresentedCertificate | undefined {
  let read = readers.get(services);
  if (!read) readers.set(services, (read = createReader(services)));
  return read(request.raw, () => requestOrigin(request));
}

function createReader(services: Services): Reader {
  const { trustProxy, clientCertHeader: header } = services.config;
  const trusted = trustProxy === true ? () => true : trustProxy === false ? () => false : compile(trustProxy);
  const refuse = (reason: string, certificate: X509Certificate | undefined, origin: () => RequestOrigin): never => {
    auditRefusedCertificate(services, reason, certificate, origin());
    throw new GatehouseError('certificate_refused');
  };
  return (request, origin) => {
    const cached = byRequest.get(request);
    if (cached !== undefined) return cached ?? undefined;
    const fromSocket = bySocket.get(request.socket);
    if (fromSocket) {
      // Verified at the handshake, and again for each request that uses it: a kept-alive connection outlives
      // the certificate's revocation, its expiry and its CA's trust.
      const verdict = services.ca.verify(fromSocket.certificate);
      if (!verdict.ok) refuse(verdict.reason, fromSocket.certificate, origin);
      byRequest.set(request, fromSocket);
      return fromSocket;
    }
    // No header configured (the default): nothing more to look at (the socket's address is a call into libuv).
    if (header === undefined) return undefined;
    const address = request.socket.remoteAddress;
    if (address === undefined || !trusted(address, 0)) return undefined;
    const value = request.headers[header];
    if (typeof value !== 'string' || value === '') {
      byRequest.set(request, null);
      return undefined;
    }
    const der = certificateFromHeader(header, value);
    let certificate: X509Certificate | undefined;
    try {
      certificate = der && new X509Certificate(der);
    } catch {
      certificate = undefined;
    }
    const verdict = certificate ? services.ca.verify(certificate) : ({ ok: false, reason: 'malformed' } as const);
    if (!verdict.ok) return refuse(verdict.reason, certificate, origin);
    const presented = presentedCertificate(der!, certificate!, verdict, 'proxy');
    byRequest.set(request, presented);
    return presented;
  };
}
