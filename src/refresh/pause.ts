/**
 * When a whole network must be left alone. A rate limit is about every call we would make, not one
 * picture: wait until the upstream's reset when it gave one, else back off (1 min, doubling to
 * 15 min). Refused credentials are treated the same way, since every call would fail alike until an
 * operator fixes them. Anything else concerns one picture or one call.
 *
 * Pure: the sweeper and the delivery path decide with these, and src/refresh/upstream-pauses.ts
 * keeps the result (in memory, or in PostgreSQL for every instance).
 */
import { UpstreamError } from '../plugin-host/types.ts'

export const FIRST_BACKOFF_MS = 60_000
export const MAX_BACKOFF_MS = 15 * 60_000

/** Why a network is paused: it decides how a delivery that needs the network is answered. */
export type PauseReason = 'rate_limited' | 'auth'

export interface NetworkPause {
  /** No calls to the network before this time (ms since epoch). */
  until: number
  /** The back-off to use the next time the network says no without a reset. */
  nextBackoffMs: number
  reason: PauseReason
}

/** The pause `error` calls for, or undefined when the network may keep being asked. */
export function pauseAfter(error: unknown, now: number, backoffMs: number): NetworkPause | undefined {
  if (!(error instanceof UpstreamError)) return undefined
  if (error.code === 'rate_limited' && error.retryAt !== undefined && error.retryAt > now) {
    return { until: error.retryAt, nextBackoffMs: backoffMs, reason: 'rate_limited' }
  }
  if (error.code === 'rate_limited' || error.code === 'auth') {
    return { until: now + backoffMs, nextBackoffMs: Math.min(backoffMs * 2, MAX_BACKOFF_MS), reason: error.code }
  }
  return undefined
}

/** Is `pause` in force at `now`? */
export const inForce = (pause: NetworkPause | undefined, now: number): boolean =>
  pause !== undefined && pause.until > now

/**
 * The pause to record after `error`, given the network's last one (`previous`, possibly over), or
 * undefined when there is nothing to record: the error calls for no pause, or one is already in
 * force. Calls under way when the network said stop come back with the same refusal, and must not
 * lengthen the pause or double the back-off again; only a reset the network names beyond the
 * pause moves it (calls before that reset would be refused anyway).
 *
 * The back-off carries over from the last pause, so a network refusing again right after its pause
 * waits twice as long; once it has behaved for the longest back-off, it starts at a minute again
 * (and the sweeper resets it sooner, after a call that worked: `recovered`).
 */
export function nextPause(previous: NetworkPause | undefined, error: unknown, now: number): NetworkPause | undefined {
  if (previous !== undefined && inForce(previous, now)) {
    const later =
      error instanceof UpstreamError && error.code === 'rate_limited' && (error.retryAt ?? 0) > previous.until
    return later ? { ...previous, until: error.retryAt!, reason: 'rate_limited' } : undefined
  }
  const calm = previous === undefined || previous.until <= now - MAX_BACKOFF_MS
  return pauseAfter(error, now, calm ? FIRST_BACKOFF_MS : previous!.nextBackoffMs)
}

/**
 * A call we did not make because the network is paused: answered like the network's own refusal
 * (a rate limit is a 503 with Retry-After until the pause ends), yet told apart from it, since it
 * is no news about the network and no failure of the picture.
 */
export class NetworkPaused extends UpstreamError {}

/** The refusal of a call to a network paused by `pause`. */
export function pausedError(network: string, pause: NetworkPause): NetworkPaused {
  return pause.reason === 'auth'
    ? new NetworkPaused('auth', `${network}: credentials refused; not asked again before ${isoTime(pause.until)}`)
    : new NetworkPaused('rate_limited', `${network}: rate limited until ${isoTime(pause.until)}`, pause.until)
}

const isoTime = (ms: number) => new Date(ms).toISOString()
