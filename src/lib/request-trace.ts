/**
 * What one HTTP request did, noted by the layers it passes through and read when it ends (its
 * access log line, the delivery metrics, any log line written meanwhile carries its id). It travels
 * in AsyncLocalStorage so that the layers in between need no extra parameter; outside a request
 * (the sweeper, a test calling a layer directly) there is no trace and noting does nothing.
 */
import { AsyncLocalStorage } from 'node:async_hooks'

export interface RequestTrace {
  /** The request id (X-Request-Id): echoed to the client and written on every log line of the request. */
  readonly id: string
  /** Delivery: answered from the hot-response cache. */
  hot?: boolean
  /** Delivery: the picture was asked of its network for this request (or the request waited for that). */
  fetched?: boolean
  /** Delivery: the derived image was not stored and was made for this request (or it waited for that). */
  derived?: boolean
  /** Delivery: the cache result the access log line reports (set by the delivery route). */
  cache?: 'hot' | 'stored' | 'miss'
}

const storage = new AsyncLocalStorage<RequestTrace>()

/** Run `work` with `trace` as the current request's trace. */
export function runTraced<T>(trace: RequestTrace, work: () => T): T {
  return storage.run(trace, work)
}

/** The trace of the request being served, if any. */
export function currentTrace(): RequestTrace | undefined {
  return storage.getStore()
}

/** Note what the current request did (nothing outside a request). */
export function noteTrace(facts: Pick<RequestTrace, 'hot' | 'fetched' | 'derived'>): void {
  const trace = storage.getStore()
  if (trace) Object.assign(trace, facts)
}
