/**
 * Which networks told us to stop, and until when: the memory both the sweeper and the delivery path
 * consult before starting an upstream call. Two implementations of one interface:
 *
 * - `memoryPauses`: one process (SQLite), a map.
 * - `postgresPauses`: instances sharing one PostgreSQL database share one table (`upstream_pauses`,
 *   migration 0003), so a 429 seen by any instance spares the network the calls of all the others.
 *   Reads come from a copy of the whole table (one row per network ever paused) refreshed at most
 *   every PAUSE_CACHE_MS: a burst of calls to a network costs one small query per second, and a
 *   warm hit (a held picture, no upstream call) never asks. A pause another instance records is
 *   therefore seen within that delay; the recording instance sees its own at once.
 *
 * What to record is decided by the pure rules of src/refresh/pause.ts (`nextPause`); the table's
 * upsert keeps the later `until` when two instances record at once. Pause times are wall-clock
 * milliseconds, compared with each instance's clock: instances are expected to keep time (NTP).
 */
import type { SQL } from 'bun'
import { eq, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/bun-sql'
import { upstreamPauses } from '../store/schema-pg.ts'
import { FIRST_BACKOFF_MS, inForce, type NetworkPause, nextPause, pauseAfter } from './pause.ts'

/** How old the PostgreSQL copy of the pauses may be when read. */
export const PAUSE_CACHE_MS = 1_000

export interface UpstreamPauses {
  /** The network's last pause, in force or over (callers compare `until` with their clock). */
  get(network: string): Promise<NetworkPause | undefined>
  /**
   * Note that a call to `network` failed with `error`: record the pause it calls for (none when one
   * is in force already). Returns the pause in force after it, or undefined when `error` calls for none.
   */
  record(network: string, error: unknown): Promise<NetworkPause | undefined>
  /** A call to `network` worked: the next refusal without a reset time waits the first back-off again. */
  recovered(network: string): Promise<void>
}

/** Does `error` stop the whole network (a rate limit, refused credentials)? */
const callsForPause = (error: unknown, now: number) => pauseAfter(error, now, FIRST_BACKOFF_MS) !== undefined

export function memoryPauses(now: () => number = Date.now): UpstreamPauses {
  const pauses = new Map<string, NetworkPause>()
  return {
    async get(network) {
      return pauses.get(network)
    },
    async record(network, error) {
      const at = now()
      if (!callsForPause(error, at)) return undefined
      const next = nextPause(pauses.get(network), error, at)
      if (next) pauses.set(network, next)
      return pauses.get(network)
    },
    async recovered(network) {
      const pause = pauses.get(network)
      if (pause && pause.nextBackoffMs !== FIRST_BACKOFF_MS && !inForce(pause, now())) {
        pauses.set(network, { ...pause, nextBackoffMs: FIRST_BACKOFF_MS })
      }
    },
  }
}

export interface PostgresPausesOptions {
  /** The clock pauses are compared with (the app's). */
  now?: () => number
  /** How old the copy may be (default PAUSE_CACHE_MS), in real time. */
  cacheMs?: number
  warn?: (message: string, fields?: Record<string, unknown>) => void
}

export function postgresPauses(client: Promise<SQL>, options: PostgresPausesOptions = {}): UpstreamPauses {
  const now = options.now ?? Date.now
  const cacheMs = options.cacheMs ?? PAUSE_CACHE_MS
  const database = client.then((c) => drizzle({ client: c }))
  database.catch(() => {}) // the app's `ready` reports an unreachable database
  let copy = new Map<string, NetworkPause>()
  let readAt = -Infinity
  let reading: Promise<void> | undefined

  const toPause = (row: typeof upstreamPauses.$inferSelect): NetworkPause => ({
    until: row.until,
    nextBackoffMs: row.nextBackoffMs,
    reason: row.reason,
  })

  /** Re-read the table when the copy is too old; one read at a time, whoever asks. */
  function refresh(): Promise<void> {
    if (performance.now() - readAt < cacheMs) return Promise.resolve()
    reading ??= (async () => {
      try {
        const rows = await (await database).select().from(upstreamPauses)
        copy = new Map(rows.map((row) => [row.network, toPause(row)]))
      } catch (error) {
        // The database is unreachable: go on with what we knew (the rest of the app fails loudly anyway).
        options.warn?.('upstream pauses: cannot read the shared table', {
          error: error instanceof Error ? error.message : String(error),
        })
      } finally {
        readAt = performance.now()
        reading = undefined
      }
    })()
    return reading
  }

  return {
    async get(network) {
      await refresh()
      return copy.get(network)
    },
    async record(network, error) {
      const at = now()
      if (!callsForPause(error, at)) return undefined
      const db = await database
      // The freshest row, not the copy: the back-off doubles from what the last pause really was.
      const [row] = await db.select().from(upstreamPauses).where(eq(upstreamPauses.network, network))
      const next = nextPause(row && toPause(row), error, at)
      if (!next) {
        if (row) copy.set(network, toPause(row))
        return row && toPause(row)
      }
      // Another instance may record at the same moment: the later `until` (and what came with it) wins.
      const [kept] = await db
        .insert(upstreamPauses)
        .values({ network, ...next })
        .onConflictDoUpdate({
          target: upstreamPauses.network,
          set: {
            nextBackoffMs: sql`CASE WHEN excluded.until >= upstream_pauses.until THEN excluded.next_backoff_ms ELSE upstream_pauses.next_backoff_ms END`,
            reason: sql`CASE WHEN excluded.until >= upstream_pauses.until THEN excluded.reason ELSE upstream_pauses.reason END`,
            until: sql`GREATEST(excluded.until, upstream_pauses.until)`,
          },
        })
        .returning()
      const pause = toPause(kept!)
      copy.set(network, pause)
      return pause
    },
    async recovered(network) {
      const known = copy.get(network)
      // Only after an escalated back-off: a working call costs no write otherwise.
      if (!known || known.nextBackoffMs === FIRST_BACKOFF_MS || inForce(known, now())) return
      copy.set(network, { ...known, nextBackoffMs: FIRST_BACKOFF_MS })
      await (await database)
        .update(upstreamPauses)
        .set({ nextBackoffMs: FIRST_BACKOFF_MS })
        .where(sql`${upstreamPauses.network} = ${network} AND ${upstreamPauses.until} <= ${now()}`)
    },
  }
}
