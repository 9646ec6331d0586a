import { CoalescedRun } from '../coalesced-run.js';
import { createPrivateKey, createPublicKey, generateKeyPair as generateKeyPairCallback, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { SigningKeyRecord, SigningKeyStore } from '../../storage/stores.js';
import { actorFields, createAuditEvent, type RequestOrigin } from '../audit/audit-event.js';
import type { Clock } from '../clock.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { PubSub } from '../pubsub/pubsub.js';
import { newId } from '../random.js';
import type { JwtSigningKey } from './sign-jwt.js';
import { DEFAULT_ID_TOKEN_ALG, isSigningAlg, type SigningAlg } from './signing-alg.js';

const generateKeyPair = promisify(generateKeyPairCallback);

/** Announces a rotation (the message is the new kid) so every process reloads its keys. */
export const SIGNING_KEYS_CHANNEL = 'signing-keys';
/** Every process reloads its keys at least this often, should a rotation message be lost. */
export const SIGNING_KEYS_RELOAD_INTERVAL_MS = 60_000;
/** An unknown kid in a token triggers a reload at most this often (a rotation this process missed). */
const UNKNOWN_KID_RELOAD_INTERVAL_MS = 10_000;

export type SigningKeyStatus = 'pending' | 'active' | 'retired' | 'expired';

/** A signing key as the management API shows it: no key material beyond the public JWK. */
export interface SigningKeyInfo {
  kid: string;
  alg: SigningAlg;
  status: SigningKeyStatus;
  createdAt: number;
  activatesAt: number;
  retiredAt: number | null;
  publishUntil: number | null;
}

/** A public JWK as published: kty and its parameters, plus kid, alg and use. */
export type PublicJwk = { kty: string; kid: string; alg: SigningAlg; use: 'sig' } & Record<string, unknown>;

export interface SigningKeysDeps {
  store: SigningKeyStore;
  secretBox: SecretBox;
  clock: Clock;
  pubsub: PubSub;
  defaultAlg: SigningAlg;
  /** How long a rotated-in key is published before it signs (0 allowed). */
  activationDelaySeconds: number;
  /** The longest lifetime of any token signed with these keys. */
  maxTokenTtlSeconds: number;
  /** Default SIGNING_KEYS_RELOAD_INTERVAL_MS. */
  reloadIntervalMs?: number;
  /** Where failures of background reloads are reported. */
  onError?: (message: string, error: unknown) => void;
}

export interface RotateSigningKeyOptions {
  alg?: SigningAlg;
  activateAfterSeconds?: number;
  /** The admin making the call, for the audit event. */
  actor?: { keyId: string | null; userId?: string | null; origin?: RequestOrigin | null } | null;
}

interface LoadedKey {
  kid: string;
  alg: SigningAlg;
  createdAt: number;
  activatesAt: number;
  retiredAt: number | null;
  publishUntil: number | null;
  jwk: PublicJwk;
  signing: JwtSigningKey;
  verification: { alg: SigningAlg; publicKey: KeyObject };
}

/** What is true between two key-schedule boundaries. */
interface View {
  from: number;
  until: number;
  /** The access-token key: the newest signing key not of DEFAULT_ID_TOKEN_ALG, else the newest of it. */
  current: LoadedKey | undefined;
  /** The newest signing key of each algorithm (ID tokens). */
  byAlg: Map<SigningAlg, LoadedKey>;
  /** The algorithms of `byAlg`, DEFAULT_ID_TOKEN_ALG first. */
  algs: SigningAlg[];
  jwks: { keys: PublicJwk[] };
  jwksJson: string;
}

export function signingKeyStatus(key: Pick<SigningKeyRecord, 'activatesAt' | 'retiredAt' | 'publishUntil'>, now: number): SigningKeyStatus {
  if (key.publishUntil !== null && key.publishUntil <= now) return 'expired';
  if (key.retiredAt !== null && key.retiredAt <= now) return 'retired';
  if (key.activatesAt > now) return 'pending';
  return 'active';
}

async function generateKeyMaterial(alg: SigningAlg): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  switch (alg) {
    case 'EdDSA':
      return generateKeyPair('ed25519');
    case 'ES256':
      return generateKeyPair('ec', { namedCurve: 'P-256' });
    case 'RS256':
      return generateKeyPair('rsa', { modulusLength: 2048 });
  }
}

/** Whether a private key is of the type its algorithm needs (a stored row is not trusted blindly). */
function fitsAlg(key: KeyObject, alg: SigningAlg): boolean {
  const details = key.asymmetricKeyDetails;
  switch (alg) {
    case 'EdDSA':
      return key.asymmetricKeyType === 'ed25519';
    case 'ES256':
      return key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1';
    case 'RS256':
      return key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) >= 2048;
  }
}

function publicJwk(publicKey: KeyObject, kid: string, alg: SigningAlg): PublicJwk {
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  if ('d' in jwk) throw new Error('refusing to publish private key material');
  return { ...jwk, kty: String(jwk.kty), kid, alg, use: 'sig' };
}

/**
 * The algorithms of one rotation: the access-token algorithm first, and DEFAULT_ID_TOKEN_ALG (RS256) beside it
 * when it is another, so that ID tokens can always be signed with RS256 (OpenID Connect Discovery 1.0 section 3).
 */
export function rotationAlgs(primary: SigningAlg): SigningAlg[] {
  return primary === DEFAULT_ID_TOKEN_ALG ? [primary] : [primary, DEFAULT_ID_TOKEN_ALG];
}

/**
 * The JWT signing keys: created, rotated, published and used from memory. Each key is decrypted and imported
 * into node:crypto KeyObjects once, when this process first loads it; signing (`current`), local verification
 * (`publicKey`) and the JWKS (`jwks`) are synchronous and touch no storage.
 *
 * Keys come in sets, one key per algorithm (rotationAlgs): the access-token algorithm (GATEHOUSE_SIGNING_ALG, or
 * the one a rotation names) and RS256 for ID tokens beside it. Access tokens are signed with `current()`, ID
 * tokens with `idTokenKey(alg)`, the client's algorithm.
 *
 * Rotation: the new keys are published at once and sign only from `activatesAt`; every older key is retired
 * then, and stays published until retirement + the longest token lifetime (+ one reload interval, for a
 * process that learnt of the rotation late and signed a little longer with the old key). This process signs
 * only with keys it has loaded, which are also the keys of its own JWKS.
 */
export class SigningKeys {
  readonly #deps: SigningKeysDeps;
  readonly #reloadIntervalMs: number;
  #keys = new Map<string, LoadedKey>();
  #view: View | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #reloads = new CoalescedRun(() => this.#load());
  #lastUnknownKidReload = -Infinity;

  private constructor(deps: SigningKeysDeps) {
    for (const [name, value, min] of [
      ['activationDelaySeconds', deps.activationDelaySeconds, 0],
      ['maxTokenTtlSeconds', deps.maxTokenTtlSeconds, 1],
    ] as const) {
      if (!Number.isInteger(value) || value < min) throw new TypeError(`${name} must be a whole number >= ${min}`);
    }
    if (!isSigningAlg(deps.defaultAlg)) throw new TypeError(`Unsupported signing algorithm: ${String(deps.defaultAlg)}`);
    this.#deps = deps;
    this.#reloadIntervalMs = deps.reloadIntervalMs ?? SIGNING_KEYS_RELOAD_INTERVAL_MS;
  }

  /**
   * Loads the keys, creating the first set (`defaultAlg` and RS256, active at once) when there is none: of several
   * processes starting together on one database, exactly one creates it and all use it. A set made before RS256
   * was always held (an upgrade) gets its RS256 key here, active at once: it signs only ID tokens, whose verifiers
   * refetch the JWKS on meeting its new kid.
   */
  static async open(deps: SigningKeysDeps): Promise<SigningKeys> {
    const keys = new SigningKeys(deps);
    // Subscribe before the first load, so a rotation made meanwhile is not missed.
    await deps.pubsub.subscribe(SIGNING_KEYS_CHANNEL, (kid) => {
      if (!keys.#keys.has(kid)) keys.#backgroundReload();
    });
    deps.pubsub.onResubscribe(() => keys.#backgroundReload());
    const existing = await deps.store.list();
    if (existing.length === 0) {
      const now = deps.clock.now();
      const records = await Promise.all(rotationAlgs(deps.defaultAlg).map((alg) => keys.#newRecord(alg, now, now)));
      const events = records.map((record) =>
        createAuditEvent(now, { type: 'signing_key.created', outcome: 'success', details: { kid: record.kid, alg: record.alg, initial: true } }),
      );
      await deps.store.insertInitial(records, events);
    } else if (!existing.some((record) => record.alg === DEFAULT_ID_TOKEN_ALG && record.retiredAt === null)) {
      const now = deps.clock.now();
      const record = await keys.#newRecord(DEFAULT_ID_TOKEN_ALG, now, now);
      const event = createAuditEvent(now, {
        type: 'signing_key.created',
        outcome: 'success',
        details: { kid: record.kid, alg: record.alg, reason: 'id_token_default_alg' },
      });
      await deps.store.insertIfAlgMissing(record, [event]);
    }
    await keys.reload();
    keys.#timer = setInterval(() => keys.#backgroundReload(), keys.#reloadIntervalMs);
    keys.#timer.unref();
    return keys;
  }

  /**
   * The key to sign access tokens with now: of the loaded keys that have activated and are not retired, the
   * newest not of RS256 (the set's access-token algorithm), else the newest RS256 one. Throws if none.
   */
  current(): JwtSigningKey {
    const key = this.#viewAt(this.#deps.clock.now()).current;
    if (!key) throw new Error('No signing key is active');
    return key.signing;
  }

  /** The key to sign an ID token with now, of the client's algorithm: the newest signing key of `alg`. Throws if none. */
  idTokenKey(alg: SigningAlg): JwtSigningKey {
    const key = this.#viewAt(this.#deps.clock.now()).byAlg.get(alg);
    if (!key) throw new Error(`No ${String(alg)} signing key is active: rotate the signing keys with alg ${String(alg)}, or change the client's idTokenSignedResponseAlg`);
    return key.signing;
  }

  /** The algorithms ID tokens can be signed with now (one signing key each), RS256 first. */
  idTokenAlgs(): readonly SigningAlg[] {
    return this.#viewAt(this.#deps.clock.now()).algs;
  }

  /** The public key published under `kid`, for local verification; undefined for an unknown or expired kid. */
  publicKey(kid: string): { alg: SigningAlg; publicKey: KeyObject } | undefined {
    const key = this.#keys.get(kid);
    const now = this.#deps.clock.now();
    if (!key) {
      // Perhaps a rotation whose message this process missed: look again, but not on every bad token.
      if (now - this.#lastUnknownKidReload >= UNKNOWN_KID_RELOAD_INTERVAL_MS || now < this.#lastUnknownKidReload) {
        this.#lastUnknownKidReload = now;
        this.#backgroundReload();
      }
      return undefined;
    }
    if (key.publishUntil !== null && key.publishUntil <= now) return undefined;
    return key.verification;
  }

  /** The JWK Set (RFC 7517): public keys only, pending ones included. The same object until the set changes. */
  jwks(): { keys: PublicJwk[] } {
    return this.#viewAt(this.#deps.clock.now()).jwks;
  }

  /** `jwks()` serialized, cached likewise. */
  jwksJson(): string {
    return this.#viewAt(this.#deps.clock.now()).jwksJson;
  }

  /** The longest lifetime any token may have (what retired keys stay published for). */
  get maxTokenTtlSeconds(): number {
    return this.#deps.maxTokenTtlSeconds;
  }

  /**
   * Creates a new set of keys, one per algorithm of rotationAlgs(alg), activating together; see the class comment
   * for when they sign and when the others retire. Returns the access-token key (the first); `list()` shows all.
   */
  async rotate(options: RotateSigningKeyOptions = {}): Promise<SigningKeyInfo> {
    const alg = options.alg ?? this.#deps.defaultAlg;
    if (!isSigningAlg(alg)) throw new TypeError(`Unsupported signing algorithm: ${String(alg)}`);
    const delay = options.activateAfterSeconds ?? this.#deps.activationDelaySeconds;
    if (!Number.isInteger(delay) || delay < 0) throw new TypeError('activateAfterSeconds must be a whole number >= 0');
    const now = this.#deps.clock.now();
    const records = await Promise.all(rotationAlgs(alg).map((each) => this.#newRecord(each, now, now + delay * 1000)));
    const events = records.map((record) =>
      createAuditEvent(
        now,
        {
          type: 'signing_key.rotated',
          outcome: 'success',
          ...actorFields(options.actor),
          details: { kid: record.kid, alg: record.alg, activatesAt: new Date(record.activatesAt).toISOString() },
        },
        options.actor?.origin,
      ),
    );
    const first = records[0]!;
    await this.#deps.store.rotate({ keys: records, previousPublishUntil: this.#publishUntil(first.activatesAt), events });
    await this.reload();
    // The rotation is committed: should the broadcast fail, the other processes' periodic reload finds it.
    await this.#deps.pubsub.publish(SIGNING_KEYS_CHANNEL, first.kid).catch((error: unknown) => this.#report('signing key rotation could not be broadcast', error));
    return this.#info(first, now);
  }

  /** Every key with its status, oldest first; read from storage (the expired keys included). */
  async list(): Promise<SigningKeyInfo[]> {
    const records = await this.#deps.store.list();
    const now = this.#deps.clock.now();
    return records.map((record) => this.#info(record, now));
  }

  /** Reads the keys from storage again, importing only the ones not loaded yet. Concurrent calls coalesce. */
  reload(): Promise<void> {
    return this.#reloads.run();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#reloads.settled();
  }

  #publishUntil(retiredAt: number): number {
    return retiredAt + this.#deps.maxTokenTtlSeconds * 1000 + this.#reloadIntervalMs;
  }

  async #newRecord(alg: SigningAlg, createdAt: number, activatesAt: number): Promise<SigningKeyRecord> {
    const kid = newId('sig');
    const { privateKey, publicKey } = await generateKeyMaterial(alg);
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    try {
      return {
        kid,
        alg,
        publicJwk: publicJwk(publicKey, kid, alg),
        sealedPrivateKey: this.#deps.secretBox.encrypt(der, kid),
        createdAt,
        activatesAt,
        retiredAt: null,
        publishUntil: null,
      };
    } finally {
      der.fill(0);
    }
  }

  async #load(): Promise<void> {
    const records = await this.#deps.store.list();
    const now = this.#deps.clock.now();
    const next = new Map<string, LoadedKey>();
    for (const record of records) {
      // An expired key verifies nothing and signs nothing: it is not even decrypted.
      if (record.publishUntil !== null && record.publishUntil <= now) continue;
      const known = this.#keys.get(record.kid);
      const loaded = known ?? this.#import(record);
      next.set(record.kid, { ...loaded, activatesAt: record.activatesAt, retiredAt: record.retiredAt, publishUntil: record.publishUntil });
    }
    if (this.#closed) return;
    this.#keys = next;
    this.#view = undefined;
  }

  #import(record: SigningKeyRecord): LoadedKey {
    const { kid } = record;
    if (!isSigningAlg(record.alg)) throw new Error(`Signing key ${kid} has an unsupported algorithm`);
    const alg = record.alg;
    const der = this.#deps.secretBox.decrypt(record.sealedPrivateKey, kid);
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } finally {
      der.fill(0);
    }
    if (!fitsAlg(privateKey, alg)) throw new Error(`Signing key ${kid} does not fit its algorithm ${alg}`);
    const publicKey = createPublicKey(privateKey);
    const jwk = publicJwk(publicKey, kid, alg);
    // The published JWK is the stored one; it must be this private key's public half.
    for (const [name, value] of Object.entries(record.publicJwk)) {
      if (jwk[name] !== value) throw new Error(`Signing key ${kid}: the stored public key does not match the private key`);
    }
    return {
      kid,
      alg,
      createdAt: record.createdAt,
      activatesAt: record.activatesAt,
      retiredAt: record.retiredAt,
      publishUntil: record.publishUntil,
      jwk,
      signing: { kid, alg, privateKey },
      verification: { alg, publicKey },
    };
  }

  #viewAt(now: number): View {
    const view = this.#view;
    if (view && now >= view.from && now < view.until) return view;
    return (this.#view = this.#computeView(now));
  }

  #computeView(now: number): View {
    let from = -Infinity;
    let until = Infinity;
    const boundary = (at: number | null) => {
      if (at === null) return;
      if (at <= now) from = Math.max(from, at);
      else until = Math.min(until, at);
    };
    const byAlg = new Map<SigningAlg, LoadedKey>();
    const published: LoadedKey[] = [];
    for (const key of this.#keys.values()) {
      boundary(key.activatesAt);
      boundary(key.retiredAt);
      boundary(key.publishUntil);
      if (key.publishUntil !== null && key.publishUntil <= now) continue;
      published.push(key);
      const signing = key.activatesAt <= now && (key.retiredAt === null || key.retiredAt > now);
      const newest = byAlg.get(key.alg);
      if (signing && (!newest || newer(key, newest))) byAlg.set(key.alg, key);
    }
    // The access-token key: RS256 is the set's companion unless it is the only algorithm signing.
    let current: LoadedKey | undefined;
    for (const [alg, key] of byAlg) if (alg !== DEFAULT_ID_TOKEN_ALG && (!current || newer(key, current))) current = key;
    current ??= byAlg.get(DEFAULT_ID_TOKEN_ALG);
    const algs = [...byAlg.keys()].sort((a, b) => (a === DEFAULT_ID_TOKEN_ALG ? -1 : b === DEFAULT_ID_TOKEN_ALG ? 1 : 0));
    published.sort((a, b) => (newer(a, b) ? -1 : 1));
    const jwks = { keys: published.map((key) => key.jwk) };
    return { from, until, current, byAlg, algs, jwks, jwksJson: JSON.stringify(jwks) };
  }

  #info(record: SigningKeyRecord, now: number): SigningKeyInfo {
    return {
      kid: record.kid,
      alg: record.alg as SigningAlg,
      status: signingKeyStatus(record, now),
      createdAt: record.createdAt,
      activatesAt: record.activatesAt,
      retiredAt: record.retiredAt,
      publishUntil: record.publishUntil,
    };
  }

  #backgroundReload(): void {
    if (this.#closed) return;
    this.reload().catch((error: unknown) => this.#report('signing keys could not be reloaded', error));
  }

  #report(message: string, error: unknown): void {
    (this.#deps.onError ?? ((m, e) => console.error(m, e)))(message, error);
  }
}

/** Later activation first; ties: the access-token key before its RS256 companion, then by creation, then kid. */
function newer(a: LoadedKey, b: LoadedKey): boolean {
  if (a.activatesAt !== b.activatesAt) return a.activatesAt > b.activatesAt;
  if ((a.alg === DEFAULT_ID_TOKEN_ALG) !== (b.alg === DEFAULT_ID_TOKEN_ALG)) return b.alg === DEFAULT_ID_TOKEN_ALG;
  if (a.createdAt !== b.createdAt) return a.createdAt > b.createdAt;
  return a.kid > b.kid;
}
