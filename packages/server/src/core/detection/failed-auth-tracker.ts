import type { ObservedAuditEvent } from '../audit/audit-event.js';
import type { Alerts } from './alerts.js';
import type { DetectionCounters } from './counters.js';
import { clientKey } from './ip-address.js';
import type { IpBlocks } from './ip-blocks.js';

/**
 * Failures that are a wrong credential, by audit event type. A valid credential refused for another reason
 * (rate limited, lacking a scope, called from a web origin it did not register) or a request without any credential
 * is not a guess and is not counted.
 * Storage outages never get here: those paths throw (503) instead of recording a failure.
 */
const NOT_A_GUESS = new Set(['RATE_LIMITED', 'INSUFFICIENT_SCOPE', 'MISSING_CREDENTIALS', 'no_client_authentication', 'missing_credentials', 'origin_not_allowed']);
const COUNTED_TYPES = new Set(['key.verification', 'admin.authentication', 'client.authentication', 'oauth.login', 'oauth.token']);

export function isCredentialFailure(event: ObservedAuditEvent): boolean {
  return event.outcome === 'failure' && COUNTED_TYPES.has(event.type) && !NOT_A_GUESS.has(event.reason ?? '');
}

export interface FailureThresholds {
  alertThreshold: number;
  blockThreshold: number;
}

/**
 * What the n-th failure from one address in a window calls for. Exactly one failure per window is the one that
 * blocks (`count === blockThreshold + 1`), so with counts shared in Redis one process blocks, once.
 */
export function failureVerdict(count: number, t: FailureThresholds): 'none' | 'credential_stuffing' | 'brute_force' | 'block' {
  if (count === t.blockThreshold + 1) return 'block';
  if (count > t.blockThreshold) return 'brute_force';
  if (count > t.alertThreshold) return 'credential_stuffing';
  return 'none';
}

export interface FailedAuthTrackerOptions extends FailureThresholds {
  counters: DetectionCounters;
  blocks: IpBlocks;
  alerts: Alerts;
  windowSeconds: number;
  blockSeconds: number;
  onError(message: string, error: unknown): void;
}

/**
 * Counts failed authentications per client address, whatever the way in: it watches every audit event as it is
 * added (WriteBehindLog.observe), so each authentication path only has to record its failures with the client
 * IP, which it does for the audit log anyway.
 */
export class FailedAuthTracker {
  readonly #pending = new Set<Promise<unknown>>();

  constructor(private readonly options: FailedAuthTrackerOptions) {}

  /** The audit observer: cheap and never throws (the counting is asynchronous). */
  readonly observe = (event: ObservedAuditEvent): void => {
    if (event.outcome !== 'failure' || event.ip === null || !isCredentialFailure(event)) return;
    // An address a tenant-bound verifier claimed (clientIp) is not counted: one tenant must not block it for all.
    if (event.details?.clientIpClaimedByTenant === true) return;
    // The client: an IPv4 address, or an IPv6 /64 (any of whose addresses its host may use).
    const ip = clientKey(event.ip);
    this.#track(
      this.options.counters.increment(`ip:${ip}`, this.options.windowSeconds * 1000).then(
        (count) => this.#counted(ip, count, event),
        (error: unknown) => this.options.onError('a failed authentication could not be counted', error),
      ),
    );
  };

  /** Resolves once every failure observed so far has been counted and acted on (blocks stored). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  #counted(ip: string, count: number, event: ObservedAuditEvent): Promise<void> | void {
    const verdict = failureVerdict(count, this.options);
    if (verdict === 'none') return;
    const { windowSeconds, blockSeconds } = this.options;
    const details = { failures: count, windowSeconds, lastFailure: { type: event.type, reason: event.reason, route: event.route } };
    if (verdict === 'credential_stuffing') {
      this.options.alerts.raise({ type: 'alert.credential_stuffing', cause: `ip:${ip}`, reason: 'failed_authentications', ip, details });
      return;
    }
    const raise = (extra: Record<string, unknown>) =>
      this.options.alerts.raise({ type: 'alert.brute_force', cause: `ip:${ip}`, reason: 'failed_authentications', ip, details: { ...details, ...extra } });
    if (verdict === 'brute_force') return raise({});
    return this.options.blocks.block(ip, { address: event.ip ?? undefined, reason: 'brute_force', failures: count, seconds: blockSeconds }).then(
      (block) => raise(block ? { blockedUntil: new Date(block.expiresAt).toISOString() } : { blocked: false, allowListed: true }),
      (error: unknown) => {
        raise({ blockStored: false });
        this.options.onError('an IP block could not be stored', error);
      },
    );
  }
}
