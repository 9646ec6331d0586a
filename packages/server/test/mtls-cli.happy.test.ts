import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renewCertificateFiles } from '../src/cli/renew-certificate-files.js';
import { tempDir } from './helpers/databases.js';
import { startMtlsServer, tlsRequest, type MtlsServer } from './helpers/mtls.js';
import { runCli } from './helpers/spawn-server.js';

describe('gatehouse ca init', () => {
  const dir = tempDir('ca-init');
  afterAll(() => dir.remove());

  it('creates the CA once and prints its bundle; again, it changes nothing', async () => {
    const env = { GATEHOUSE_DATA_DIR: dir.path };
    const first = await runCli(['ca', 'init'], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('created');
    const root = new X509Certificate(first.stdout);
    expect(root.ca).toBe(true);
    const second = await runCli(['ca', 'init'], { env });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('already');
    expect(second.stdout).toBe(first.stdout);
  });
});

describe('gatehouse cert renew', () => {
  let s: MtlsServer;
  let caFile: string;
  const dir = tempDir('cert-renew');
  beforeAll(async () => {
    s = await startMtlsServer();
    caFile = join(dir.path, 'ca.pem');
    writeFileSync(caFile, await s.bundle());
  });
  afterAll(async () => {
    await s.close();
    dir.remove();
  });

  async function files(name: string, lifetimeSeconds = 3600) {
    const issued = await s.issue({ commonName: name, lifetimeSeconds });
    const certFile = join(dir.path, `${name}.crt`);
    const keyFile = join(dir.path, `${name}.key`);
    writeFileSync(certFile, issued.cert);
    writeFileSync(keyFile, issued.key, { mode: 0o600 });
    const cert = new X509Certificate(issued.cert);
    const notBefore = Date.parse(cert.validFrom);
    return { certFile, keyFile, issued, renewAt: notBefore + ((Date.parse(cert.validTo) - notBefore) * 2) / 3 };
  }

  it('does nothing before 2/3 of the lifetime; after, renews over mTLS with a key generated locally, atomically', async () => {
    const f = await files('batch');
    const common = { certFile: f.certFile, keyFile: f.keyFile, serverUrl: s.tlsUrl, caFile };
    expect(await renewCertificateFiles({ ...common, now: () => f.renewAt - 1000 })).toEqual({ renewed: false, renewAt: f.renewAt });
    expect(readFileSync(f.certFile, 'utf8')).toBe(f.issued.cert);

    const outcome = await renewCertificateFiles({ ...common, now: () => f.renewAt });
    expect(outcome.renewed).toBe(true);
    const cert = readFileSync(f.certFile, 'utf8');
    const key = readFileSync(f.keyFile, 'utf8');
    expect(cert).not.toBe(f.issued.cert);
    expect(new X509Certificate(cert).subject).toBe('CN=batch');
    expect(statSync(f.keyFile).mode & 0o777).toBe(0o600);
    // Gatehouse signed a CSR: it never saw (and never returned) the key.
    const listed = (await s.api('GET', '/v1/certificates?limit=1')).body.data[0];
    expect(listed).toMatchObject({ keyGenerated: false, serialNumber: new X509Certificate(cert).serialNumber.toLowerCase() });
    expect(await tlsRequest(s.tlsUrl, { ca: readFileSync(caFile, 'utf8'), client: { cert, key } }).then((r) => r.status)).toBe(200);
  });

  it('renews with an admin key instead of the certificate, and through the CLI', async () => {
    const f = await files('nightly');
    const viaAdmin = await renewCertificateFiles({ certFile: f.certFile, keyFile: f.keyFile, serverUrl: s.url, adminKey: s.rootKey, force: true });
    expect(viaAdmin.renewed).toBe(true);

    const cli = await runCli(['cert', 'renew', '--cert', f.certFile, '--key', f.keyFile, '--server', s.tlsUrl, '--ca', caFile, '--force']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/^Renewed: serial [0-9a-f]{32}/);
    const notDue = await runCli(['cert', 'renew', '--cert', f.certFile, '--key', f.keyFile, '--server', s.tlsUrl, '--ca', caFile]);
    expect(notDue.stdout).toMatch(/^Not due/);
  });

  it('keeps the certificate and its key in one file when --cert and --key name it, replaced by one rename', async () => {
    const f = await files('bundled');
    const bundle = join(dir.path, 'bundled.pem');
    writeFileSync(bundle, f.issued.cert + f.issued.key, { mode: 0o600 });
    const before = statSync(bundle).ino;

    const cli = await runCli(['cert', 'renew', '--cert', bundle, '--key', bundle, '--server', s.tlsUrl, '--ca', caFile, '--force']);
    expect(cli.code, cli.stderr).toBe(0);
    const pem = readFileSync(bundle, 'utf8');
    expect(statSync(bundle).ino).not.toBe(before);
    expect(statSync(bundle).mode & 0o777).toBe(0o600);
    expect(pem.match(/-----BEGIN [A-Z ]+-----/g)).toEqual(['-----BEGIN CERTIFICATE-----', '-----BEGIN PRIVATE KEY-----']);
    const cert = new X509Certificate(pem);
    expect(cert.serialNumber).not.toBe(new X509Certificate(f.issued.cert).serialNumber);
    expect(cert.checkPrivateKey(createPrivateKey(pem))).toBe(true);
    // The one file serves as both certificate and key, for the next renewal too.
    expect(await tlsRequest(s.tlsUrl, { ca: readFileSync(caFile, 'utf8'), client: { cert: pem, key: pem } }).then((r) => r.status)).toBe(200);
    const again = await renewCertificateFiles({ certFile: bundle, keyFile: bundle, serverUrl: s.tlsUrl, caFile, force: true });
    expect(again.renewed).toBe(true);
    expect(new X509Certificate(readFileSync(bundle, 'utf8')).serialNumber).not.toBe(cert.serialNumber);
  });

  it('fails loudly (files untouched) when Gatehouse refuses', async () => {
    const f = await files('revoked-one');
    await s.api('POST', `/v1/certificates/${f.issued.serialNumber}/revoke`, {});
    await expect(renewCertificateFiles({ certFile: f.certFile, keyFile: f.keyFile, serverUrl: s.tlsUrl, caFile, force: true })).rejects.toThrow();
    expect(readFileSync(f.certFile, 'utf8')).toBe(f.issued.cert);
    expect(readFileSync(f.keyFile, 'utf8')).toBe(f.issued.key);
  });
});
