import { CoalescedRun } from '../coalesced-run.js';
import { X509Certificate, webcrypto } from 'node:crypto';
import type {
  CertificateAuthorityRecord,
  CertificateStore,
  IssuedCertificateListQuery,
  IssuedCertificateRecord,
  RevokedCertificate,
} from '../../storage/stores.js';
import { actorFields, createAuditEvent, type RequestOrigin } from '../audit/audit-event.js';
import type { Clock } from '../clock.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { GatehouseError } from '../errors.js';
import type { PubSub } from '../pubsub/pubsub.js';
import { newId } from '../random.js';
import { bindingName, isServiceName, spiffeId, type CertificateBinding } from './certificate-identity.js';
import { certificateThumbprint } from './certificate-thumbprint.js';
import { verifyPeerCertificate, type PeerCertificateVerdict, type TrustedAuthority } from './verify-peer-certificate.js';
import {
  createCrl,
  createRootCertificate,
  exportPkcs8,
  generateKeyPair,
  importCaPrivateKey,
  issueLeafCertificate,
  newSerialNumber,
  parseCsr,
  privateKeyPem,
  toPem,
} from './x509.js';

/** Announces a change (rotation, revocation) so that every process reloads the CA's state. */
export const CA_CHANNEL = 'ca';
/** Every process reloads at least this often, should a change message be lost. */
export const CA_RELOAD_INTERVAL_MS = 60_000;
/** The default lifetime of a client certificate. */
export const DEFAULT_CERTIFICATE_LIFETIME_SECONDS = 86_400;
export const MIN_CERTIFICATE_LIFETIME_SECONDS = 300;
/** A root lives ten years; it is rotated long before. */
const ROOT_LIFETIME_MS = 10 * 365 * 86_400_000;
/** Certificates start a minute in the past, for peers whose clocks lag a little. */
const BACKDATE_MS = 60_000;
/** How long a CRL is valid (nextUpdate); it is re-signed at half that age or on any revocation. */
const CRL_VALIDITY_MS = 3_600_000;

export interface CertificateAuthorityDeps {
  store: CertificateStore;
  secretBox: SecretBox;
  clock: Clock;
  pubsub: PubSub;
  /** The SPIFFE trust domain of the SAN URIs (read when issuing). */
  trustDomain(): string;
  /** The public base URL of the CRLs (`<issuer>/ca/crl`), read when issuing. */
  crlBaseUrl(): string;
  maxLifetimeSeconds: number;
  reloadIntervalMs?: number;
  onError?: (message: string, error: unknown) => void;
}

export interface CaActor {
  keyId: string | null;
  userId?: string | null;
  tenantId?: string | null;
  origin?: RequestOrigin | null;
}

export interface IssueCertificateInput {
  /** Undefined: a service named by the CSR's common name. */
  binding: CertificateBinding | undefined;
  tenantId: string | null;
  /** PEM PKCS#10; without it Gatehouse generates the key pair and returns the private key once. */
  csr?: string | undefined;
  lifetimeSeconds?: number | undefined;
  actor: CaActor;
  /** Audit detail: why it was issued (`renewal` when a certificate renewed itself). */
  renewalOf?: string | undefined;
  /**
   * Called with the certificate once it is made and before it is stored or returned: throws to refuse it (the
   * credential policy: the caller may not hand out what this certificate would authenticate as).
   */
  authorize?: ((certificate: X509Certificate) => Promise<void>) | undefined;
}

export interface IssuedCertificate {
  record: IssuedCertificateRecord;
  certificatePem: string;
  /** The issuing CA's certificate (PEM). */
  chainPem: string;
  /** PKCS#8 PEM, only when Gatehouse generated the key pair; never stored. */
  privateKeyPem: string | null;
}

export interface AuthorityInfo {
  id: string;
  status: 'active' | 'retired';
  createdAt: number;
  notAfter: number;
  retiredAt: number | null;
  trustedUntil: number | null;
  certificatePem: string;
}

interface LoadedAuthority extends TrustedAuthority {
  record: CertificateAuthorityRecord;
  privateKey: webcrypto.CryptoKey;
}

interface CachedCrl {
  der: Promise<Buffer>;
  thisUpdate: number;
  revision: number;
}

/**
 * The built-in certificate authority: an ECDSA P-256 root whose private key is stored only as master-key
 * ciphertext, client certificates issued from it, revocation and CRLs, and the trust the TLS listener verifies
 * peers against. Everything the TLS handshake path needs (`verify`, `bundlePem`) is in memory and synchronous.
 *
 * Rotation: the new root issues at once; the older ones stop issuing and stay trusted and published until every
 * certificate they issued has expired (rotation + the longest certificate lifetime + one reload interval).
 */
export class CertificateAuthority {
  readonly #deps: CertificateAuthorityDeps;
  readonly #reloadIntervalMs: number;
  /** Trusted authorities, newest first. */
  #authorities: LoadedAuthority[] = [];
  #revoked = new Map<string, RevokedCertificate>();
  /** One map per load under way: the certificates revoked here since it started reading. */
  readonly #revokedDuringLoad = new Set<Map<string, RevokedCertificate>>();
  /** Bumped by every change of the revocation list, so cached CRLs know they are stale. */
  #revision = 0;
  #crls = new Map<string, CachedCrl>();
  #bundle = '';
  #listeners = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #reloads = new CoalescedRun(() => this.#load());

  private constructor(deps: CertificateAuthorityDeps) {
    if (!Number.isInteger(deps.maxLifetimeSeconds) || deps.maxLifetimeSeconds < MIN_CERTIFICATE_LIFETIME_SECONDS) {
      throw new TypeError(`maxLifetimeSeconds must be a whole number >= ${MIN_CERTIFICATE_LIFETIME_SECONDS}`);
    }
    this.#deps = deps;
    this.#reloadIntervalMs = deps.reloadIntervalMs ?? CA_RELOAD_INTERVAL_MS;
  }

  /** Loads whatever the store holds (possibly no authority yet: see `init`). */
  static async open(deps: CertificateAuthorityDeps): Promise<CertificateAuthority> {
    const ca = new CertificateAuthority(deps);
    await deps.pubsub.subscribe(CA_CHANNEL, () => ca.#backgroundReload());
    deps.pubsub.onResubscribe(() => ca.#backgroundReload());
    await ca.reload();
    ca.#timer = setInterval(() => ca.#backgroundReload(), ca.#reloadIntervalMs);
    ca.#timer.unref();
    return ca;
  }

  get initialized(): boolean {
    return this.#authorities.length > 0;
  }

  /**
   * Creates the root when there is none (of several processes doing so at once, exactly one creates it).
   * Returns whether this call created it.
   */
  async init(actor: CaActor | null = null): Promise<boolean> {
    await this.reload();
    if (this.initialized) return false;
    const now = this.#deps.clock.now();
    const record = await this.#newAuthority(now);
    const event = this.#event(now, actor, 'ca.created', { authorityId: record.id });
    const created = await this.#deps.store.insertInitialAuthority(record, [event]);
    await this.reload();
    return created;
  }

  /** Creates a new root that issues from now on; the previous ones stay trusted (see the class comment). */
  async rotate(actor: CaActor | null = null): Promise<AuthorityInfo> {
    this.#requireInitialized();
    const now = this.#deps.clock.now();
    const record = await this.#newAuthority(now);
    const trustedUntil = now + this.#deps.maxLifetimeSeconds * 1000 + BACKDATE_MS + this.#reloadIntervalMs;
    const event = this.#event(now, actor, 'ca.rotated', { authorityId: record.id, previousTrustedUntil: new Date(trustedUntil).toISOString() });
    await this.#deps.store.rotateAuthority(record, trustedUntil, [event]);
    await this.reload();
    this.#announce();
    return this.#info(record, now);
  }

  /** The trusted authorities, newest (the issuing one) first. */
  authorities(): AuthorityInfo[] {
    const now = this.#deps.clock.now();
    return this.#authorities.map((a) => this.#info(a.record, now));
  }

  /** The trusted CA certificates as one PEM bundle, newest first: what clients and the TLS listener trust. */
  bundlePem(): string {
    return this.#bundle;
  }

  /** Decides whether a presented client certificate is acceptable (see verifyPeerCertificate). Synchronous. */
  verify(certificate: X509Certificate): PeerCertificateVerdict {
    return verifyPeerCertificate(certificate, { authorities: this.#authorities, isRevoked: (serial) => this.#revoked.has(serial) }, this.#deps.clock.now());
  }

  /** Called after the trusted authorities change (rotation here or in another process). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async issue(input: IssueCertificateInput): Promise<IssuedCertificate> {
    const authority = this.#issuing();
    const lifetimeSeconds = input.lifetimeSeconds ?? Math.min(DEFAULT_CERTIFICATE_LIFETIME_SECONDS, this.#deps.maxLifetimeSeconds);
    if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds < MIN_CERTIFICATE_LIFETIME_SECONDS || lifetimeSeconds > this.#deps.maxLifetimeSeconds) {
      throw new GatehouseError(
        'invalid_request',
        `lifetimeSeconds must be a whole number from ${MIN_CERTIFICATE_LIFETIME_SECONDS} to ${this.#deps.maxLifetimeSeconds}.`,
      );
    }
    let publicKey: Parameters<typeof issueLeafCertificate>[0]['publicKey'];
    let privateKey: string | null = null;
    let binding = input.binding;
    if (input.csr !== undefined) {
      const csr = await parseCsr(input.csr);
      if (!csr.ok) throw new GatehouseError('invalid_request', csr.reason);
      publicKey = csr.publicKey;
      if (binding === undefined && csr.commonName !== undefined && isServiceName(csr.commonName)) {
        binding = { kind: 'service', service: csr.commonName };
      }
    } else {
      const keys = await generateKeyPair();
      publicKey = keys.publicKey;
      const der = await exportPkcs8(keys.privateKey);
      privateKey = privateKeyPem(der);
      der.fill(0);
    }
    if (binding === undefined) {
      throw new GatehouseError('invalid_request', 'Name the certificate: clientId, commonName, or a CSR whose CN is a service name.');
    }
    if (binding.kind === 'service' && !isServiceName(binding.service)) {
      throw new GatehouseError('invalid_request', 'A service name cannot start with cli_ (client ids do): use clientId for a client.');
    }
    const now = this.#deps.clock.now();
    const serialNumber = newSerialNumber();
    const sanUri = spiffeId(this.#deps.trustDomain(), binding, input.tenantId);
    const commonName = bindingName(binding);
    // X.509 keeps whole seconds (#leafNotAfter rounds notAfter likewise).
    const notBefore = Math.floor((now - BACKDATE_MS) / 1000) * 1000;
    const notAfter = this.#leafNotAfter(authority, now, lifetimeSeconds * 1000);
    const leaf = await issueLeafCertificate({
      issuer: { certificatePem: authority.record.certificatePem, privateKey: authority.privateKey },
      publicKey,
      serialNumber,
      commonName,
      organization: input.tenantId ?? undefined,
      notBefore,
      notAfter,
      usage: 'client',
      uris: [sanUri],
      crlUrl: `${this.#deps.crlBaseUrl()}/${authority.id}`,
    });
    await input.authorize?.(new X509Certificate(leaf.der));
    const record: IssuedCertificateRecord = {
      id: newId('crt'),
      serialNumber,
      authorityId: authority.id,
      commonName,
      clientId: binding.kind === 'client' ? binding.clientId : null,
      service: binding.kind === 'service' ? binding.service : null,
      sanUri,
      thumbprint: certificateThumbprint(leaf.der),
      certificatePem: leaf.pem,
      notBefore,
      notAfter,
      keyGenerated: privateKey !== null,
      tenantId: input.tenantId,
      createdBy: input.actor.keyId ?? input.actor.userId ?? null,
      createdAt: now,
      revokedAt: null,
      revokedReason: null,
    };
    const event = this.#event(now, input.actor, 'certificate.issued', {
      serialNumber,
      authorityId: authority.id,
      sanUri,
      keyGenerated: record.keyGenerated,
      notAfter: new Date(record.notAfter).toISOString(),
      ...(input.renewalOf ? { renewalOf: input.renewalOf } : {}),
    }, input.tenantId);
    await this.#deps.store.insertCertificate(record, [event]);
    return { record, certificatePem: leaf.pem, chainPem: authority.record.certificatePem, privateKeyPem: privateKey };
  }

  /**
   * A certificate for the TLS listener itself (embedded mode): serverAuth, the given DNS names and addresses,
   * a fresh key held only in memory. Not recorded: it is not a client identity.
   */
  async issueServerCertificate(input: { dnsNames: string[]; ipAddresses: string[]; lifetimeSeconds: number }): Promise<{
    certificatePem: string;
    privateKeyPem: string;
    notBefore: number;
    notAfter: number;
  }> {
    const authority = this.#issuing();
    const keys = await generateKeyPair();
    const now = this.#deps.clock.now();
    const notBefore = Math.floor((now - BACKDATE_MS) / 1000) * 1000;
    const notAfter = this.#leafNotAfter(authority, now, input.lifetimeSeconds * 1000);
    const leaf = await issueLeafCertificate({
      issuer: { certificatePem: authority.record.certificatePem, privateKey: authority.privateKey },
      publicKey: keys.publicKey,
      serialNumber: newSerialNumber(),
      commonName: input.dnsNames[0] ?? input.ipAddresses[0] ?? 'gatehouse',
      notBefore,
      notAfter,
      usage: 'server',
      dnsNames: input.dnsNames,
      ipAddresses: input.ipAddresses,
    });
    const der = await exportPkcs8(keys.privateKey);
    try {
      return { certificatePem: leaf.pem, privateKeyPem: privateKeyPem(der), notBefore, notAfter };
    } finally {
      der.fill(0);
    }
  }

  find(serialNumber: string): Promise<IssuedCertificateRecord | undefined> {
    return this.#deps.store.findCertificate(serialNumber);
  }

  list(query: Omit<IssuedCertificateListQuery, 'now'>): Promise<IssuedCertificateRecord[]> {
    return this.#deps.store.listCertificates({ ...query, now: this.#deps.clock.now() });
  }

  /** Revokes a certificate (idempotent); every process refuses it from the moment this resolves. */
  async revoke(
    record: IssuedCertificateRecord,
    reason: string | null,
    actor: CaActor,
  ): Promise<IssuedCertificateRecord> {
    const now = this.#deps.clock.now();
    const event = this.#event(now, actor, 'certificate.revoked', { serialNumber: record.serialNumber, reason }, record.tenantId);
    const result = await this.#deps.store.revokeCertificate(record.serialNumber, now, reason, [event]);
    if (!result) throw new GatehouseError('not_found', 'No certificate with that serial number.');
    const revoked = result.certificate;
    if (revoked.revokedAt !== null && !this.#revoked.has(revoked.serialNumber)) {
      const entry = { serialNumber: revoked.serialNumber, authorityId: revoked.authorityId, revokedAt: revoked.revokedAt };
      this.#revoked.set(revoked.serialNumber, entry);
      // A load whose read started before this revocation was stored must not lift it, even for a moment.
      for (const during of this.#revokedDuringLoad) during.set(entry.serialNumber, entry);
      this.#revision++;
    }
    // Announced even when it was already revoked: a retry after a failed broadcast must reach every node.
    this.#announce();
    return revoked;
  }

  /** The CRL (DER) of one trusted authority, re-signed when the revocation list changed or half its validity passed. */
  crl(authorityId: string): Promise<Buffer> | undefined {
    const authority = this.#authorities.find((a) => a.id === authorityId);
    if (!authority) return undefined;
    const now = this.#deps.clock.now();
    const cached = this.#crls.get(authorityId);
    if (cached && cached.revision === this.#revision && now >= cached.thisUpdate && now < cached.thisUpdate + CRL_VALIDITY_MS / 2) {
      return cached.der;
    }
    const thisUpdate = Math.floor(now / 1000) * 1000;
    const entries = [...this.#revoked.values()]
      .filter((r) => r.authorityId === authorityId)
      .map((r) => ({ serialNumber: r.serialNumber, revokedAt: r.revokedAt }));
    const der = createCrl({
      issuer: { certificatePem: authority.record.certificatePem, privateKey: authority.privateKey },
      thisUpdate,
      nextUpdate: thisUpdate + CRL_VALIDITY_MS,
      // Increasing over time, whichever process signs it.
      crlNumber: Math.floor(thisUpdate / 1000),
      entries,
    });
    der.catch(() => this.#crls.delete(authorityId));
    this.#crls.set(authorityId, { der, thisUpdate, revision: this.#revision });
    return der;
  }

  /** Every trusted authority's CRL, PEM, newest authority first. */
  async crlBundlePem(): Promise<string> {
    const ders = await Promise.all(this.#authorities.map((a) => this.crl(a.id)!));
    return ders.map((der) => toPem(der, 'X509 CRL')).join('');
  }

  /** Reads the authorities and revocations again; concurrent calls coalesce. */
  reload(): Promise<void> {
    return this.#reloads.run();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#listeners.clear();
    await this.#reloads.settled();
  }

  #requireInitialized(): void {
    if (!this.initialized) {
      throw new GatehouseError('conflict', 'The certificate authority is not initialised (gatehouse ca init).');
    }
  }

  /**
   * When a certificate issued now by `authority` ends: after `lifetimeMs`, but never after the authority's own
   * certificate (a chain is only valid while every certificate in it is). In whole seconds, as X.509 keeps them.
   */
  #leafNotAfter(authority: LoadedAuthority, now: number, lifetimeMs: number): number {
    const notAfter = Math.floor(Math.min(now + lifetimeMs, authority.record.notAfter) / 1000) * 1000;
    if (notAfter <= now) throw new Error(`The issuing CA ${authority.id} has expired: rotate the CA (POST /v1/ca/rotate)`);
    return notAfter;
  }

  #issuing(): LoadedAuthority {
    this.#requireInitialized();
    const now = this.#deps.clock.now();
    const current = this.#authorities.find((a) => a.record.retiredAt === null || a.record.retiredAt > now);
    return current ?? this.#authorities[0]!;
  }

  async #newAuthority(now: number): Promise<CertificateAuthorityRecord> {
    const id = newId('ca');
    const keys = await generateKeyPair();
    const notAfter = now + ROOT_LIFETIME_MS;
    const certificatePem = await createRootCertificate({
      keys,
      commonName: `Gatehouse CA ${id}`,
      serialNumber: newSerialNumber(),
      notBefore: Math.floor((now - BACKDATE_MS) / 1000) * 1000,
      notAfter: Math.floor(notAfter / 1000) * 1000,
    });
    const der = await exportPkcs8(keys.privateKey);
    try {
      return {
        id,
        certificatePem,
        sealedPrivateKey: this.#deps.secretBox.encrypt(der, id),
        createdAt: now,
        notAfter: Math.floor(notAfter / 1000) * 1000,
        retiredAt: null,
        trustedUntil: null,
      };
    } finally {
      der.fill(0);
    }
  }

  async #load(): Promise<void> {
    const revokedHere = new Map<string, RevokedCertificate>();
    this.#revokedDuringLoad.add(revokedHere);
    try {
      await this.#loadTracking(revokedHere);
    } finally {
      this.#revokedDuringLoad.delete(revokedHere);
    }
  }

  async #loadTracking(revokedHere: ReadonlyMap<string, RevokedCertificate>): Promise<void> {
    const [records, revoked] = await Promise.all([this.#deps.store.listAuthorities(), this.#deps.store.listRevoked(this.#deps.clock.now())]);
    const now = this.#deps.clock.now();
    const known = new Map(this.#authorities.map((a) => [a.id, a]));
    const next: LoadedAuthority[] = [];
    for (const record of records) {
      if (record.trustedUntil !== null && record.trustedUntil <= now) continue;
      const loaded = known.get(record.id);
      next.push(loaded ? { ...loaded, record } : await this.#import(record));
    }
    // The issuing (unretired) root first, then the newest retired ones.
    next.sort((a, b) => Number(a.record.retiredAt !== null) - Number(b.record.retiredAt !== null) || b.record.createdAt - a.record.createdAt);
    if (this.#closed) return;
    const changed = next.map((a) => a.id).join() !== this.#authorities.map((a) => a.id).join();
    const revokedNow = new Map(revoked.map((r) => [r.serialNumber, r]));
    for (const [serial, entry] of revokedHere) if (!revokedNow.has(serial)) revokedNow.set(serial, entry);
    if (revokedNow.size !== this.#revoked.size || [...revokedNow.keys()].some((serial) => !this.#revoked.has(serial))) this.#revision++;
    this.#authorities = next;
    this.#revoked = revokedNow;
    this.#bundle = next.map((a) => a.record.certificatePem).join('');
    if (changed) {
      this.#crls.clear();
      for (const listener of this.#listeners) listener();
    }
  }

  async #import(record: CertificateAuthorityRecord): Promise<LoadedAuthority> {
    const der = this.#deps.secretBox.decrypt(record.sealedPrivateKey, record.id);
    try {
      return { id: record.id, record, certificate: new X509Certificate(record.certificatePem), privateKey: await importCaPrivateKey(der) };
    } finally {
      der.fill(0);
    }
  }

  #announce(): void {
    this.#deps.pubsub.publish(CA_CHANNEL, 'changed').catch((error: unknown) => this.#report('a CA change could not be broadcast', error));
  }

  #backgroundReload(): void {
    if (this.#closed) return;
    this.reload().catch((error: unknown) => this.#report('the certificate authority could not be reloaded', error));
  }

  #report(message: string, error: unknown): void {
    (this.#deps.onError ?? ((m, e) => console.error(m, e)))(message, error);
  }

  #event(now: number, actor: CaActor | null, type: 'ca.created' | 'ca.rotated' | 'certificate.issued' | 'certificate.revoked', details: Record<string, unknown>, tenantId: string | null = null) {
    return createAuditEvent(now, { type, outcome: 'success', ...actorFields(actor), tenantId, details }, actor?.origin);
  }

  #info(record: CertificateAuthorityRecord, now: number): AuthorityInfo {
    return {
      id: record.id,
      status: record.retiredAt !== null && record.retiredAt <= now ? 'retired' : 'active',
      createdAt: record.createdAt,
      notAfter: record.notAfter,
      retiredAt: record.retiredAt,
      trustedUntil: record.trustedUntil,
      certificatePem: record.certificatePem,
    };
  }
}
