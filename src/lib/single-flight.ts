/**
 * Concurrent callers asking for the same key share one in-flight promise: one upstream fetch per
 * missing picture, one transformation per missing derivative. The entry is dropped when the work
 * settles, so a failure is not cached here (negative caching is the store's job).
 *
 * A caller may pass a `signal` (its client's request): when it aborts, that caller stops waiting
 * (rejected with the signal's reason). The work itself is told, through the signal it is given,
 * only when no caller is left waiting: callers without a signal wait to the end, and one client
 * going away never cancels work another client still waits for.
 */
interface Flight<T> {
  promise: Promise<T>
  /** Aborted when every caller has stopped waiting. */
  controller: AbortController
  /** Callers still waiting (one without a signal waits for good). */
  waiters: number
}

export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Flight<T>>()

  run(key: string, work: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason)
    const flight = this.inFlight.get(key) ?? this.start(key, work)
    flight.waiters++
    if (!signal) return flight.promise
    return new Promise<T>((resolve, reject) => {
      const leave = () => {
        reject(signal.reason)
        if (--flight.waiters > 0) return
        // Nobody wants the result now: the next caller starts afresh, and the work may stop.
        if (this.inFlight.get(key) === flight) this.inFlight.delete(key)
        flight.controller.abort(signal.reason)
      }
      signal.addEventListener('abort', leave, { once: true })
      flight.promise.then(
        (value) => {
          signal.removeEventListener('abort', leave)
          resolve(value)
        },
        (error) => {
          signal.removeEventListener('abort', leave)
          reject(error)
        },
      )
    })
  }

  private start(key: string, work: (signal: AbortSignal) => Promise<T>): Flight<T> {
    const flight = { controller: new AbortController(), waiters: 0 } as Flight<T>
    // Registered before the work starts, so even a synchronous failure is cleaned up.
    this.inFlight.set(key, flight)
    flight.promise = (async () => {
      try {
        return await work(flight.controller.signal)
      } finally {
        if (this.inFlight.get(key) === flight) this.inFlight.delete(key)
      }
    })()
    return flight
  }

  /** Is work for `key` under way (a caller now would join it rather than start it)? */
  has(key: string): boolean {
    return this.inFlight.has(key)
  }

  get size(): number {
    return this.inFlight.size
  }
}
