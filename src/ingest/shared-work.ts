/**
 * Work done once across instances (issue 12): the cluster-wide twin of src/lib/single-flight.ts.
 * Single-flight makes the requests of one process share one fetch or derivation; on a shared
 * database the leader of that flight also takes a lease (src/store/leases.ts) before it starts,
 * so one instance does the work and the others wait for its result to appear in the store.
 *
 * - Lease taken: look in the store once more (the holder before us may have finished between the
 *   caller's look and our taking it), else do the work, renewing the lease every third of its TTL,
 *   and give it back when the work settles, success or failure.
 * - Lease held elsewhere: poll the store (`done`) every `pollMs`, or at once when the holder gives
 *   the lease back (a NOTIFY, best effort), and try the lease again each time. The result
 *   appearing ends the wait; the lease coming free without one (the holder failed and gave it
 *   back, or died and it ran out) makes this instance take the work over.
 * - The wait ends early when `signal` aborts (nobody waits for the result any more).
 *
 * On SQLite (one process per database) `localWork` runs the work at once: single-flight suffices,
 * and a miss pays nothing more.
 */
import { hostname } from 'node:os'
import type { LeaseTable } from '../store/leases.ts'

export interface SharedJob<T> {
  /** The work: fetch and store, derive and store. Its result is what every instance gets. */
  work: () => Promise<T>
  /** The work's result when it is in the store already (made by any instance), else undefined. */
  done: () => Promise<T | undefined>
  /** Stop waiting (rejecting with its reason) when it aborts; work under way is not interrupted. */
  signal?: AbortSignal
}

export interface SharedWork {
  /** `job.work()` run by one instance at a time for `name` (src/store/leases.ts, `leaseName`). */
  run<T>(name: string, job: SharedJob<T>): Promise<T>
  /** Stop listening for released leases. */
  close(): Promise<void>
}

/** One process per database: nothing to share with. */
export function localWork(): SharedWork {
  return { run: (_name, job) => job.work(), close: async () => {} }
}

export interface SharedWorkOptions {
  leases: LeaseTable
  /** How long a lease lasts unless renewed: how soon the work of a dead instance is taken over. */
  ttlMs: number
  /** How often a waiting instance looks for the result (and tries the lease). */
  pollMs?: number
  /** Names this instance in the lease table (default: host, pid and a random tag). */
  instanceId?: string
  /** Another instance was doing the work: this one waits for it. */
  onWait?: (name: string) => void
  /** The work was left unfinished by another instance (it failed or died): this one takes it over. */
  onTakeover?: (name: string) => void
  /** A lease could not be renewed or given back (it runs out by itself). */
  warn?: (message: string, fields?: Record<string, unknown>) => void
}

export function createSharedWork(options: SharedWorkOptions): SharedWork {
  const { leases, ttlMs } = options
  const pollMs = options.pollMs ?? 50
  const instanceId = options.instanceId ?? `${hostname()}/${process.pid}/${crypto.randomUUID().slice(0, 8)}`
  let taken = 0
  const warn = (message: string, name: string, error?: unknown) =>
    options.warn?.(message, {
      lease: name,
      ...(error === undefined ? {} : { error: error instanceof Error ? error.message : String(error) }),
    })
  /** Waiting runs by lease name: a release of that name wakes them before their poll is due. */
  const sleepers = new Map<string, Set<() => void>>()
  let watching: Promise<(() => Promise<void>) | undefined> | undefined
  /** Listens from the first wait on (most instances never wait); without it, polling alone. */
  const watchReleases = () =>
    (watching ??= leases
      .watch((name) => {
        for (const wake of sleepers.get(name) ?? []) wake()
      })
      .catch((error) => {
        warn('cannot LISTEN for released leases: waiting instances poll only', '*', error)
        return undefined
      }))

  /** Resolves after `ms` or when `name` is released; rejects with the signal's reason as soon as it aborts. */
  function pause(name: string, ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason)
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', stop)
        const set = sleepers.get(name)
        set?.delete(wake)
        if (set?.size === 0) sleepers.delete(name)
      }
      const wake = () => {
        done()
        resolve()
      }
      const stop = () => {
        done()
        reject(signal!.reason)
      }
      const timer = setTimeout(wake, ms)
      signal?.addEventListener('abort', stop, { once: true })
      const set = sleepers.get(name) ?? new Set()
      sleepers.set(name, set.add(wake))
    })
  }

  /** Renews until stopped; a lost lease is only reported: the work goes on (its result is the same). */
  function keepRenewing(name: string, holder: string): () => void {
    let renewing: Promise<unknown> = Promise.resolve()
    const timer = setInterval(() => {
      renewing = renewing
        .then(() => leases.renew(name, holder, ttlMs))
        .then(
          (held) => held || warn('lease ran out while its work was under way: another instance may repeat it', name),
          (error) => warn('lease not renewed', name, error),
        )
    }, ttlMs / 3)
    ;(timer as { unref?: () => void }).unref?.()
    return () => clearInterval(timer)
  }

  return {
    async run(name, job) {
      // Each run is a holder of its own: giving back one run's lease never ends another's.
      const holder = `${instanceId}#${++taken}`
      let waited = false
      while (!(await leases.acquire(name, holder, ttlMs))) {
        if (!waited) {
          options.onWait?.(name)
          await watchReleases()
        }
        waited = true
        await pause(name, pollMs, job.signal)
        const result = await job.done()
        if (result !== undefined) return result
      }
      const stopRenewing = keepRenewing(name, holder)
      try {
        const result = await job.done()
        if (result !== undefined) return result
        if (waited) options.onTakeover?.(name)
        return await job.work()
      } finally {
        stopRenewing()
        await leases.release(name, holder).catch((error) => warn('lease not given back', name, error))
      }
    },
    async close() {
      const unwatch = await watching
      await unwatch?.().catch(() => {})
    },
  }
}
