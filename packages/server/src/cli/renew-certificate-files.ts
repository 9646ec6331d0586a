import { X509Certificate } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createCsr } from '../core/ca/x509.js';

export interface RenewCertificateFilesOptions {
  certFile: string;
  /**
   * The private key's file. The same path as `certFile` keeps both in one PEM file (certificate, then key, as
   * nginx, HAProxy and Node's tls read it), replaced by a single rename: readers never see a new key beside an
   * old certificate, which two files cannot promise.
   */
  keyFile: string;
  /** Gatehouse's base URL: the TLS listener (renewal with the current certificate) or any listener (admin key). */
  serverUrl: string;
  /** PEM bundle to verify an https server with (GATEHOUSE's GET /v1/ca/certificates); default: the system's. */
  caFile?: string | undefined;
  /** An admin key holding certificates:write; without it the current certificate authenticates (mTLS). */
  adminKey?: string | undefined;
  /** Renew even before 2/3 of the lifetime has passed. */
  force?: boolean;
  now?: () => number;
}

export type RenewOutcome = { renewed: false; renewAt: number } | { renewed: true; serialNumber: string; notAfter: number };

/** When a certificate is due for renewal: after 2/3 of its lifetime, so a failed attempt leaves a third to retry. */
export function renewalTime(certificate: X509Certificate): number {
  const notBefore = Date.parse(certificate.validFrom);
  const notAfter = Date.parse(certificate.validTo);
  return notBefore + ((notAfter - notBefore) * 2) / 3;
}

/** Writes a file by renaming a complete temporary file over it: readers see the old or the new file, never half. */
function writeAtomically(path: string, content: string, mode: number): void {
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    writeFileSync(temporary, content, { mode, flag: 'wx' });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

function post(url: URL, body: unknown, tls: { ca?: string; cert?: string; key?: string }, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const payload = JSON.stringify(body);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)), ...headers },
        ...(url.protocol === 'https:' ? tls : {}),
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
          } catch {
            resolve({ status: res.statusCode ?? 0, body: text });
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('Gatehouse did not answer in time')));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * `gatehouse cert renew`: renews the certificate in `certFile` (key in `keyFile`) when 2/3 of its lifetime has
 * passed. A new key pair is generated here and only a CSR is sent, so the private key never leaves the host.
 */
export async function renewCertificateFiles(options: RenewCertificateFilesOptions): Promise<RenewOutcome> {
  const now = options.now ?? Date.now;
  const certPem = readFileSync(options.certFile, 'utf8');
  const current = new X509Certificate(certPem);
  const renewAt = renewalTime(current);
  if (!options.force && now() < renewAt) return { renewed: false, renewAt };

  const binding = /^URI:spiffe:\/\/[^/]+\/(client|service)\/([A-Za-z0-9._-]+)$/.exec(current.subjectAltName ?? '');
  if (!binding) throw new Error(`${options.certFile} is not a Gatehouse client certificate (no spiffe://.../client|service/... SAN)`);
  const { csrPem, privateKeyPem } = await createCsr(binding[2]!);
  const base = options.serverUrl.replace(/\/+$/, '');
  const ca = options.caFile ? readFileSync(options.caFile, 'utf8') : undefined;
  const response = options.adminKey
    ? await post(
        new URL(`${base}/v1/certificates`),
        { csr: csrPem, ...(binding[1] === 'client' ? { clientId: binding[2] } : { commonName: binding[2] }) },
        ca ? { ca } : {},
        { authorization: `Bearer ${options.adminKey}` },
      )
    : await post(new URL(`${base}/v1/certificates/renew`), { csr: csrPem }, { ...(ca ? { ca } : {}), cert: certPem, key: readFileSync(options.keyFile, 'utf8') });
  if (response.status !== 201) {
    const reason = typeof response.body === 'object' && response.body ? `${response.body.error}: ${response.body.error_description}` : String(response.body).slice(0, 200);
    throw new Error(`Gatehouse refused the renewal (${response.status} ${reason})`);
  }
  const certificatePem = response.body.certificatePem as string;
  if (resolve(options.certFile) === resolve(options.keyFile)) {
    writeAtomically(options.certFile, `${certificatePem.trimEnd()}\n${privateKeyPem}`, 0o600);
  } else {
    // Two renames: the key first, so a reader that sees the new certificate always finds its key (a reader in
    // between finds the new key beside the old certificate: reload after the command, or use one file).
    writeAtomically(options.keyFile, privateKeyPem, 0o600);
    writeAtomically(options.certFile, certificatePem, 0o644);
  }
  return { renewed: true, serialNumber: response.body.serialNumber as string, notAfter: Date.parse(response.body.notAfter as string) };
}
