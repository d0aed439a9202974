// One conversation's stream entries in seq order, each delivered once (the same rules as parley_client's
// Timeline): held back behind a gap until history fills it, duplicates dropped by seq and by id.
import type { Entry } from "./entries.js";

const SEEN_LIMIT = 2048;

export class Timeline {
  private last: number | undefined;
  private readonly ahead = new Map<number, Entry>();
  private readonly own = new Set<number>();
  private readonly seen = new Set<string>();
  duplicates = 0;

  /** `lastSeq` undefined: start at the first entry offered. */
  constructor(lastSeq?: number) {
    this.last = lastSeq;
  }

  get lastSeq(): number | undefined {
    return this.last;
  }

  get hasGap(): boolean {
    return this.ahead.size > 0;
  }

  /** A pushed or recovered entry; returns the entries now deliverable, in order. */
  offer(entry: Entry): Entry[] {
    if (this.last === undefined) this.last = entry.seq - 1;
    if (this.seen.has(entry.messageId) || entry.seq <= this.last || this.ahead.has(entry.seq)) {
      this.duplicates += 1;
      return [];
    }
    this.ahead.set(entry.seq, entry);
    return this.drain();
  }

  /** Our own send (or group change) was stored as `seq`: nothing to deliver for it, but it closes that gap. */
  acked(seq: number, messageId: string): Entry[] {
    this.remember(messageId);
    if (this.last === undefined || seq > this.last) this.own.add(seq);
    return this.drain();
  }

  /** Everything up to `seq` is known elsewhere: go on after it. */
  fastForward(seq: number): Entry[] {
    for (const [held, entry] of [...this.ahead]) {
      if (held <= seq) {
        this.ahead.delete(held);
        this.remember(entry.messageId);
      }
    }
    this.last = this.last === undefined ? seq : Math.max(this.last, seq);
    return this.drain();
  }

  /** History is complete up to `upTo`: a seq up to there that it did not return does not exist for us. */
  skipMissing(upTo: number): Entry[] {
    if (this.last === undefined) return [];
    const ready = this.drain();
    while (this.last < upTo) {
      this.last += 1;
      ready.push(...this.drain());
    }
    return ready;
  }

  private drain(): Entry[] {
    const ready: Entry[] = [];
    if (this.last === undefined) return ready;
    for (;;) {
      const next: number = this.last + 1;
      const entry = this.ahead.get(next);
      if (entry) {
        this.ahead.delete(next);
        this.remember(entry.messageId);
        ready.push(entry);
      } else if (this.own.has(next)) {
        this.own.delete(next);
      } else {
        return ready;
      }
      this.last = next;
    }
  }

  private remember(messageId: string): void {
    this.seen.add(messageId);
    if (this.seen.size > SEEN_LIMIT) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }
}
