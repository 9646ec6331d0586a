/** Revoked access-token ids, each kept until its token expires (plus the clock tolerance). */
export class TokenDenylist {
  readonly #entries = new Map<string, number>();
  #additions = 0;

  constructor(
    private readonly now: () => number,
    private readonly toleranceMs: number,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** `exp` in Unix seconds. */
  add(jti: string, exp: number): void {
    const until = exp * 1000 + this.toleranceMs;
    if (until <= this.now()) return;
    this.#entries.set(jti, Math.max(until, this.#entries.get(jti) ?? 0));
    if (++this.#additions % 1024 === 0) this.#sweep();
  }

  has(jti: string): boolean {
    const until = this.#entries.get(jti);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.#entries.delete(jti);
    return false;
  }

  #sweep(): void {
    const now = this.now();
    for (const [jti, until] of this.#entries) if (until <= now) this.#entries.delete(jti);
  }
}
