/**
 * The store's periodic chores in the server: forgetting expired "no picture" answers (every 5
 * minutes), the store bound (once at start, then every minute) and garbage collection (hourly).
 * Which instance does them, and what each does, is the caller's (src/app.ts); this only keeps time.
 */

export interface StoreChoresOptions {
  /** Run the timers (false: tests call the chores themselves); the bound is checked at start anyway. */
  periodic: boolean
  /** Whether this instance does the chores now; asked before each run. */
  housekeeping(): boolean
  forgetExpiredAbsent(): Promise<unknown>
  enforceBound(): Promise<unknown>
  collectGarbage(): Promise<unknown>
  /** Aborted when the app closes: a chore failing then is not worth a warning. */
  signal: AbortSignal
  warn(message: string, error: unknown): void
}

export interface StoreChores {
  /** Clear the timers; a chore already running finishes. */
  stop(): void
}

export function startStoreChores(options: StoreChoresOptions): StoreChores {
  const { housekeeping, signal, warn } = options
  const janitor = options.periodic
    ? setInterval(
        () => housekeeping() && void options.forgetExpiredAbsent().catch((error) => warn('janitor failed', error)),
        300_000,
      )
    : undefined
  ;(janitor as { unref?: () => void } | undefined)?.unref?.()

  // The store: its size now (the gauge, and a bound lowered since the last run), then every minute
  // (other processes write too); what crashes leave behind, every hour.
  const logStoreError = (what: string) => (error: unknown) => {
    if (!signal.aborted) warn(`${what} failed`, error)
  }
  void options.enforceBound().catch(logStoreError('store bound'))
  const storeTimers = options.periodic
    ? [
        setInterval(() => housekeeping() && void options.enforceBound().catch(logStoreError('store bound')), 60_000),
        setInterval(() => housekeeping() && void options.collectGarbage().catch(logStoreError('store gc')), 3_600_000),
      ]
    : []
  // A background job must never be what keeps the process alive.
  for (const timer of storeTimers) (timer as { unref?: () => void }).unref?.()

  return {
    stop() {
      if (janitor) clearInterval(janitor)
      for (const timer of storeTimers) clearInterval(timer)
    },
  }
}
