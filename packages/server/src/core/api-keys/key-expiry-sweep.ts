import type { ApiKeyRecord, ApiKeyStore } from '../../storage/stores.js';
import { createAuditEvent, type AuditEvent } from '../audit/audit-event.js';
import type { Clock } from '../clock.js';

const BATCH = 500;

/**
 * The key.expired event of a key, with an id derived from the key and its expiry: written twice (two sweeping
 * processes, a retried batch), it is still one event.
 */
export function keyExpiredEvent(key: ApiKeyRecord): AuditEvent {
  const expiredAt = key.expiresAt!;
  const event = createAuditEvent(expiredAt, {
    type: 'key.expired',
    outcome: 'success',
    keyId: key.id,
    keyPrefix: key.displayPrefix,
    tenantId: key.tenantId,
    details: { expiredAt: new Date(expiredAt).toISOString() },
  });
  return { ...event, id: `evt_${expiredAt.toString(36).padStart(9, '0')}x${key.id.slice(4)}` };
}

/** Nothing changes when a key expires, so a periodic sweep announces each expiry once (key.expired). */
export class KeyExpirySweep {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;

  constructor(
    private readonly deps: { store: ApiKeyStore; clock: Clock; intervalMs: number; onError(message: string, error: unknown): void },
  ) {}

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.run().catch((error: unknown) => this.deps.onError('key expiry sweep failed', error)), this.deps.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => {});
  }

  /** Announces every expiry due now; returns how many. One run at a time. */
  run(): Promise<number> {
    return (this.#running ??= (async () => {
      let total = 0;
      for (;;) {
        const count = await this.deps.store.announceExpired(this.deps.clock.now(), BATCH, keyExpiredEvent);
        total += count;
        if (count < BATCH) return total;
      }
    })().finally(() => {
      this.#running = undefined;
    }));
  }
}
