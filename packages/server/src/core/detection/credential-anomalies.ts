import type { CredentialProfileRecord, CredentialProfileStore } from '../../storage/stores.js';
import type { ObservedAuditEvent } from '../audit/audit-event.js';
import type { Clock } from '../clock.js';
import { WriteBehind } from '../write-behind.js';
import type { Alerts } from './alerts.js';
import { ipKey, networkOf } from './ip-address.js';

const MINUTE = 60_000;
/** Weight of the last minute in the moving average of requests per minute (about half an hour of memory). */
const BASELINE_ALPHA = 1 / 30;
/** A quiet credential's baseline counts as this many requests per minute, so a handful of calls is no spike. */
const MIN_BASELINE_PER_MINUTE = 6;
/** Networks remembered per credential; beyond, new ones still alert but are not learned. */
const MAX_NETWORKS = 1_000;

export type AnomalyReason = 'new_network' | 'rate_spike' | 'rotated_key_used';

export interface Anomaly {
  reason: AnomalyReason;
  /** `key_...` or `cli_...`. */
  credentialId: string;
  /** The authentication that looked anomalous (a success is shown to observers without an id: it is not written). */
  event: ObservedAuditEvent;
  details: Record<string, unknown>;
}

export interface CredentialAnomaliesOptions {
  store: CredentialProfileStore;
  alerts: Alerts;
  clock: Clock;
  learningSeconds: number;
  rateSpikeFactor: number;
  /** After the alert: the optional automatic action (revoking a key whose anomalyAction is `revoke`). */
  act(anomaly: Anomaly): Promise<void>;
  onError(message: string, error: unknown): void;
  flushIntervalMs?: number;
}

interface Profile {
  firstSeenAt: number;
  networks: Set<string>;
  /** New networks the store is being asked about: not written until it has answered (else the answer is "known"). */
  unconfirmed: Set<string>;
  /** The address of the last use: repeated uses from one address skip the network lookup. */
  lastIp: string | null;
  baselinePerMinute: number;
  minute: number;
  count: number;
  /** The minute a rate spike was last reported in (one per minute at most; Alerts aggregates further). */
  spikeMinute: number;
}

/**
 * Learns, for every API key and OAuth client, the networks it is used from and its usual request rate, and
 * raises alert.key_anomaly when, after the learning period, it is used from a network never seen, at more than
 * `rateSpikeFactor` times its recent rate, or (a rotated-out key, an OAuth client's replaced secret) after its
 * grace period ended. It watches the audit events of successful authentications (WriteBehindLog.observe), so
 * the per-request cost is a Map lookup and a counter; the profiles are written behind, in batches, and loaded
 * at start, so they survive restarts.
 */
export class CredentialAnomalies {
  readonly #profiles = new Map<string, Profile>();
  readonly #dirty: WriteBehind<string, 0>;
  readonly #pending = new Set<Promise<unknown>>();
  readonly #learningMs: number;

  private constructor(private readonly options: CredentialAnomaliesOptions) {
    this.#learningMs = options.learningSeconds * 1000;
    this.#dirty = new WriteBehind<string, 0>({
      write: (entries) => options.store.save(entries.flatMap(([id]) => this.#record(id) ?? [])),
      intervalMs: options.flushIntervalMs ?? 5000,
      batchSize: 5_000,
      maxBuffered: 1_000_000,
      onError: (error) => options.onError('credential profiles could not be written', error),
    });
  }

  static async open(options: CredentialAnomaliesOptions): Promise<CredentialAnomalies> {
    const anomalies = new CredentialAnomalies(options);
    for (const stored of await options.store.loadAll()) {
      anomalies.#profiles.set(stored.credentialId, {
        firstSeenAt: stored.firstSeenAt,
        networks: new Set(stored.networks),
        unconfirmed: new Set(),
        lastIp: null,
        baselinePerMinute: stored.baselinePerMinute,
        minute: Math.floor(stored.updatedAt / MINUTE),
        count: 0,
        spikeMinute: -1,
      });
    }
    anomalies.#dirty.start();
    return anomalies;
  }

  /** The audit observer. Cheap, synchronous, never throws. */
  readonly observe = (event: ObservedAuditEvent): void => {
    if (event.outcome === 'success') {
      const id = event.type === 'key.verification' || event.type === 'admin.authentication' ? event.keyId : event.type === 'oauth.token' ? clientIdOf(event) : null;
      if (id !== null && event.ip !== null) this.#used(id, event.ip, event);
      return;
    }
    if (event.type === 'key.verification' && event.reason === 'EXPIRED' && event.keyId !== null && event.details?.rotatedToId) {
      this.#report({ reason: 'rotated_key_used', credentialId: event.keyId, event, details: { rotatedToId: event.details.rotatedToId } });
    } else if (event.type === 'client.authentication' && event.reason === 'expired_previous_secret') {
      const clientId = clientIdOf(event);
      if (clientId !== null) this.#report({ reason: 'rotated_key_used', credentialId: clientId, event, details: {} });
    }
  };

  /** Writes the learned profiles now. */
  flush(): Promise<void> {
    return this.#dirty.flush();
  }

  /** Resolves once every anomaly found so far has been reported and acted on. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  async stop(): Promise<void> {
    await this.settled();
    await this.#dirty.stop();
  }

  #used(id: string, address: string, event: ObservedAuditEvent): void {
    const now = event.occurredAt;
    const minute = Math.floor(now / MINUTE);
    let profile = this.#profiles.get(id);
    if (profile === undefined) {
      profile = { firstSeenAt: now, networks: new Set(), unconfirmed: new Set(), lastIp: null, baselinePerMinute: 0, minute, count: 0, spikeMinute: -1 };
      this.#profiles.set(id, profile);
      this.#dirty.add(id, 0);
    } else if (minute !== profile.minute) {
      // The finished minute joins the moving average, and so does every idle minute since (each a zero).
      const idle = Math.max(0, minute - profile.minute - 1);
      profile.baselinePerMinute = (profile.baselinePerMinute * (1 - BASELINE_ALPHA) + profile.count * BASELINE_ALPHA) * (1 - BASELINE_ALPHA) ** idle;
      profile.minute = minute;
      profile.count = 0;
      this.#dirty.add(id, 0);
    }
    profile.count++;
    const learned = now - profile.firstSeenAt >= this.#learningMs;
    if (learned && profile.spikeMinute !== minute) {
      const threshold = this.options.rateSpikeFactor * Math.max(profile.baselinePerMinute, MIN_BASELINE_PER_MINUTE);
      if (profile.count > threshold) {
        profile.spikeMinute = minute;
        this.#report({
          reason: 'rate_spike',
          credentialId: id,
          event,
          details: { requestsThisMinute: profile.count, baselinePerMinute: round(profile.baselinePerMinute), factor: this.options.rateSpikeFactor },
        });
      }
    }
    if (address === profile.lastIp) return;
    profile.lastIp = address;
    const network = networkOf(ipKey(address));
    if (profile.networks.has(network)) return;
    const firstNetwork = profile.networks.size === 0;
    const learn = profile.networks.size < MAX_NETWORKS;
    if (learn) profile.networks.add(network);
    if (!learned || firstNetwork) {
      if (learn) this.#dirty.add(id, 0);
      return;
    }
    // Another process may have learned it already: ask the store before raising the alarm (rare: a new network).
    // Until it answers, the network is not written: a flush landing first would make the store say "known".
    if (learn) profile.unconfirmed.add(network);
    this.#track(
      this.options.store
        .hasNetwork(id, network)
        .then((known) => {
          if (!known) {
            this.#report({ reason: 'new_network', credentialId: id, event, details: { network, knownNetworks: profile.networks.size - 1 } });
          }
        })
        .finally(() => {
          if (profile.unconfirmed.delete(network)) this.#dirty.add(id, 0);
        }),
    );
  }

  #report(anomaly: Anomaly): void {
    const { event, credentialId, reason } = anomaly;
    this.options.alerts.raise({
      type: 'alert.key_anomaly',
      cause: `${credentialId}:${reason}`,
      reason,
      ip: event.ip,
      keyId: credentialId.startsWith('key_') ? credentialId : null,
      keyPrefix: credentialId.startsWith('key_') ? event.keyPrefix : null,
      tenantId: event.tenantId,
      details: { credentialId, ...anomaly.details },
    });
    this.#track(this.options.act(anomaly));
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise
      .catch((error: unknown) => this.options.onError('a credential anomaly could not be handled', error))
      .finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  #record(id: string): CredentialProfileRecord | undefined {
    const profile = this.#profiles.get(id);
    if (!profile) return undefined;
    return {
      credentialId: id,
      firstSeenAt: profile.firstSeenAt,
      baselinePerMinute: profile.baselinePerMinute,
      updatedAt: profile.minute * MINUTE,
      networks: [...profile.networks].filter((network) => !profile.unconfirmed.has(network)),
    };
  }
}

function clientIdOf(event: ObservedAuditEvent): string | null {
  const clientId = event.details?.clientId;
  return typeof clientId === 'string' ? clientId : null;
}

const round = (n: number) => Math.round(n * 100) / 100;
