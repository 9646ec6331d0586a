import type { Kysely } from 'kysely';
import type { AuditEvent } from '../../core/audit/audit-event.js';
import type {
  CertificateAuthorityRecord,
  CertificateStore,
  IssuedCertificateListQuery,
  IssuedCertificateRecord,
  RevokedCertificate,
} from '../stores.js';
import type { Database } from './database.js';
import type { CertificateAuthoritiesTable, IssuedCertificatesTable, Schema } from './schema.js';
import { claimOnce, createdBefore, insertAuditEvents, serializeOn } from './shared-writes.js';

/** Set once, by whichever process inserted the first authority: the race is decided by this row's key. */
const INITIAL_MARKER = 'certificate_authorities.initial';
/** Locked (PostgreSQL: SELECT ... FOR UPDATE) by every rotation, so two rotations never interleave. */
const ROTATION_LOCK = 'certificate_authorities.rotation_lock';

function authorityToRow(a: CertificateAuthorityRecord): CertificateAuthoritiesTable {
  return {
    id: a.id,
    certificate_pem: a.certificatePem,
    private_key: a.sealedPrivateKey,
    created_at: a.createdAt,
    not_after: a.notAfter,
    retired_at: a.retiredAt,
    trusted_until: a.trustedUntil,
  };
}

function rowToAuthority(row: CertificateAuthoritiesTable): CertificateAuthorityRecord {
  return {
    id: row.id,
    certificatePem: row.certificate_pem,
    sealedPrivateKey: row.private_key,
    createdAt: row.created_at,
    notAfter: row.not_after,
    retiredAt: row.retired_at,
    trustedUntil: row.trusted_until,
  };
}

function certificateToRow(c: IssuedCertificateRecord): IssuedCertificatesTable {
  return {
    id: c.id,
    serial_number: c.serialNumber,
    authority_id: c.authorityId,
    common_name: c.commonName,
    client_id: c.clientId,
    service: c.service,
    san_uri: c.sanUri,
    thumbprint: c.thumbprint,
    certificate_pem: c.certificatePem,
    not_before: c.notBefore,
    not_after: c.notAfter,
    key_generated: c.keyGenerated ? 1 : 0,
    tenant_id: c.tenantId,
    created_by: c.createdBy,
    created_at: c.createdAt,
    revoked_at: c.revokedAt,
    revoked_reason: c.revokedReason,
  };
}

function rowToCertificate(row: IssuedCertificatesTable): IssuedCertificateRecord {
  return {
    id: row.id,
    serialNumber: row.serial_number,
    authorityId: row.authority_id,
    commonName: row.common_name,
    clientId: row.client_id,
    service: row.service,
    sanUri: row.san_uri,
    thumbprint: row.thumbprint,
    certificatePem: row.certificate_pem,
    notBefore: row.not_before,
    notAfter: row.not_after,
    keyGenerated: Number(row.key_generated) === 1,
    tenantId: row.tenant_id,
    createdBy: row.created_by,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
  };
}

export class SqlCertificateStore implements CertificateStore {
  private readonly db: Kysely<Schema>;

  constructor(private readonly database: Database) {
    this.db = database.db;
  }

  async insertInitialAuthority(authority: CertificateAuthorityRecord, events: AuditEvent[]): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      if (!(await claimOnce(trx, INITIAL_MARKER, authority.id))) return false;
      await trx.insertInto('certificate_authorities').values(authorityToRow(authority)).execute();
      await insertAuditEvents(trx, events);
      return true;
    });
  }

  async rotateAuthority(authority: CertificateAuthorityRecord, previousTrustedUntil: number, events: AuditEvent[]): Promise<string[]> {
    return this.db.transaction().execute(async (trx) => {
      // Each rotation sees the authorities the last one made, from every process.
      await serializeOn(trx, this.database.dialect, ROTATION_LOCK);
      const retired = await trx
        .updateTable('certificate_authorities')
        .set({ retired_at: authority.createdAt, trusted_until: previousTrustedUntil })
        .where('id', '!=', authority.id)
        .where('retired_at', 'is', null)
        .returning('id')
        .execute();
      await trx.insertInto('certificate_authorities').values(authorityToRow(authority)).execute();
      await insertAuditEvents(trx, events);
      return retired.map((row) => row.id).sort();
    });
  }

  async listAuthorities(): Promise<CertificateAuthorityRecord[]> {
    const rows = await this.db.selectFrom('certificate_authorities').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(rowToAuthority);
  }

  async insertCertificate(certificate: IssuedCertificateRecord, events: AuditEvent[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('issued_certificates').values(certificateToRow(certificate)).execute();
      await insertAuditEvents(trx, events);
    });
  }

  async findCertificate(serialNumber: string): Promise<IssuedCertificateRecord | undefined> {
    const row = await this.db.selectFrom('issued_certificates').selectAll().where('serial_number', '=', serialNumber).executeTakeFirst();
    return row && rowToCertificate(row);
  }

  async listCertificates(query: IssuedCertificateListQuery): Promise<IssuedCertificateRecord[]> {
    let q = this.db.selectFrom('issued_certificates').selectAll();
    if (query.tenantId !== undefined) q = q.where('tenant_id', '=', query.tenantId);
    if (query.clientId !== undefined) q = q.where('client_id', '=', query.clientId);
    if (query.status === 'revoked') q = q.where('revoked_at', 'is not', null);
    if (query.status === 'active') q = q.where('revoked_at', 'is', null).where('not_after', '>', query.now);
    if (query.status === 'expired') q = q.where('revoked_at', 'is', null).where('not_after', '<=', query.now);
    const after = query.after;
    if (after) q = q.where((eb) => createdBefore(eb, after));
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map(rowToCertificate);
  }

  async revokeCertificate(
    serialNumber: string,
    now: number,
    reason: string | null,
    events: AuditEvent[],
  ): Promise<{ certificate: IssuedCertificateRecord; changed: boolean } | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('issued_certificates')
        .set({ revoked_at: now, revoked_reason: reason })
        .where('serial_number', '=', serialNumber)
        .where('revoked_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (updated) {
        await insertAuditEvents(trx, events);
        return { certificate: rowToCertificate(updated), changed: true };
      }
      const row = await trx.selectFrom('issued_certificates').selectAll().where('serial_number', '=', serialNumber).executeTakeFirst();
      return row && { certificate: rowToCertificate(row), changed: false };
    });
  }

  async listRevoked(now: number): Promise<RevokedCertificate[]> {
    const rows = await this.db
      .selectFrom('issued_certificates')
      .select(['serial_number', 'authority_id', 'revoked_at'])
      .where('revoked_at', 'is not', null)
      .where('not_after', '>', now)
      .orderBy('revoked_at')
      .orderBy('serial_number')
      .execute();
    return rows.map((row) => ({ serialNumber: row.serial_number, authorityId: row.authority_id, revokedAt: row.revoked_at! }));
  }
}
