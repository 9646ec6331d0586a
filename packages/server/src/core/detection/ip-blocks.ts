import type { IpBlockRecord, IpBlockStore } from '../../storage/stores.js';
import { actorFields, createAuditEvent, type RequestOrigin } from '../audit/audit-event.js';
import type { Clock } from '../clock.js';
import type { PubSub } from '../pubsub/pubsub.js';
import { clientKey } from './ip-address.js';

const CHANNEL = 'ip-blocks';

export interface IpBlocksOptions {
  store: IpBlockStore;
  pubsub: PubSub;
  clock: Clock;
  /** Addresses that are never blocked (the allow-list). */
  isAllowed(ip: string): boolean;
  /** Called when this process blocks an address (not for blocks learned from other processes). */
  onBlocked?(): void;
  onError(message: string, error: unknown): void;
}

export interface BlockInput {
  /** The address that made the last failure, when `ip` is a client key (an IPv6 /64): checked against the allow-list. */
  address?: string;
  reason: string;
  failures: number | null;
  seconds: number;
  origin?: RequestOrigin | null;
  actorKeyId?: string | null;
}

/**
 * The blocked client addresses. The database is the source of truth; every process keeps the blocks in force
 * in memory (loaded at start, kept current through pub/sub, reloaded after a lost subscription), so checking an
 * address on the hot path is one Map lookup, and nothing at all while nothing is blocked.
 */
export class IpBlocks {
  /** Canonical address -> end of its block (ms). */
  readonly #until = new Map<string, number>();
  /** One set per reload under way: the addresses blocked or unblocked here since it started reading. */
  readonly #touchedDuringReload = new Set<Set<string>>();

  private constructor(private readonly options: IpBlocksOptions) {}

  static async open(options: IpBlocksOptions): Promise<IpBlocks> {
    const blocks = new IpBlocks(options);
    await blocks.reload();
    await options.pubsub.subscribe(CHANNEL, (message) => blocks.#received(message));
    options.pubsub.onResubscribe(() => {
      blocks.reload().catch((error: unknown) => options.onError('IP blocks could not be reloaded', error));
    });
    return blocks;
  }

  /**
   * Replaces the in-memory set with the blocks stored. An address blocked or unblocked here (or by a message)
   * while the read was under way keeps its newer state: a read that started before a block was stored must not
   * lift it, even for a moment.
   */
  async reload(): Promise<void> {
    const touched = new Set<string>();
    this.#touchedDuringReload.add(touched);
    try {
      const active = await this.options.store.listActive(this.options.clock.now());
      const next = new Map(active.map((block) => [block.ip, block.expiresAt] as const));
      for (const ip of touched) {
        const current = this.#until.get(ip);
        if (current === undefined) next.delete(ip);
        else next.set(ip, Math.max(current, next.get(ip) ?? 0));
      }
      this.#until.clear();
      for (const [ip, until] of next) this.#until.set(ip, until);
    } finally {
      this.#touchedDuringReload.delete(touched);
    }
  }

  #touch(ip: string): void {
    for (const touched of this.#touchedDuringReload) touched.add(ip);
  }

  /** How many blocks this process holds (ended ones included until they are next looked up). */
  get size(): number {
    return this.#until.size;
  }

  /**
   * Whole seconds (>= 1) until the block of an address (as Node reports it) ends, the block of its IPv6 /64
   * included; 0 when it is not blocked.
   */
  retryAfterSeconds(address: string | undefined): number {
    if (this.#until.size === 0 || address === undefined) return 0;
    const ip = clientKey(address);
    const until = this.#until.get(ip);
    if (until === undefined) return 0;
    const left = until - this.options.clock.now();
    if (left > 0) return Math.ceil(left / 1000);
    this.#until.delete(ip);
    return 0;
  }

  /**
   * Blocks a canonical address on every process: at once here, then stored (the source of truth) and broadcast.
   * Undefined when the address is allow-listed.
   */
  async block(subject: string, input: BlockInput): Promise<IpBlockRecord | undefined> {
    // An address names its client (an IPv6 address: its /64); a client key is taken as it is.
    const ip = subject.includes('/') ? subject : clientKey(subject);
    if (this.options.isAllowed(input.address ?? subject)) return undefined;
    const now = this.options.clock.now();
    const expiresAt = now + input.seconds * 1000;
    this.#set(ip, expiresAt);
    const event = createAuditEvent(
      now,
      {
        type: 'ip.blocked',
        outcome: 'success',
        reason: input.reason,
        ip,
        actorKeyId: input.actorKeyId ?? null,
        details: { expiresAt: new Date(expiresAt).toISOString(), failures: input.failures },
      },
      input.origin,
    );
    const stored = await this.options.store.upsert({ ip, reason: input.reason, failures: input.failures, createdAt: now, expiresAt }, [event]);
    this.#set(ip, stored.expiresAt);
    this.options.onBlocked?.();
    await this.options.pubsub.publish(CHANNEL, `block ${ip} ${stored.expiresAt}`);
    return stored;
  }

  /** Ends the block of a canonical address on every process; the block that ended, if one was in force. */
  async unblock(ip: string, actor: { keyId: string | null; userId: string | null } | null, origin: RequestOrigin | null): Promise<IpBlockRecord | undefined> {
    const now = this.options.clock.now();
    const event = createAuditEvent(now, { type: 'ip.unblocked', outcome: 'success', ...actorFields(actor), details: { subject: ip } }, origin);
    const removed = await this.options.store.remove(ip, now, [event]);
    this.#until.delete(ip);
    this.#touch(ip);
    // Announced even when none was stored: a process may still hold one (a lost message, a failed write).
    await this.options.pubsub.publish(CHANNEL, `unblock ${ip}`);
    return removed;
  }

  list(): Promise<IpBlockRecord[]> {
    return this.options.store.listActive(this.options.clock.now());
  }

  #set(ip: string, until: number): void {
    this.#until.set(ip, Math.max(until, this.#until.get(ip) ?? 0));
    this.#touch(ip);
  }

  #received(message: string): void {
    const [verb, ip, until] = message.split(' ');
    if (!ip) return;
    if (verb === 'unblock') {
      this.#until.delete(ip);
      this.#touch(ip);
    }
    else if (verb === 'block' && Number.isFinite(Number(until))) this.#set(ip, Number(until));
  }
}
