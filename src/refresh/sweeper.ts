/**
 * The background re-check. Behind a CDN the origin rarely sees a request for a picture it holds, so
 * refresh-on-access alone would let pictures go stale for months. The sweeper walks the held
 * pictures whose last check is older than the refresh TTL, oldest first, a little at a time: each
 * network has its own budget of upstream calls per minute (src/refresh/budget.ts), charged with what
 * each check really cost (the plugin's client counts its requests), so a sweep never eats the rate
 * limit deliveries need.
 *
 * The cheapest signal wins: a plugin with batch lookups (X: 100 users per call) is asked for a whole
 * batch at once, and each picture is then re-checked with its answer, so an unchanged X picture
 * costs a hundredth of a call and no download. Changes go through PictureSource, which reports them
 * through the same `onChange` as refresh-on-access (the caller purges CDNs there).
 *
 * A rate-limited network is left alone until its reset (src/refresh/pause.ts); the others go on.
 * Pauses live in an UpstreamPauses shared with the delivery path (and on PostgreSQL with every
 * instance), so a 429 a delivery met pauses the sweep too, and the other way round.
 * Any other failure is counted, and the picture's next check is pushed back so it is not retried
 * on every tick.
 *
 * With several instances on one PostgreSQL database only one sweeps: the leader
 * (src/refresh/leader.ts). `leading` is asked before every round and before every call, so an
 * instance that loses the lease stops at once; the per-minute budget is then the whole
 * deployment's, since nobody else sweeps.
 */
import type { PictureSource } from '../ingest/pictures.ts'
import type { Metrics } from '../metrics.ts'
import { countUpstreamCalls } from '../plugin-host/call-count.ts'
import type { LoadedPlugin, PluginRegistry } from '../plugin-host/registry.ts'
import { UpstreamError, type BatchAnswer } from '../plugin-host/types.ts'
import type { Picture, Repository } from '../store/types.ts'
import { CallBudget } from './budget.ts'
import { inForce } from './pause.ts'
import { memoryPauses, type UpstreamPauses } from './upstream-pauses.ts'

export interface SweeperOptions {
  repo: Repository
  registry: PluginRegistry
  pictures: PictureSource
  /** A held picture last checked longer ago than this is due (the refresh-on-access TTL). */
  refreshTtlMs: number
  /** Upstream calls per minute per network (a batch lookup is one call); 0 turns the sweeper off. */
  callsPerMinute: number
  metrics: Metrics
  now?: () => number
  /** Where pauses and failures are reported (default: stderr). */
  log?: (line: string) => void
  /** Time between two rounds when started (default 5 s). */
  tickMs?: number
  /** Networks told to stop, shared with the delivery path (default: the sweeper's own, in memory). */
  pauses?: UpstreamPauses
  /** May this instance sweep now? (the leader lease; default: always, one process) */
  leading?: () => boolean
}

/** One network's progress since the sweeper was created (the Media Library shows these). */
export interface SweepNetworkStatus {
  type: string
  /** Held pictures due for a re-check after the last round (recounted once a minute). */
  due: number
  checked: number
  changed: number
  errors: number
  /** Upstream requests spent: API calls and downloads. */
  calls: number
  /** No calls to this network before this time (ms since epoch): it rate-limited us. */
  pausedUntil?: number
  /** When this network last had a round (ms since epoch). */
  lastTickAt?: number
}

export interface SweeperStatus {
  enabled: boolean
  /** Whether this instance sweeps now (another instance holds the lease when false). */
  leader: boolean
  callsPerMinute: number
  networks: SweepNetworkStatus[]
}

/** What one round did, per network (counts are for this round only; `due` is what is left). */
export interface SweepTickReport {
  at: number
  networks: Array<{
    type: string
    checked: number
    changed: number
    errors: number
    calls: number
    due: number
    pausedUntil?: number
  }>
}

export interface Sweeper {
  /** Run rounds every `tickMs` until stopped (never two at once; the timer does not keep the process alive). */
  start(): void
  /** Stop the timer and wait for the round under way, which ends early (picture checks already started finish). */
  stop(): Promise<void>
  /** One round of due work now; a round asked for while one runs is that round. */
  tick(): Promise<SweepTickReport>
  status(): SweeperStatus
}

const DEFAULT_TICK_MS = 5_000
/** At most this many pictures per network per round, however large the budget: rounds stay short. */
const MAX_PICTURES_PER_TICK = 1_000
/** Pictures of one network re-checked side by side (downloads and hashing overlap). */
const CONCURRENCY = 4
/**
 * The backlog is counted (an index range count) once a minute, and in between lowered by the
 * pictures each round checked: rounds every few seconds need not pay for it.
 */
const DUE_RECOUNT_MS = 60_000
/** The usual cost of a check without a batch (one lookup, one download) until a network has shown its own. */
const FIRST_COST_GUESS = 2
/** A check reserves what the most expensive of this many recent checks of its network cost. */
const COST_MEMORY = 8

const SERIES = {
  checked: ['sweep_checked_total', 'Pictures re-checked upstream by the background sweep'],
  changed: ['sweep_changed_total', 'Pictures the background sweep found changed or gone upstream'],
  errors: ['sweep_errors_total', 'Failed checks in the background sweep (a failed batch lookup counts once)'],
  calls: ['sweep_upstream_calls_total', 'Upstream requests the background sweep made (API calls and downloads)'],
  due: ['sweep_due', 'Held pictures due for a re-check (recounted every minute)'],
  pausedUntil: ['sweep_paused_until_seconds', 'Unix time until which the sweep leaves a rate-limited network alone'],
  lastTick: ['sweep_last_tick_seconds', 'Unix time of the last background sweep round'],
} as const

interface NetworkState {
  plugin: LoadedPlugin
  budget: CallBudget
  /** What the latest checks without a batch cost (newest last), to reserve enough for the next one. */
  recentCosts: number[]
  /** The network's pause as last read from `pauses` (for the status and the gauge). */
  pausedUntil?: number
  lastTickAt?: number
  due: number
  dueCountedAt?: number
  totals: Tally
}

interface Tally {
  checked: number
  changed: number
  errors: number
  calls: number
}

const emptyTally = (): Tally => ({ checked: 0, changed: 0, errors: 0, calls: 0 })

/** A re-check that found new bytes, or that the picture is gone. */
const hasChanged = (before: Picture, after: Picture) =>
  after.version !== before.version || after.status !== before.status

export function createSweeper(options: SweeperOptions): Sweeper {
  const { repo, registry, pictures, refreshTtlMs, callsPerMinute, metrics } = options
  if (!Number.isInteger(callsPerMinute) || callsPerMinute < 0) {
    throw new Error(`callsPerMinute must be a non-negative integer, got ${callsPerMinute}`)
  }
  const now = options.now ?? Date.now
  const log = options.log ?? ((line: string) => console.error(line))
  const tickMs = options.tickMs ?? DEFAULT_TICK_MS
  const enabled = callsPerMinute > 0
  const pauses = options.pauses ?? memoryPauses(now)
  const leading = options.leading ?? (() => true)

  const networks: NetworkState[] = registry.types().map((type) => ({
    plugin: registry.get(type)!,
    budget: new CallBudget(Math.max(1, callsPerMinute), now()),
    recentCosts: [],
    due: 0,
    totals: emptyTally(),
  }))

  // Every series exists from the start, so dashboards and alerts see zeros rather than gaps.
  for (const { plugin } of networks) {
    const labels = { type: plugin.type }
    for (const [name, help] of [SERIES.checked, SERIES.changed, SERIES.errors, SERIES.calls]) {
      metrics.inc(name, help, labels, 0)
    }
    metrics.set(...SERIES.due, labels, 0)
    metrics.set(...SERIES.pausedUntil, labels, 0)
  }
  metrics.declare(...SERIES.lastTick, 'gauge')

  let stopped = false
  let running: Promise<SweepTickReport> | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  /** Bumped by start and stop, so a timer from before a stop never schedules again. */
  let generation = 0

  const isPaused = (state: NetworkState) => state.pausedUntil !== undefined && state.pausedUntil > now()
  const mayGoOn = (state: NetworkState) => !stopped && leading() && !isPaused(state)

  function count(state: NetworkState, round: Tally, what: keyof Tally, by = 1): void {
    if (by === 0) return
    state.totals[what] += by
    round[what] += by
    const [name, help] = SERIES[what]
    metrics.inc(name, help, { type: state.plugin.type }, by)
  }

  /** Settle a reservation at what the work really spent. */
  function spend(state: NetworkState, round: Tally, reserved: number, calls: number): void {
    state.budget.settle(reserved, calls, now())
    count(state, round, 'calls', calls)
  }

  /** Count a failure; pause the network when it says so, else push the pictures' next check back. */
  async function failed(state: NetworkState, round: Tally, error: unknown, postpone: Picture[] = []): Promise<void> {
    count(state, round, 'errors')
    const { type } = state.plugin
    const message = error instanceof Error ? error.message : String(error)
    // Recorded once for everyone (a check's refusal already by PictureSource: recording again is a
    // no-op). Unrecorded (the database failed), it is handled as any other failure.
    const pause = await pauses.record(type, error).catch(() => undefined)
    if (pause) {
      // Checks that were under way when the network said stop come back with the same refusal.
      if (isPaused(state)) return
      state.pausedUntil = pause.until
      log(`sweep: ${type} paused until ${new Date(pause.until).toISOString()}: ${message}`)
      return
    }
    for (const picture of postpone) await pictures.postpone(picture, error)
    log(`sweep: ${type}: ${message}`)
  }

  /**
   * Re-check one picture (with its batch answer when there is one) and account for it: the upstream
   * calls it spent, or undefined when it failed.
   */
  async function recheck(
    state: NetworkState,
    round: Tally,
    picture: Picture,
    reserved: number,
    answer?: BatchAnswer,
  ): Promise<number | undefined> {
    if (answer instanceof UpstreamError) {
      // X said something about this user we cannot use: this picture's check failed, no call of its own.
      await failed(state, round, answer, [picture])
      return undefined
    }
    const result = await countUpstreamCalls(() => pictures.recheck(state.plugin, picture, answer))
    spend(state, round, reserved, result.calls)
    if (!result.ok) {
      // recheck has already pushed this picture's next check back.
      await failed(state, round, result.error)
      return undefined
    }
    count(state, round, 'checked')
    if (hasChanged(picture, result.value)) count(state, round, 'changed')
    return result.calls
  }

  /** A plugin with batch lookups: one call per `max` pictures, then each picture re-checked with its answer. */
  async function sweepInBatches(state: NetworkState, round: Tally, cutoff: number): Promise<void> {
    const { plugin, budget } = state
    const batch = plugin.resolveMany!
    const limit = Math.min(budget.available(now()) * batch.max, MAX_PICTURES_PER_TICK)
    if (limit === 0) return
    const due = await repo.listDueForRefresh(plugin.type, cutoff, limit)
    for (let start = 0; start < due.length; start += batch.max) {
      if (!mayGoOn(state) || !budget.tryReserve(1, now())) return
      const chunk = due.slice(start, start + batch.max)
      const lookup = await countUpstreamCalls(() => batch.run(chunk.map((picture) => picture.publicId)))
      spend(state, round, 1, lookup.calls)
      if (!lookup.ok) {
        await failed(state, round, lookup.error, chunk)
        continue
      }
      // Downloads of the pictures that changed are charged as they happen: changes are rare, and
      // the lookup that found them is already paid for.
      await eachConcurrently(chunk, async (picture) => {
        await recheck(state, round, picture, 0, lookup.value.get(picture.publicId))
      })
    }
  }

  /** A plugin without batch lookups: one picture at a time (a few side by side), each its own lookup and download. */
  async function sweepOneByOne(state: NetworkState, round: Tally, cutoff: number): Promise<void> {
    const { plugin, budget } = state
    // Every check costs at least one call; the budget decides below how many really start.
    const limit = Math.min(budget.available(now()), MAX_PICTURES_PER_TICK)
    if (limit === 0) return
    const due = await repo.listDueForRefresh(plugin.type, cutoff, limit)
    await eachConcurrently(due, async (picture) => {
      // What a check of this network costs shows after a few (Gravatar 1; Facebook 2, lookup + download).
      const reserved = state.recentCosts.length === 0 ? FIRST_COST_GUESS : Math.max(1, ...state.recentCosts)
      if (!mayGoOn(state) || !budget.tryReserve(reserved, now())) return false
      const calls = await recheck(state, round, picture, reserved)
      if (calls !== undefined) state.recentCosts = [...state.recentCosts, calls].slice(-COST_MEMORY)
      return true
    })
  }

  async function sweepNetwork(state: NetworkState, at: number): Promise<SweepTickReport['networks'][number]> {
    const { type } = state.plugin
    const round = emptyTally()
    try {
      // Paused by anyone: by this sweep, by a delivery, or by another instance.
      const pause = await pauses.get(type)
      state.pausedUntil = pause && inForce(pause, now()) ? pause.until : undefined
      if (!isPaused(state)) {
        const cutoff = now() - refreshTtlMs
        if (state.plugin.resolveMany) await sweepInBatches(state, round, cutoff)
        else await sweepOneByOne(state, round, cutoff)
      }
      if (state.dueCountedAt === undefined || now() - state.dueCountedAt >= DUE_RECOUNT_MS) {
        state.due = await repo.countDueForRefresh(type, now() - refreshTtlMs)
        state.dueCountedAt = now()
      } else {
        state.due = Math.max(0, state.due - round.checked)
      }
    } catch (error) {
      // A store failure: this network's round is over; the next round tries again.
      log(`sweep: ${type}: round failed: ${error instanceof Error ? error.message : String(error)}`)
    }
    state.lastTickAt = at
    metrics.set(...SERIES.due, { type }, state.due)
    metrics.set(...SERIES.pausedUntil, { type }, isPaused(state) ? state.pausedUntil! / 1000 : 0)
    return { type, ...round, due: state.due, ...(isPaused(state) ? { pausedUntil: state.pausedUntil } : {}) }
  }

  async function runRound(): Promise<SweepTickReport> {
    const at = now()
    // Off, or another instance leads: nothing to do, and nothing to report as swept.
    if (!enabled || !leading()) return { at, networks: [] }
    // Networks are independent: one waiting on a slow upstream does not hold the others up.
    const report = { at, networks: await Promise.all(networks.map((state) => sweepNetwork(state, at))) }
    metrics.set(...SERIES.lastTick, {}, at / 1000)
    return report
  }

  const sweeper: Sweeper = {
    start() {
      if (!enabled || timer !== undefined) return
      stopped = false
      const mine = ++generation
      const schedule = () => {
        timer = setTimeout(async () => {
          await sweeper.tick().catch((error) => log(`sweep: round failed: ${error}`))
          if (mine === generation) schedule()
        }, tickMs)
        // A background job must never be what keeps the process alive.
        timer.unref?.()
      }
      schedule()
    },
    async stop() {
      stopped = true
      generation++
      clearTimeout(timer)
      timer = undefined
      await running?.catch(() => {})
    },
    tick() {
      running ??= runRound().finally(() => {
        running = undefined
      })
      return running
    },
    status() {
      return {
        enabled,
        leader: enabled && leading(),
        callsPerMinute,
        networks: networks.map((state) => ({
          type: state.plugin.type,
          due: state.due,
          ...state.totals,
          ...(isPaused(state) ? { pausedUntil: state.pausedUntil } : {}),
          ...(state.lastTickAt === undefined ? {} : { lastTickAt: state.lastTickAt }),
        })),
      }
    },
  }
  return sweeper
}

/** Run `work` over `items` in order, CONCURRENCY at a time; once one answers false, no more start. */
async function eachConcurrently<T>(
  items: readonly T[],
  work: (item: T) => Promise<boolean | undefined>,
): Promise<void> {
  let next = 0
  let stop = false
  const worker = async () => {
    while (!stop && next < items.length) if ((await work(items[next++]!)) === false) stop = true
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker))
}

/** One line for people (the Media Library's status line): the budget, the backlog, what was found. */
export function describeSweeperStatus(status: SweeperStatus, now: number = Date.now()): string {
  if (!status.enabled) return 'off (HEADSHOT_SWEEP_RATE=0): pictures are re-checked only when requested'
  if (!status.leader) return 'standing by: another instance sweeps (one sweeper per database)'
  const sum = (pick: (n: SweepNetworkStatus) => number) => status.networks.reduce((total, n) => total + pick(n), 0)
  const parts = [
    `${status.callsPerMinute} upstream calls/min per network`,
    `${sum((n) => n.due)} due`,
    `${sum((n) => n.checked)} checked, ${sum((n) => n.changed)} changed, ${sum((n) => n.errors)} failed since start`,
  ]
  for (const network of status.networks) {
    if (network.pausedUntil !== undefined && network.pausedUntil > now) {
      parts.push(`${network.type} paused for ${Math.ceil((network.pausedUntil - now) / 1000)} s (rate limited)`)
    }
  }
  return parts.join(' · ')
}
