import type { Kysely } from 'kysely';
import type { AuditEvent } from '../../core/audit/audit-event.js';
import type { SigningKeyRecord, SigningKeyRotation, SigningKeyStore } from '../stores.js';
import type { Database } from './database.js';
import type { Schema, SigningKeysTable } from './schema.js';
import { claimOnce, insertAuditEvents, serializeOn } from './shared-writes.js';

/** Set once, by whichever process inserted the first signing key: the race is decided by this row's key. */
const INITIAL_MARKER = 'signing_keys.initial';
/** Locked (PostgreSQL: SELECT ... FOR UPDATE) by every rotation, so two rotations never interleave. */
const ROTATION_LOCK = 'signing_keys.rotation_lock';

function toRow(key: SigningKeyRecord): SigningKeysTable {
  return {
    kid: key.kid,
    alg: key.alg,
    public_jwk: JSON.stringify(key.publicJwk),
    private_key: key.sealedPrivateKey,
    created_at: key.createdAt,
    activates_at: key.activatesAt,
    retired_at: key.retiredAt,
    publish_until: key.publishUntil,
  };
}

function fromRow(row: SigningKeysTable): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg,
    publicJwk: JSON.parse(row.public_jwk) as Record<string, unknown>,
    sealedPrivateKey: row.private_key,
    createdAt: row.created_at,
    activatesAt: row.activates_at,
    retiredAt: row.retired_at,
    publishUntil: row.publish_until,
  };
}


export class SqlSigningKeyStore implements SigningKeyStore {
  private readonly db: Kysely<Schema>;

  constructor(private readonly database: Database) {
    this.db = database.db;
  }

  async insertInitial(keys: SigningKeyRecord[], events: AuditEvent[]): Promise<boolean> {
    if (keys.length === 0) throw new TypeError('insertInitial needs at least one key');
    return this.db.transaction().execute(async (trx) => {
      if (!(await claimOnce(trx, INITIAL_MARKER, keys[0]!.kid))) return false;
      await trx.insertInto('signing_keys').values(keys.map(toRow)).execute();
      await insertAuditEvents(trx, events);
      return true;
    });
  }

  async rotate({ keys, previousPublishUntil, events }: SigningKeyRotation): Promise<string[]> {
    if (keys.length === 0) throw new TypeError('rotate needs at least one key');
    const activatesAt = keys[0]!.activatesAt;
    if (keys.some((key) => key.activatesAt !== activatesAt)) throw new TypeError('the keys of one rotation activate together');
    return this.db.transaction().execute(async (trx) => {
      // Each rotation sees the keys the last one made, from every process.
      await serializeOn(trx, this.database.dialect, ROTATION_LOCK);
      const retired = await trx
        .updateTable('signing_keys')
        .set({ retired_at: activatesAt, publish_until: previousPublishUntil })
        .where(
          'kid',
          'not in',
          keys.map((key) => key.kid),
        )
        .where((eb) => eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', activatesAt)]))
        .returning('kid')
        .execute();
      await trx.insertInto('signing_keys').values(keys.map(toRow)).execute();
      await insertAuditEvents(trx, events);
      return retired.map((row) => row.kid).sort();
    });
  }

  async insertIfAlgMissing(key: SigningKeyRecord, events: AuditEvent[]): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await serializeOn(trx, this.database.dialect, ROTATION_LOCK);
      const existing = await trx.selectFrom('signing_keys').select('kid').where('alg', '=', key.alg).where('retired_at', 'is', null).limit(1).executeTakeFirst();
      if (existing) return false;
      await trx.insertInto('signing_keys').values(toRow(key)).execute();
      await insertAuditEvents(trx, events);
      return true;
    });
  }

  async list(): Promise<SigningKeyRecord[]> {
    const rows = await this.db.selectFrom('signing_keys').selectAll().orderBy('activates_at').orderBy('created_at').orderBy('kid').execute();
    return rows.map(fromRow);
  }
}
