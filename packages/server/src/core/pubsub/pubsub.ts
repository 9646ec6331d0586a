/** Broadcast between the server processes of a cluster (cache invalidation). */
export interface PubSub {
  /**
   * Best effort, and never throws: a message that cannot be sent (Redis down or hung) is reported, and the other
   * processes learn of the change from the database instead (main.ts polls it; docs/failure-modes.md).
   */
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, handler: (message: string) => void): Promise<void>;
  /** Called after a lost subscription is re-established: messages may have been missed meanwhile. */
  onResubscribe(handler: () => void): void;
  close(): Promise<void>;
}

/** One process: delivery is a local call. */
export class MemoryPubSub implements PubSub {
  #handlers = new Map<string, Array<(message: string) => void>>();

  async publish(channel: string, message: string): Promise<void> {
    for (const handler of this.#handlers.get(channel) ?? []) handler(message);
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<void> {
    this.#handlers.set(channel, [...(this.#handlers.get(channel) ?? []), handler]);
  }

  onResubscribe(): void {}

  async close(): Promise<void> {
    this.#handlers.clear();
  }
}
