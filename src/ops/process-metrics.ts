/**
 * The process itself in /metrics: the standard `process_*` series (the names Prometheus' own
 * clients use, so stock dashboards and alerts work), read at each scrape, and the event loop's lag,
 * sampled all along. Reading them costs a few microseconds per scrape; the lag sampler is one
 * timer every 100 ms that never keeps the process alive.
 */
import { readdirSync, readFileSync } from 'node:fs'
import type { Metrics } from '../metrics.ts'

/** Register the `process_*` series on a registry without prefix. Open file descriptors only where /proc exists. */
export function registerProcessMetrics(metrics: Metrics): void {
  const startedAt = Date.now() / 1000 - process.uptime()
  const cpu = cpuOncePerScrape()
  metrics.cumulative('process_cpu_user_seconds_total', 'User CPU time spent, seconds', () => cpu().user)
  metrics.cumulative('process_cpu_system_seconds_total', 'System CPU time spent, seconds', () => cpu().system)
  metrics.cumulative('process_cpu_seconds_total', 'User and system CPU time spent, seconds', () => {
    const { user, system } = cpu()
    return user + system
  })
  metrics.gauge(
    'process_start_time_seconds',
    'Start time of the process since the unix epoch, seconds',
    () => startedAt,
  )
  metrics.gauge('process_resident_memory_bytes', 'Resident memory size, bytes', () => process.memoryUsage.rss())
  metrics.gauge(
    'process_heap_bytes',
    'JavaScript heap in use (the server thread; workers have their own), bytes',
    () => process.memoryUsage().heapUsed,
  )
  if (openFds() !== undefined) {
    metrics.gauge('process_open_fds', 'Open file descriptors', () => openFds() ?? Number.NaN)
    const max = maxFds()
    if (max !== undefined) metrics.gauge('process_max_fds', 'Limit of open file descriptors', () => max)
  }
}

/**
 * The three CPU series are read one after the other in a scrape: one reading serves them all, so the
 * total is the sum of its parts even while the workers keep the CPU busy between the reads.
 */
function cpuOncePerScrape(): () => { user: number; system: number } {
  let last: { at: number; user: number; system: number } | undefined
  return () => {
    const at = performance.now()
    if (!last || at - last.at > 100) {
      const { user, system } = process.cpuUsage()
      last = { at, user: user / 1e6, system: system / 1e6 }
    }
    return last
  }
}

/** Linux: the entries of /proc/self/fd, less the one readdir itself opened. */
function openFds(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length - 1
  } catch {
    return undefined
  }
}

function maxFds(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'))
    const soft = line?.split(/\s{2,}/)[1]
    return soft && /^[0-9]+$/.test(soft) ? Number(soft) : undefined
  } catch {
    return undefined
  }
}

export const EVENT_LOOP_LAG: readonly [string, string] = [
  'event_loop_lag_seconds',
  'How late a 100 ms timer on the server thread fired (synchronous work holding requests up), seconds',
]
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
const LAG_INTERVAL_MS = 100

/** Sample the event loop's lag into a histogram until the returned function is called. */
export function monitorEventLoop(metrics: Metrics): () => void {
  const [name, help] = EVENT_LOOP_LAG
  metrics.histogram(name, help, { buckets: LAG_BUCKETS })
  let expected = performance.now() + LAG_INTERVAL_MS
  const timer = setInterval(() => {
    const now = performance.now()
    metrics.observe(name, help, {}, Math.max(0, now - expected) / 1000)
    expected = now + LAG_INTERVAL_MS
  }, LAG_INTERVAL_MS)
  timer.unref?.()
  return () => clearInterval(timer)
}
