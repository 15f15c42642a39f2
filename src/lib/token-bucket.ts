/**
 * One token bucket per client: `perMinute` tokens a minute, at most `burst` saved up, a full bucket
 * for a client never seen. Used to limit how much new work (upstream fetches, new derived images)
 * one client may cause; what it may read costs nothing, so nothing here is touched for warm hits.
 *
 * The number of clients is bounded: the buckets live in an LRU map of `maxClients` entries, so a
 * spray of spoofed or unique addresses cannot grow memory without bound. Dropping the least
 * recently charged bucket forgets little: a bucket left alone for `burst / perMinute` minutes is
 * full again, i.e. the same as no bucket. Only a spray of more than `maxClients` addresses within
 * that time can give a busy client a fresh bucket early. Times are passed in, so tests drive the clock.
 */
import { LruCache } from './lru.ts'

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
  /** The most clients remembered at once (least recently charged forgotten first). */
  maxClients: number
}

export class TokenBuckets {
  private readonly buckets: LruCache<Bucket>
  private readonly perMs: number
  private readonly burst: number

  constructor(options: TokenBucketOptions) {
    if (!(options.perMinute > 0)) throw new Error(`tokens per minute must be positive, got ${options.perMinute}`)
    if (!(options.burst >= 1)) throw new Error(`burst must be at least 1, got ${options.burst}`)
    this.perMs = options.perMinute / MINUTE_MS
    this.burst = options.burst
    this.buckets = new LruCache<Bucket>(options.maxClients)
  }

  /**
   * Take one token from `client`'s bucket. Returns 0 when it was taken, otherwise the milliseconds
   * until one will be there (nothing is taken then: a refused request costs the client nothing more).
   */
  take(client: string, now: number): number {
    const bucket = this.buckets.get(client) ?? { tokens: this.burst, at: now }
    if (now > bucket.at) {
      bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.perMs)
      bucket.at = now
    }
    // set() on every call also makes the client the most recently charged one.
    this.buckets.set(client, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return Math.ceil((1 - bucket.tokens) / this.perMs)
  }

  /** Clients currently remembered. */
  get size(): number {
    return this.buckets.size
  }
}
