/**
 * Sign-in throttle: at most `limit` attempts per client address in any `windowMs` (a sliding
 * window), so guessing the API secret through the form costs minutes per handful of tries.
 *
 * The address is the TCP peer, never a forwarded-for header (which a guesser could vary freely).
 * Behind a reverse proxy every client shares the proxy's budget: slower sign-in under attack,
 * never a bypass.
 */
export interface ThrottleOptions {
  now: () => number
  /** Attempts allowed per window (default 10). */
  limit?: number
  /** Window length (default 60 s). */
  windowMs?: number
  /** Addresses remembered at most; beyond it the stalest are forgotten (default 10 000). */
  maxClients?: number
}

export type ThrottleDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number }

export class SignInThrottle {
  /** Attempt times per address, oldest first. */
  private readonly attempts = new Map<string, number[]>()
  private readonly limit: number
  private readonly windowMs: number
  private readonly maxClients: number

  constructor(private readonly options: ThrottleOptions) {
    this.limit = options.limit ?? 10
    this.windowMs = options.windowMs ?? 60_000
    this.maxClients = options.maxClients ?? 10_000
  }

  /** Records one attempt from `client` and says whether it may go ahead. Refused attempts are not recorded. */
  attempt(client: string): ThrottleDecision {
    const now = this.options.now()
    const recent = (this.attempts.get(client) ?? []).filter((at) => now - at < this.windowMs)
    if (recent.length >= this.limit) {
      this.attempts.set(client, recent)
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((recent[0]! + this.windowMs - now) / 1000)) }
    }
    recent.push(now)
    // Re-inserting moves the address to the end of the map: the first entries are the stalest.
    this.attempts.delete(client)
    this.attempts.set(client, recent)
    while (this.attempts.size > this.maxClients) this.attempts.delete(this.attempts.keys().next().value!)
    return { allowed: true }
  }
}
