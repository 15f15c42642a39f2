/**
 * What starting new work costs a delivery request: one token of its client's allowance
 * (HEADSHOT_CLIENT_RATE), taken at most once, so a request that fetches a picture and then derives
 * from it pays once. Only called where work starts (a fetch, a derivation, a placeholder variant):
 * warm hits and requests joining work already running never pay.
 */
import { HttpError } from '../lib/http-error.ts'
import type { TokenBuckets } from '../lib/token-bucket.ts'

/** Work a request is about to start; throws a 429 when its client has no allowance left. */
export type Charge = () => void

export interface ChargeOptions {
  buckets: TokenBuckets | undefined
  /** Who sent the request, worked out only when it is about to start work; undefined: not limited. */
  client: (() => string | undefined) | undefined
  /** A signed URL was made by the owner: the work it can cause is bounded by what was signed. */
  signed: boolean
  now: () => number
  onLimited?: () => void
}

/** The request's charge, or undefined when it is free (no limit, no known client, or signed). */
export function chargeFor({ buckets, client, signed, now, onLimited }: ChargeOptions): Charge | undefined {
  if (!buckets || !client || signed) return undefined
  let paid = false
  return () => {
    if (paid) return
    const who = client()
    if (who === undefined) return
    const waitMs = buckets.take(who, now())
    if (waitMs > 0) {
      onLimited?.()
      const seconds = Math.max(1, Math.ceil(waitMs / 1000))
      throw new HttpError(429, `Too many new images requested by this client; retry in ${seconds} s`, {
        'Retry-After': String(seconds),
      })
    }
    paid = true
  }
}
