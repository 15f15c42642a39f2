/**
 * When the background sweep must leave a whole network alone. A rate limit is about every call we
 * would make, not one picture: wait until the upstream's reset when it gave one, else back off
 * (1 min, doubling to 15 min). Refused credentials are treated the same way, since every call
 * would fail alike until an operator fixes them. Anything else concerns one picture or one call.
 */
import { UpstreamError } from '../plugin-host/types.ts'

export const FIRST_BACKOFF_MS = 60_000
export const MAX_BACKOFF_MS = 15 * 60_000

export interface NetworkPause {
  /** No calls to the network before this time (ms since epoch). */
  until: number
  /** The back-off to use the next time the network says no without a reset. */
  nextBackoffMs: number
}

/** The pause `error` calls for, or undefined when the network may keep being asked. */
export function pauseAfter(error: unknown, now: number, backoffMs: number): NetworkPause | undefined {
  if (!(error instanceof UpstreamError)) return undefined
  if (error.code === 'rate_limited' && error.retryAt !== undefined && error.retryAt > now) {
    return { until: error.retryAt, nextBackoffMs: backoffMs }
  }
  if (error.code === 'rate_limited' || error.code === 'auth') {
    return { until: now + backoffMs, nextBackoffMs: Math.min(backoffMs * 2, MAX_BACKOFF_MS) }
  }
  return undefined
}
