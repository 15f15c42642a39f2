/**
 * What the benches that run the compiled binary over HTTP share (bench/peers.ts, bench/scale.ts):
 * the command line, the build, a work folder whose child processes die with the bench, starting a
 * server and waiting for it to be ready, timed requests, HTTP load with wrk (or a fetch loop when
 * wrk is missing), statistics and units.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Subprocess } from 'bun'
import { signDeliveryPath } from '../src/url/signature.ts'
import { readUntil } from '../test/support/binary.ts'

export const ROOT = resolve(import.meta.dir, '..')

// --- command line and build -------------------------------------------------------------------

export const args = process.argv.slice(2)
export const flag = (name: string) => args.includes(`--${name}`)
/** `--name=N`, else `fallback`. */
export const option = (name: string, fallback: number) => {
  const found = args.find((a) => a.startsWith(`--${name}=`))
  return found ? Number(found.slice(name.length + 3)) : fallback
}
/** `--binary=path`: another build to measure (e.g. an earlier commit's, for a before/after); no rebuild then. */
export const BINARY = args.find((a) => a.startsWith('--binary='))?.slice(9) ?? join(ROOT, 'dist', 'headshot')

/** Rebuilds dist/headshot unless `--no-build` or `--binary=` says not to; throws when the binary is missing. */
export function buildBinary(): void {
  if (!flag('no-build') && !args.some((a) => a.startsWith('--binary='))) {
    const build = Bun.spawnSync([process.execPath, 'run', 'scripts/build.ts'], { cwd: ROOT, stdout: 'ignore' })
    if (build.exitCode !== 0) throw new Error('npm run build failed')
  }
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: npm run build`)
}

/** The binary's environment: loopback, any port, a data folder, the API key and secret, no sweep. */
export const binaryEnv = (
  home: string,
  dataDir: string,
  secret: string,
  extra: Record<string, string>,
): Record<string, string> => ({
  PATH: '/usr/bin:/bin',
  TMPDIR: tmpdir(),
  HOME: home,
  HEADSHOT_PORT: '0',
  HEADSHOT_HOST: '127.0.0.1',
  HEADSHOT_DATA_DIR: dataDir,
  HEADSHOT_API_KEY: '42',
  HEADSHOT_API_SECRET: secret,
  HEADSHOT_SWEEP_RATE: '0',
  ...extra,
})

/** `base` and `path` signed with `secret`. */
export const signedUrl = (base: string, path: string, secret: string) => {
  const signed = signDeliveryPath(path, secret)
  if (!signed.ok) throw new Error(signed.error.message)
  return base + signed.value
}

// --- small helpers ---------------------------------------------------------------------------

/** The value at fraction `p` of the sorted values (NaN when there are none). */
export const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] ?? NaN
export const median = (values: number[]) => percentile(values, 0.5)
export const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)} ms`
export const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`

/** VmRSS and VmHWM (peak) of a process, bytes. */
export function rssOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024
  return { rss: kb('VmRSS'), peak: kb('VmHWM') }
}

/** Reads `stream` until `pattern` matches, and gives the match; the rest of the stream is drained in the background. */
export async function readLine(stream: ReadableStream<Uint8Array>, pattern: RegExp, timeoutMs = 20_000) {
  const text = await readUntil(stream, pattern, timeoutMs)
  // Keep draining so the child never blocks on a full pipe.
  const reader = stream.getReader()
  void (async () => {
    while (!(await reader.read().catch(() => ({ done: true }))).done) {}
  })()
  return pattern.exec(text)![0]
}

/** A GET, its time and its bytes; throws unless it is answered 200. */
export async function timedGet(url: string): Promise<{ ms: number; bytes: Uint8Array }> {
  const start = performance.now()
  const response = await fetch(url)
  const bytes = new Uint8Array(await response.arrayBuffer())
  const elapsed = performance.now() - start
  if (response.status !== 200) throw new Error(`${response.status} for ${url}: ${new TextDecoder().decode(bytes)}`)
  return { ms: elapsed, bytes }
}

// --- load generation (wrk, or a fetch loop when wrk is missing) -----------------------------

export const WRK = Bun.which('wrk')
export const WRK_THREADS = 2
export const CONNECTIONS = 64

export interface LoadResult {
  rps: number
  p50: number
  p99: number
  errors: number
  requests: number
}

/** Each request's path is `prefix .. N .. suffix`, N counting up; with `every`, each n-th request is `every.path`. */
export interface Rotation {
  prefix: string
  suffix: string
  every?: { path: string; n: number }
}

const WRK_DONE = `
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('LOAD {"requests":%d,"us":%d,"errors":%d,"p50":%.1f,"p99":%.1f}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`

/**
 * A wrk script. Without a rotation, wrk repeats the URL's path. With one, N is distinct across
 * threads (wrk gives each thread its own Lua state, so its id is set in setup).
 */
function wrkScript(rotate?: Rotation): string {
  if (!rotate) return WRK_DONE
  const extra = rotate.every
    ? `if n % ${rotate.every.n} == 0 then return wrk.format("GET", ${JSON.stringify(rotate.every.path)}) end`
    : ''
  return `
local counter = 0
function setup(thread) thread:set("tid", counter); counter = counter + 1 end
n = 0
function request()
  n = n + 1
  ${extra}
  return wrk.format("GET", ${JSON.stringify(rotate.prefix)} .. (tid * 100000000 + n) .. ${JSON.stringify(rotate.suffix)})
end
${WRK_DONE}`
}

// --- the bench's work folder, children and servers ------------------------------------------

export type Child = Subprocess<'ignore', 'pipe', 'inherit'>

export interface Running {
  process: Child
  base: string
  /** From spawn to the first 200 of the readiness URL. */
  readyMs: number
}

/**
 * A temporary folder (removed at exit) and what runs children in it: every child is killed when
 * this process exits, whatever way it exits.
 */
export function benchWork(prefix: string) {
  const work = mkdtempSync(join(tmpdir(), prefix))
  const children = new Set<Subprocess>()
  process.on('exit', () => {
    for (const child of children) child.kill('SIGKILL')
    rmSync(work, { recursive: true, force: true })
  })
  let files = 0

  /** A child with its stdout piped to us and its stderr passed through. */
  function spawn(cmd: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}): Child {
    const child = Bun.spawn(cmd, { ...options, stdin: 'ignore', stdout: 'pipe', stderr: 'inherit' })
    children.add(child)
    void child.exited.then(() => children.delete(child))
    return child
  }

  /** A fresh file name in the work folder. */
  const file = (name: string, extension: string) => join(work, `${name}-${files++}.${extension}`)

  /**
   * Starts a server that prints `listening on http://127.0.0.1:PORT`, then polls `readyPath` every
   * `pollMs` until it answers 200.
   */
  async function startServer(
    cmd: string[],
    env: Record<string, string>,
    readyPath: string,
    { pollMs = 2, timeoutMs = 20_000 } = {},
  ): Promise<Running> {
    const start = performance.now()
    const child = spawn(cmd, { env })
    const line = await readLine(child.stdout, /listening on (http:\/\/127\.0\.0\.1:\d+)/, timeoutMs)
    const base = /http:\/\/127\.0\.0\.1:\d+/.exec(line)![0]
    for (;;) {
      const response = await fetch(base + readyPath).catch(() => undefined)
      if (response?.status === 200) break
      await Bun.sleep(pollMs)
    }
    return { process: child, base, readyMs: performance.now() - start }
  }

  /** HTTP load on `url` for `seconds`: with wrk, `WRK_THREADS` threads and `CONNECTIONS` connections. */
  async function load(url: string, seconds: number, rotate?: Rotation): Promise<LoadResult> {
    if (WRK) {
      const script = file('wrk', 'lua')
      writeFileSync(script, wrkScript(rotate))
      const child = spawn([
        WRK,
        `-t${WRK_THREADS}`,
        `-c${CONNECTIONS}`,
        `-d${seconds}s`,
        '--latency',
        '-s',
        script,
        url,
      ])
      const out = await new Response(child.stdout).text()
      await child.exited
      const line = /LOAD (\{.*\})/.exec(out)
      if (!line) throw new Error(`wrk said: ${out}`)
      const r = JSON.parse(line[1]!) as { requests: number; us: number; errors: number; p50: number; p99: number }
      return {
        rps: r.requests / (r.us / 1e6),
        p50: r.p50 / 1000,
        p99: r.p99 / 1000,
        errors: r.errors,
        requests: r.requests,
      }
    }
    // Fallback: fetch from this process (load generator sharing the cores like wrk would).
    const origin = new URL(url).origin
    let n = 0
    const next = () => (rotate ? origin + rotate.prefix + ++n + rotate.suffix : url)
    const latencies: number[] = []
    let errors = 0
    const deadline = performance.now() + seconds * 1000
    const start = performance.now()
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (performance.now() < deadline) {
          const t = performance.now()
          const response = await fetch(next())
          await response.arrayBuffer()
          if (response.status !== 200) errors++
          latencies.push(performance.now() - t)
        }
      }),
    )
    return {
      rps: latencies.length / ((performance.now() - start) / 1000),
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      errors,
      requests: latencies.length,
    }
  }

  return { work, spawn, file, startServer, load }
}

/** Stops a server (SIGTERM) and waits for it to exit. */
export async function stop(server: { process: Child }): Promise<void> {
  server.process.kill('SIGTERM')
  await server.process.exited
}
