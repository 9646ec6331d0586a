/** Tells listeners that webhook events were committed to the outbox (by this process): see watchWrites. */
export class OutboxSignal {
  readonly #listeners = new Set<() => void>();

  /** Calls `listener` after every commit that wrote outbox rows; returns the unsubscribe function. */
  on(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(): void {
    for (const listener of this.#listeners) listener();
  }
}

