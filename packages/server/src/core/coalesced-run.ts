/**
 * A task that concurrent callers share: while it runs, another call joins the run under way and asks for one
 * more run after it (what it wants read may have changed meanwhile), so any number of calls cost at most two runs.
 */
export class CoalescedRun {
  #running: Promise<void> | undefined;
  #again = false;

  constructor(private readonly task: () => Promise<void>) {}

  run(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.task();
        } while (this.#again);
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  /** Resolves once the run under way (if any) has ended, whether it succeeded or not. */
  async settled(): Promise<void> {
    await this.#running?.catch(() => {});
  }
}
