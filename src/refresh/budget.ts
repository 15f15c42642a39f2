/**
 * How many upstream calls one network may start, so that a background job never competes with
 * deliveries for an API's rate limit (or its bill): at most `perMinute` calls in any sliding
 * minute, and spread out rather than spent in one burst, because a token bucket refilled at the
 * per-minute rate holds only `burst` calls: by default five seconds' worth plus one, so that a
 * round every five seconds never loses the fraction of a call that refilled meanwhile.
 *
 * Work reserves its expected cost before it starts and settles at what it really spent, so work
 * running side by side cannot overshoot together, and a surprise (an alternate download after a
 * 404) is paid back by the calls that come next. Times are passed in, so tests drive the clock.
 */

const MINUTE_MS = 60_000

export class CallBudget {
  readonly burst: number
  private tokens: number
  private refilledAt: number
  /** Calls reserved by work still running. */
  private reserved = 0
  /** Calls settled within the last minute, oldest first (`head` skips the expired ones). */
  private readonly settled: Array<{ at: number; calls: number }> = []
  private head = 0
  private settledInWindow = 0

  constructor(
    readonly perMinute: number,
    now: number,
    burst = Math.ceil(perMinute / 12) + 1,
  ) {
    if (!Number.isInteger(perMinute) || perMinute < 1) {
      throw new Error(`calls per minute must be a positive integer, got ${perMinute}`)
    }
    this.burst = Math.max(1, Math.min(burst, perMinute))
    this.tokens = this.burst
    this.refilledAt = now
  }

  /** Whole calls that may start now. */
  available(now: number): number {
    this.catchUp(now)
    return Math.max(0, Math.min(Math.floor(this.tokens), this.roomInWindow()))
  }

  /**
   * Reserve `calls` for work about to start, or false (nothing reserved) when there is no room.
   * Work that costs more than the bucket (or the minute) can ever hold starts when it is full, or it never would.
   */
  tryReserve(calls: number, now: number): boolean {
    this.catchUp(now)
    if (Math.floor(this.tokens) < Math.min(calls, this.burst)) return false
    if (this.roomInWindow() < Math.min(calls, this.perMinute)) return false
    this.tokens -= calls
    this.reserved += calls
    return true
  }

  /** Work that reserved `reserved` calls finished after spending `spent`: refund the rest or owe the excess. */
  settle(reserved: number, spent: number, now: number): void {
    this.catchUp(now)
    this.reserved -= reserved
    this.tokens = Math.min(this.burst, this.tokens + reserved - spent)
    if (spent > 0) {
      this.settled.push({ at: now, calls: spent })
      this.settledInWindow += spent
    }
  }

  private roomInWindow(): number {
    return this.perMinute - this.settledInWindow - this.reserved
  }

  private catchUp(now: number): void {
    if (now > this.refilledAt) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.perMinute) / MINUTE_MS)
      this.refilledAt = now
    }
    while (this.head < this.settled.length && this.settled[this.head]!.at <= now - MINUTE_MS) {
      this.settledInWindow -= this.settled[this.head]!.calls
      this.head++
    }
    // Drop the expired prefix now and then instead of shifting the array on every call.
    if (this.head > 1024 && this.head * 2 > this.settled.length) {
      this.settled.splice(0, this.head)
      this.head = 0
    }
  }
}
