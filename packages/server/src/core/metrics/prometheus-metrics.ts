import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';
import { AUTHENTICATION_METHODS, type AuthenticationMethod, type FailureReason, type Metrics, type RateLimitKind, type RetentionKind, type WebhookDeliveryOutcome } from './metrics.js';

/** What the scrape reads as it is (counted elsewhere, cheaply): the in-process caches and the audit buffer. */
export interface PrometheusMetricsSources {
  keyCaches: Record<'api_key' | 'oauth_client', { readonly hits: number; readonly misses: number; readonly size: number }>;
  audit: { readonly size: number; readonly dropped: number };
  /** The usage counters' buffer: cells waiting, events dropped (when a long storage outage filled it). */
  usage?: { readonly size: number; readonly dropped: number };
  /** The management API's limiter, when it can fall back to a per-process limit (cluster mode). */
  managementRateLimit?: { readonly active: boolean };
  /** Whether this process's pub/sub subscription is connected (cluster mode). */
  pubsub?: { readonly subscribed: boolean };
}

/** Process metrics (CPU, memory, GC, event-loop lag) are the process's, not a server's: one registry per process. */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

const ALERT_TYPE = /^[a-z][a-z0-9_.]{0,63}$/;

/**
 * A histogram without labels whose observations are counted in a preallocated array and handed to the registry at
 * scrape time, in prom-client's own format. For the verification hot path: prom-client's `observe()` validates and
 * hashes labels and walks an object of buckets on every call (about 0.1 µs); this is a short loop and three
 * additions.
 */
interface HistogramValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

class ArrayHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: Float64Array;
  /** Observations per bucket (not cumulative); the last slot is above the highest bound (+Inf). */
  #counts: Float64Array;
  #sum = 0;
  #count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
    registers: Registry[],
  ) {
    this.#bounds = Float64Array.from(buckets);
    this.#counts = new Float64Array(buckets.length + 1);
    for (const registry of registers) registry.registerMetric(this as unknown as Metric);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.#counts[i]!++;
    this.#sum += value;
    this.#count++;
  }

  /** What prom-client's Histogram.get() answers: cumulative buckets (le), then +Inf, sum and count. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: HistogramValue[] }> {
    const bucket = `${this.name}_bucket`;
    const values: HistogramValue[] = [];
    let cumulative = 0;
    for (let i = 0; i < this.#bounds.length; i++) {
      cumulative += this.#counts[i]!;
      values.push({ labels: { le: this.#bounds[i]! }, value: cumulative, metricName: bucket });
    }
    values.push(
      { labels: { le: '+Inf' }, value: this.#count, metricName: bucket },
      { labels: {}, value: this.#sum, metricName: `${this.name}_sum` },
      { labels: {}, value: this.#count, metricName: `${this.name}_count` },
    );
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.#counts = new Float64Array(this.#bounds.length + 1);
    this.#sum = 0;
    this.#count = 0;
  }
}

/**
 * The Prometheus implementation of Metrics (prom-client), with its own registry so that several servers in
 * one process (tests) do not share counters. What the verification hot path counts is kept in plain numbers
 * and read by prom-client at scrape time (a prom-client increment hashes its labels each time).
 */
export class PrometheusMetrics implements Metrics {
  readonly #registry = new Registry();
  /** Counted here, cheaply, and handed to prom-client at scrape time: method (success) or "method failure reason". */
  readonly #authentications = new Map<string, number>();
  readonly #verificationSeconds: ArrayHistogram;
  readonly #rateLimitRejections: Counter<'limit'>;
  readonly #rateLimitFallbackDecisions: Counter<'limit'>;
  /** Counted here, cheaply (the token endpoint's hot path), and handed to prom-client at scrape time: by grant type. */
  readonly #tokensIssued = new Map<string, number>();
  readonly #webhookDeliveries: Counter<'outcome'>;
  readonly #webhookDeliverySeconds: Histogram;
  readonly #ipBlocks: Counter;
  readonly #blockedRequests: Counter;
  readonly #alerts: Counter<'type'>;
  readonly #purged: Counter<'kind'>;

  constructor(sources: PrometheusMetricsSources) {
    const registers = [this.#registry];
    const authentications = this.#authentications;
    for (const method of AUTHENTICATION_METHODS) authentications.set(method, 0);
    new Counter({
      name: 'gatehouse_authentications_total',
      help: 'Authentications by method and outcome; failures carry a reason class.',
      labelNames: ['method', 'outcome', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const [id, count] of authentications) {
          const [method, outcome = 'success', reason] = id.split(' ');
          this.inc(reason === undefined ? { method, outcome } : { method, outcome, reason }, count);
        }
      },
    });
    this.#verificationSeconds = new ArrayHistogram(
      'gatehouse_api_key_verification_duration_seconds',
      'Time to verify one API key (POST /v1/keys/verify), cache lookups and rate limit included.',
      [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    );
    this.#rateLimitRejections = new Counter({
      name: 'gatehouse_rate_limit_rejections_total',
      help: "Requests refused by a rate limit: a verified key's own limit (api_key) or the management API's (management).",
      labelNames: ['limit'],
      registers,
    });
    for (const limit of ['api_key', 'management']) this.#rateLimitRejections.inc({ limit }, 0);
    this.#rateLimitFallbackDecisions = new Counter({
      name: 'gatehouse_rate_limit_fallback_decisions_total',
      help: "Management rate-limit decisions taken by this process's own in-memory limiter because Redis was unavailable.",
      labelNames: ['limit'],
      registers,
    });
    this.#rateLimitFallbackDecisions.inc({ limit: 'management' }, 0);
    new Gauge({
      name: 'gatehouse_rate_limit_fallback_active',
      help: "1 while the management rate limit is decided per process (the latest decision found Redis unavailable), else 0.",
      labelNames: ['limit'],
      registers,
      collect() {
        this.set({ limit: 'management' }, sources.managementRateLimit?.active ? 1 : 0);
      },
    });
    new Gauge({
      name: 'gatehouse_pubsub_subscribed',
      help: "1 while this process's Redis pub/sub subscription is connected (always 1 without Redis), else 0.",
      registers,
      collect() {
        this.set(sources.pubsub === undefined || sources.pubsub.subscribed ? 1 : 0);
      },
    });
    const tokensIssued = this.#tokensIssued;
    new Counter({
      name: 'gatehouse_tokens_issued_total',
      help: 'Access tokens issued by the token endpoint, by grant type.',
      labelNames: ['grant_type'],
      registers,
      collect() {
        this.reset();
        for (const [grantType, count] of tokensIssued) this.inc({ grant_type: grantType }, count);
      },
    });
    new Counter({
      name: 'gatehouse_key_cache_requests_total',
      help: 'Lookups in the in-process credential caches: hit (answered from memory) or miss (loaded from storage).',
      labelNames: ['cache', 'result'],
      registers,
      collect() {
        this.reset();
        for (const [cache, counts] of Object.entries(sources.keyCaches)) {
          this.inc({ cache, result: 'hit' }, counts.hits);
          this.inc({ cache, result: 'miss' }, counts.misses);
        }
      },
    });
    new Gauge({
      name: 'gatehouse_key_cache_entries',
      help: 'Entries held in the in-process credential caches.',
      labelNames: ['cache'],
      registers,
      collect() {
        for (const [cache, counts] of Object.entries(sources.keyCaches)) this.set({ cache }, counts.size);
      },
    });
    new Gauge({
      name: 'gatehouse_audit_events_buffered',
      help: 'Audit events waiting to be written behind.',
      registers,
      collect() {
        this.set(sources.audit.size);
      },
    });
    new Counter({
      name: 'gatehouse_audit_events_dropped_total',
      help: 'Audit events dropped because the write-behind buffer was full (storage unavailable for long).',
      registers,
      collect() {
        this.reset();
        this.inc(sources.audit.dropped);
      },
    });
    const usage = sources.usage;
    if (usage) {
      new Gauge({
        name: 'gatehouse_usage_cells_buffered',
        help: 'Usage counter cells (credential x minute x outcome) waiting to be written.',
        registers,
        collect() {
          this.set(usage.size);
        },
      });
      new Counter({
        name: 'gatehouse_usage_events_dropped_total',
        help: 'Counted events (verifications, grants, introspections, SDK reports) dropped because the usage buffer was full (storage unavailable for long).',
        registers,
        collect() {
          this.reset();
          this.inc(usage.dropped);
        },
      });
    }
    this.#webhookDeliveries = new Counter({
      name: 'gatehouse_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome.',
      labelNames: ['outcome'],
      registers,
    });
    this.#webhookDeliverySeconds = new Histogram({
      name: 'gatehouse_webhook_delivery_duration_seconds',
      help: 'Time from sending a webhook delivery attempt to its response (or failure).',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.#ipBlocks = new Counter({ name: 'gatehouse_ip_blocks_total', help: 'Client IP addresses blocked after repeated failed authentications.', registers });
    this.#blockedRequests = new Counter({ name: 'gatehouse_blocked_requests_total', help: 'Requests refused because their client IP address is blocked.', registers });
    this.#alerts = new Counter({ name: 'gatehouse_alerts_total', help: 'Alerts raised, by alert type.', labelNames: ['type'], registers });
    this.#purged = new Counter({
      name: 'gatehouse_retention_purged_rows_total',
      help: 'Rows deleted because they outlived their retention period (GATEHOUSE_AUDIT_RETENTION_DAYS, GATEHOUSE_WEBHOOK_RETENTION_DAYS, GATEHOUSE_USAGE_*_RETENTION_DAYS).',
      labelNames: ['kind'],
      registers,
    });
  }

  authentication(method: AuthenticationMethod, outcome: 'success' | 'failure', reason: FailureReason = 'other'): void {
    // The hot path (a success) looks up a constant string: no label hashing, no allocation.
    const id = outcome === 'success' ? method : `${method} failure ${reason}`;
    this.#authentications.set(id, (this.#authentications.get(id) ?? 0) + 1);
  }

  verificationSeconds(seconds: number): void {
    this.#verificationSeconds.observe(seconds);
  }

  rateLimitRejection(kind: RateLimitKind): void {
    this.#rateLimitRejections.inc({ limit: kind });
  }

  rateLimitFallbackDecision(): void {
    this.#rateLimitFallbackDecisions.inc({ limit: 'management' });
  }

  tokenIssued(grantType: string): void {
    this.#tokensIssued.set(grantType, (this.#tokensIssued.get(grantType) ?? 0) + 1);
  }

  webhookDelivery(outcome: WebhookDeliveryOutcome, seconds: number): void {
    this.#webhookDeliveries.inc({ outcome });
    this.#webhookDeliverySeconds.observe(seconds);
  }

  ipBlocked(): void {
    this.#ipBlocks.inc();
  }

  blockedRequest(): void {
    this.#blockedRequests.inc();
  }

  purged(kind: RetentionKind, rows: number): void {
    this.#purged.inc({ kind }, rows);
  }

  alert(type: string): void {
    this.#alerts.inc({ type: ALERT_TYPE.test(type) ? type : 'other' });
  }

  /** The content type of `render()`'s text. */
  readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;

  /** Every metric, this server's and the process's, in the Prometheus text exposition format. */
  async render(): Promise<string> {
    const [own, process] = await Promise.all([this.#registry.metrics(), processMetrics().metrics()]);
    return `${own}\n${process}`;
  }
}
