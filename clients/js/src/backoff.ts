// Exponential backoff with full jitter, for reconnects and retries (docs/clients.md, "Reconnecting").

export interface BackoffOptions {
  /** The first step, in ms (default 200). */
  initialMs?: number;
  /** The largest step, in ms (default 30000). */
  maxMs?: number;
  /** Each step is this many times the one before (default 2). */
  multiplier?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialMs: 200, maxMs: 30_000, multiplier: 2 };

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}, random: () => number = Math.random) {
    this.initialMs = options.initialMs ?? DEFAULT_BACKOFF.initialMs;
    this.maxMs = options.maxMs ?? DEFAULT_BACKOFF.maxMs;
    this.multiplier = options.multiplier ?? DEFAULT_BACKOFF.multiplier;
    if (!(this.initialMs > 0) || !(this.maxMs >= this.initialMs) || !(this.multiplier >= 1)) {
      throw new RangeError("backoff: need 0 < initialMs <= maxMs and multiplier >= 1");
    }
    this.random = random;
  }

  /** The step of retry number `attempt` (0-based): initialMs * multiplier^attempt, at most maxMs. */
  step(attempt: number): number {
    return Math.min(this.maxMs, this.initialMs * this.multiplier ** Math.min(Math.max(attempt, 0), 64));
  }

  /** Milliseconds to wait before retry number `attempt`: a uniformly random point in [0, step) ("full
   *  jitter"), so that clients dropped together do not come back together. */
  delay(attempt: number): number {
    return this.random() * this.step(attempt);
  }
}
