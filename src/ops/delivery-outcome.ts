/**
 * How a delivery request was answered, in a few fixed classes (metric labels must stay bounded:
 * never the path, the id or the transformation). Read from what the layers noted on the request's
 * trace (src/lib/request-trace.ts).
 */
import type { RequestTrace } from '../lib/request-trace.ts'

export const DELIVERY_OUTCOMES = ['hot', 'stored', 'derived', 'fetched', 'error'] as const
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number]

export const CACHE_RESULTS = ['hot', 'stored', 'miss'] as const
export type CacheResult = (typeof CACHE_RESULTS)[number]

/**
 * `error` for any status from 400 up; otherwise the most expensive thing the request needed: the
 * picture from its network (`fetched`, whether or not a transformation followed), a new derived
 * image (`derived`), the store (`stored`), or nothing but memory (`hot`). Without a trace (a layer
 * driven directly) a success counts as `stored`.
 */
export function deliveryOutcome(status: number, trace: RequestTrace | undefined): DeliveryOutcome {
  if (status >= 400) return 'error'
  if (trace?.hot) return 'hot'
  if (trace?.fetched) return 'fetched'
  if (trace?.derived) return 'derived'
  return 'stored'
}

/** The cache result of an answer; errors are not cache lookups and have none. */
export function cacheResultOf(outcome: DeliveryOutcome): CacheResult | undefined {
  if (outcome === 'error') return undefined
  return outcome === 'hot' || outcome === 'stored' ? outcome : 'miss'
}
