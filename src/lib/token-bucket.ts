/**
 * One token bucket per client: `perMinute` tokens a minute, at most `burst` saved up, a full bucket
 * for a client never seen. Used to limit how much new work (upstream fetches, new derived images)
 * one client may cause; what it may read costs nothing, so nothing here is touched for warm hits.
 *
 * The number of clients is bounded, so a spray of spoofed or unique addresses cannot grow memory
 * without bound: buckets live in two generations of at most `maxClients / 2` each. A client charged
 * again moves to the current generation; when that is full it becomes the previous one and the old
 * previous one is dropped. So the clients charged least recently are forgotten first, at O(1) per
 * charge (evicting one by one from the front of a Map costs a walk over its deleted entries).
 * Forgetting loses little: a bucket left alone for `burst / perMinute` minutes is full again, the
 * same as no bucket. Only a spray of about `maxClients / 2` new addresses within that time can give
 * a client that is still paying back its burst a fresh one early. Times are passed in, so tests drive the clock.
 */

const MINUTE_MS = 60_000

interface Bucket {
  tokens: number
  at: number
}

export interface TokenBucketOptions {
  /** Tokens added per minute (> 0). */
  perMinute: number
  /** The most tokens a bucket holds, and what a new client starts with (≥ 1). */
  burst: number
  /** The most clients remembered at once (the least recently charged forgotten first). */
  maxClients: number
}

export class TokenBuckets {
  private current = new Map<string, Bucket>()
  private previous = new Map<string, Bucket>()
  private readonly generation: number
  private readonly perMs: number
  private readonly burst: number

  constructor(options: TokenBucketOptions) {
    if (!(options.perMinute > 0)) throw new Error(`tokens per minute must be positive, got ${options.perMinute}`)
    if (!(options.burst >= 1)) throw new Error(`burst must be at least 1, got ${options.burst}`)
    this.perMs = options.perMinute / MINUTE_MS
    this.burst = options.burst
    this.generation = Math.max(1, Math.floor(options.maxClients / 2))
  }

  /** The client's bucket, now in the current generation (a new, full one for a client not remembered). */
  private bucketOf(client: string, now: number): Bucket {
    const known = this.current.get(client)
    if (known) return known
    const bucket = this.previous.get(client) ?? { tokens: this.burst, at: now }
    this.previous.delete(client)
    if (this.current.size >= this.generation) {
      this.previous = this.current
      this.current = new Map()
    }
    this.current.set(client, bucket)
    return bucket
  }

  /**
   * Take one token from `client`'s bucket. Returns 0 when it was taken, otherwise the milliseconds
   * until one will be there (nothing is taken then: a refused request costs the client nothing more).
   */
  take(client: string, now: number): number {
    const bucket = this.bucketOf(client, now)
    if (now > bucket.at) {
      bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.perMs)
      bucket.at = now
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return Math.ceil((1 - bucket.tokens) / this.perMs)
  }

  /** Clients currently remembered. */
  get size(): number {
    return this.current.size + this.previous.size
  }
}
