/**
 * One sweeper per database: instances sharing a PostgreSQL database elect a leader, and only the
 * leader sweeps (src/refresh/sweeper.ts asks `leading` before every round and every call).
 *
 * The lease is a session-level advisory lock, `pg_try_advisory_lock(SWEEP_LOCK_KEY)`, held on a
 * connection of its own. Why a lock and not a lease row with an expiry: PostgreSQL frees a session
 * lock by itself the moment the session ends, whatever ended it (a clean close, kill -9, a dropped
 * network, an operator's pg_terminate_backend), so there is no expiry to tune, no renewal to miss
 * and no clock to trust; the next instance that tries gets it.
 *
 * - Not leading: try every `retryMs` (5 s; the first try at once).
 * - Leading: every `checkMs` (1 s) ask the server whether this session still holds the lock. The
 *   connection closing (Bun's `onclose`), a check that fails, times out or finds the lock gone ends
 *   the leadership at once, and the connection is closed, so that a session the server still keeps
 *   alive cannot hold the lock while nobody sweeps. Then back to trying.
 *
 * Two instances can believe they lead only between the server ending the old leader's session and
 * the old leader noticing: at once when its socket closes, within `checkMs` otherwise. On SQLite
 * there is one process, which always leads (`soleLeader`).
 */

import { SQL } from 'bun'
import type { LogFields } from '../ops/log.ts'
import type { DatabaseEngine } from '../store/open.ts'

/** The lock's key: any fixed 64-bit number other than the migrations' one; this spells "hssweepr". */
export const SWEEP_LOCK_KEY = 0x6873737765657072n

export const LEADER_RETRY_MS = 5_000
export const LEADER_CHECK_MS = 1_000
/** A try or a check that takes longer than this counts as a lost connection. */
const QUERY_TIMEOUT_MS = 3_000

export interface Leadership {
  /** Whether this instance may sweep now. */
  readonly leading: boolean
  close(): Promise<void>
}

/** One process, one sweeper: SQLite. */
export function soleLeader(): Leadership {
  return { leading: true, close: async () => {} }
}

/** The part of a one-connection Bun SQL client the lease uses. */
export interface LockConnection {
  unsafe(query: string): Promise<unknown>
  close(): Promise<void>
}

export interface AdvisoryLeadershipOptions {
  /** Open a dedicated connection; `onClose` is called when it closes, for whatever reason. */
  connect(onClose: () => void): LockConnection
  retryMs?: number
  checkMs?: number
  /** Leadership gained or lost (log it). */
  onChange?: (leading: boolean, why: string) => void
}

const TRY_SQL = `SELECT pg_try_advisory_lock(${SWEEP_LOCK_KEY}) AS got`
// A bigint advisory key shows in pg_locks as its high half (classid) and low half (objid), objsubid 1.
const HOLDS_SQL = `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
  AND pid = pg_backend_pid() AND classid = ${SWEEP_LOCK_KEY >> 32n} AND objid = ${SWEEP_LOCK_KEY & 0xffffffffn}
  AND objsubid = 1) AS held`

export function createAdvisoryLeadership(options: AdvisoryLeadershipOptions): Leadership {
  const retryMs = options.retryMs ?? LEADER_RETRY_MS
  const checkMs = options.checkMs ?? LEADER_CHECK_MS
  let leading = false
  let closed = false
  let connection: LockConnection | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let attempt: Promise<void> | undefined

  function change(to: boolean, why: string): void {
    if (leading === to) return
    leading = to
    options.onChange?.(to, why)
  }

  /** End this session (and with it any lock it holds), and stop leading. */
  function drop(why: string): void {
    const old = connection
    connection = undefined
    change(false, why)
    void old?.close().catch(() => {})
  }

  function open(): LockConnection {
    const opened = options.connect(() => {
      // Only the current connection matters: an old one closing is what we asked for.
      if (connection === opened) drop('the lock connection closed')
    })
    connection = opened
    return opened
  }

  async function once(): Promise<void> {
    const conn = connection ?? open()
    try {
      const rows = (await withTimeout(conn.unsafe(leading ? HOLDS_SQL : TRY_SQL))) as Array<Record<string, unknown>>
      if (closed || conn !== connection) return
      const yes = rows[0]?.[leading ? 'held' : 'got'] === true
      if (leading && !yes) drop('the lock is no longer held')
      else if (!leading && yes) change(true, 'lock acquired')
    } catch (error) {
      if (conn === connection) drop(`the lock connection failed: ${error instanceof Error ? error.message : error}`)
    }
  }

  function schedule(ms: number): void {
    if (closed) return
    timer = setTimeout(() => {
      attempt = once().finally(() => schedule(leading ? checkMs : retryMs))
    }, ms)
    // A background job must never be what keeps the process alive.
    timer.unref?.()
  }

  // The first try at once: a lone instance starts sweeping without waiting.
  attempt = once().finally(() => schedule(leading ? checkMs : retryMs))

  return {
    get leading() {
      return leading && !closed
    },
    async close() {
      closed = true
      clearTimeout(timer)
      await attempt?.catch(() => {})
      const conn = connection
      connection = undefined
      leading = false
      // Closing the session frees the lock for the next instance at once.
      await conn?.close().catch(() => {})
    },
  }
}

async function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${QUERY_TIMEOUT_MS} ms`)), QUERY_TIMEOUT_MS)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

export interface SweepLeadershipOptions {
  engine: DatabaseEngine
  /** HEADSHOT_DATABASE_URL: the lease's connection is opened on it. */
  databaseUrl: string | undefined
  /** Whether this instance sweeps at all (HEADSHOT_SWEEP_RATE > 0); when not, it never takes the lease. */
  sweepEnabled: boolean
  /** Settles when the database serves; the lease is sought only then. */
  ready: Promise<unknown>
  /** The app is closing: a lease not sought yet is never sought. */
  signal: AbortSignal
  retryMs?: number
  checkMs?: number
  log: { info(msg: string, fields?: LogFields): void; warn(msg: string, fields?: LogFields): void }
}

/** The app's leadership of the sweep, whichever the database. */
export interface SweepLeadership {
  /** Whether this instance may sweep now: false on PostgreSQL until it holds the lease. */
  readonly leading: boolean
  /**
   * Whether a leadership is in place: on SQLite at once; on PostgreSQL once the database serves,
   * and never on an instance with the sweep off.
   */
  readonly established: boolean
  /** Hand the lease on (closing its session frees the lock at once). */
  close(): Promise<void>
}

/**
 * One sweeper per database. SQLite: this process. PostgreSQL: whoever holds the lease, once the
 * database serves; an instance with the sweep off never takes it, so it cannot starve the others.
 */
export function startSweepLeadership(options: SweepLeadershipOptions): SweepLeadership {
  const { databaseUrl, log } = options
  let leadership: Leadership | undefined = options.engine === 'sqlite' ? soleLeader() : undefined
  if (databaseUrl !== undefined && options.sweepEnabled) {
    options.ready.then(
      () => {
        if (options.signal.aborted) return
        leadership = createAdvisoryLeadership({
          retryMs: options.retryMs,
          checkMs: options.checkMs,
          // A connection of its own: its session holds the lock, and its closing means the lock is gone.
          connect: (onClose) =>
            new SQL({ url: databaseUrl, max: 1, idleTimeout: 0, connectionTimeout: 10, onclose: () => onClose() }),
          onChange: (leading, why) =>
            leading
              ? log.info('sweep: this instance leads the background sweep', { why })
              : log.warn('sweep: this instance no longer leads the background sweep', { why }),
        })
      },
      () => {},
    )
  }
  return {
    get leading() {
      return leadership?.leading ?? false
    },
    get established() {
      return leadership !== undefined
    },
    close: async () => {
      await leadership?.close()
    },
  }
}
