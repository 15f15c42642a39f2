/**
 * Concurrent callers asking for the same key share one in-flight promise: one upstream fetch per
 * missing picture, one transformation per missing derivative. The entry is dropped when the work
 * settles, so a failure is not cached here (negative caching is the store's job).
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>()

  run(key: string, work: () => Promise<T>): Promise<T> {
    const pending = this.inFlight.get(key)
    if (pending) return pending
    const promise = (async () => {
      try {
        return await work()
      } finally {
        this.inFlight.delete(key)
      }
    })()
    this.inFlight.set(key, promise)
    return promise
  }

  /** Is work for `key` under way (a caller now would join it rather than start it)? */
  has(key: string): boolean {
    return this.inFlight.has(key)
  }

  get size(): number {
    return this.inFlight.size
  }
}
