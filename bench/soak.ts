/**
 * Soak: the compiled server (dist/headshot, as users run it) under a mixed load for a minute, then
 * the same load with hostile traffic mixed in, watching for crashes, 5xx and memory growth.
 *
 * The server runs in its own process with a drop-in plugin `soak` (written to a temp plugins folder)
 * whose pictures come from a loopback image server in this process: 12 distinct 512² JPEGs under
 * any id `p<N>`/`n<N>`, hostile files under `gifbomb<N>` (a 1×1 GIF screen over a real 4000² frame:
 * a 1×1 picture whose decode costs 16 MP), `hugebomb<N>` (a 65535² frame: refused from its header), `scans<N>` (a
 * progressive JPEG of 4,000 scans: refused before decoding), 404 for anything else. Every built-in
 * network points at a loopback black hole. `HEADSHOT_CLIENT_RATE=0` turns the per-client allowance
 * off, so the load generator (one loopback client) measures the server, not its own throttling.
 *
 *   warm-up   every warm URL once (40 pictures × 3 transformations × 2 formats), not measured
 *   phase A   16 clients back to back: warm hits (unversioned URLs of the stored derived images) 80 %,
 *             new sizes of stored pictures 10 %, new pictures 10 %
 *   phase B   the same, plus 4 hostile clients (each pausing 100 ms between requests): huge sizes and
 *             blurs, frame bomb pictures, random ids of missing pictures, malformed paths
 *             (test/support/fuzz-paths.ts)
 *
 * Prints a Markdown table: requests and statuses per phase, RSS of the server (VmRSS every second)
 * at start, after warm-up, at the end and after 5 s at rest, warm-hit p50/p99 in each phase and their
 * ratio, and the worker pool's recycles and WebAssembly memory (from /metrics) at rest.
 * Exits 1 on any 500, any other 5xx outside the hostile requests (429/503 load shedding excepted,
 * reported separately), any failed connection, or a server that died.
 *
 * Run: bun run bench/soak.ts [--seconds 60] [--concurrency 16] [--source | --binary <path>]
 * (`--source` runs `bun src/main.ts` instead of dist/headshot, which is built when missing;
 * `--binary` another build, e.g. main's, for a same-session baseline.) The pool's settings
 * HEADSHOT_WORKERS, HEADSHOT_WORKER_MEMORY_MB and HEADSHOT_WORKER_RECYCLE_MB pass through from the
 * environment (`HEADSHOT_WORKER_RECYCLE_MB=off` measures without recycling).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { encode } from '../src/image/codecs.ts'
import { signDeliveryPath } from '../src/url/signature.ts'
import { BINARY, ensureBinary, readUntil } from '../test/support/binary.ts'
import { makePicture } from '../test/support/fakes/images.ts'
import { createPathFuzzer } from '../test/support/fuzz-paths.ts'
import { gif, jpegManyScans, solidFrame } from '../test/support/hostile-images.ts'
import { sealUpstreams } from '../test/support/sealed-upstreams.ts'

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`)
  return at >= 0 ? Number(process.argv[at + 1]) : fallback
}
const SECONDS = option('seconds', 60)
const CONCURRENCY = option('concurrency', 16)
const HOSTILE_CLIENTS = 4
const FROM_SOURCE = process.argv.includes('--source')
const binaryAt = process.argv.indexOf('--binary')
const SERVER_BINARY = binaryAt >= 0 ? resolve(process.argv[binaryAt + 1] ?? '') : BINARY
const POOL_SETTINGS = ['HEADSHOT_WORKERS', 'HEADSHOT_WORKER_MEMORY_MB', 'HEADSHOT_WORKER_RECYCLE_MB']
const SECRET = 'soak-secret-0123456789abcdef'
const ROOT = resolve(import.meta.dir, '..')

// --- the upstream --------------------------------------------------------------------------------

const PICTURES = await Promise.all(Array.from({ length: 12 }, (_, i) => makePicture(`soak${i}`, 512, 512, 'jpg')))
const flat = (side: number) => ({ width: side, height: side, data: new Uint8Array(side * side * 4).fill(180) })
const HOSTILE_FILES: Record<string, Uint8Array> = {
  gifbomb: gif({ width: 1, height: 1 }, [solidFrame(4000, 4000)]),
  hugebomb: gif({ width: 1, height: 1 }, [{ width: 65535, height: 65535 }]),
  scans: jpegManyScans(await encode(flat(1000), 'jpg', { quality: 80, progressive: true }), 4000),
}
const upstreamCalls = { pictures: 0, hostile: 0, missing: 0 }
const upstream = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch(request) {
    const id = new URL(request.url).pathname.replace(/^\/files\//, '')
    const picture = /^[pn](\d+)$/.exec(id)
    if (picture) {
      upstreamCalls.pictures++
      return new Response(PICTURES[Number(picture[1]) % PICTURES.length], { headers: { 'content-type': 'image/jpeg' } })
    }
    const hostile = /^([a-z]+)\d+$/.exec(id)?.[1]
    if (hostile && HOSTILE_FILES[hostile]) {
      upstreamCalls.hostile++
      return new Response(HOSTILE_FILES[hostile], { headers: { 'content-type': 'image/jpeg' } })
    }
    upstreamCalls.missing++
    return new Response('Not Found', { status: 404 })
  },
})

const PLUGIN = `// The soak benchmark's network: /image/soak/<id> is <HEADSHOT_SOAK_URL>/files/<id>.
export default ({ definePlugin, ok, err, Type }) =>
  definePlugin({
    type: 'soak',
    settings: Type.Object({ url: Type.String({ env: 'HEADSHOT_SOAK_URL', default: 'http://127.0.0.1:9', baseUrl: true }) }),
    hosts: [],
    restrictedByDefault: false,
    id: { syntax: 'lower-case letters and digits', example: 'p1' },
    parseId: (raw) => (/^[a-z0-9]{1,40}$/.test(raw) ? ok(raw) : err('expected lower-case letters and digits')),
    resolve: async (id, { settings }) => ({ kind: 'image', url: settings.url + '/files/' + id }),
  })
`

// --- the server ----------------------------------------------------------------------------------

const workDir = mkdtempSync(join(tmpdir(), 'headshot-soak-'))
mkdirSync(join(workDir, 'plugins'))
writeFileSync(join(workDir, 'plugins', 'soak.js'), PLUGIN)
const sealed = sealUpstreams()
if (!FROM_SOURCE && binaryAt < 0) ensureBinary()
const command = FROM_SOURCE ? [process.execPath, join(ROOT, 'src/main.ts'), 'serve'] : [SERVER_BINARY, 'serve']
const server = Bun.spawn(command, {
  cwd: workDir,
  env: {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: workDir,
    TMPDIR: process.env.TMPDIR ?? '/tmp',
    ...sealed.env,
    HEADSHOT_HOST: '127.0.0.1',
    HEADSHOT_PORT: '0',
    HEADSHOT_DATA_DIR: join(workDir, 'data'),
    HEADSHOT_PLUGINS_DIR: join(workDir, 'plugins'),
    HEADSHOT_SOAK_URL: `http://127.0.0.1:${upstream.port}`,
    HEADSHOT_API_KEY: '1',
    HEADSHOT_API_SECRET: SECRET,
    // The load generator is one loopback client: the per-client allowance must not throttle it.
    HEADSHOT_CLIENT_RATE: '0',
    ...Object.fromEntries(POOL_SETTINGS.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : []))),
  },
  stdout: 'pipe',
  stderr: 'pipe',
})
const serverLog: string[] = []
void (async () => {
  for await (const chunk of server.stderr as ReadableStream<Uint8Array>) serverLog.push(new TextDecoder().decode(chunk))
})()
const listening = /listening on http:\/\/127\.0\.0\.1:(\d+)/
const base = `http://127.0.0.1:${listening.exec(await readUntil(server.stdout as ReadableStream<Uint8Array>, listening, 30_000))![1]}`

/** The server's resident memory (VmRSS), in MB. */
function serverRss(): number {
  const status = readFileSync(`/proc/${server.pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024
}
const rssSamples: Array<{ at: number; mb: number }> = []
const benchStart = performance.now()
const sampler = setInterval(() => {
  if (server.exitCode === null) rssSamples.push({ at: (performance.now() - benchStart) / 1000, mb: serverRss() })
}, 1000)

// --- the load ------------------------------------------------------------------------------------

type Kind = 'warm' | 'new size' | 'new picture' | 'huge' | 'bomb' | 'missing' | 'malformed'
const HOSTILE_KINDS: ReadonlySet<Kind> = new Set(['huge', 'bomb', 'missing', 'malformed'])
interface Outcome {
  kind: Kind
  status: number // 0: the request failed (connection refused or reset, timeout)
  ms: number
}

const WARM_CHAINS = ['c_fill,h_80,w_80', 'c_thumb,g_face,h_48,w_48', 'c_scale,w_200']
const WARM = Array.from({ length: 40 }, (_, n) =>
  WARM_CHAINS.flatMap((chain) => [`/image/soak/${chain}/p${n}.jpg`, `/image/soak/${chain}/p${n}.webp`]),
).flat()
const HUGE = [
  () => `c_scale,w_${5000 + random(5000)}`, // over the output side: refused from the plan
  () => `c_pad,h_${3000 + random(1000)},w_${3000 + random(1000)}`, // up to 16 MP: allowed today
  () => `c_scale,w_${1500 + random(1000)}/e_blur:2000`,
  () => `dpr_4,w_${800 + random(200)}`,
  () => `a_45,c_scale,w_${2000 + random(1000)}`,
]
const malformed = createPathFuzzer(
  {
    cloudName: 'local',
    secret: SECRET,
    types: [{ type: 'soak', ids: ['p1', 'p2'], restricted: false, weight: 1 }],
    named: [],
    placeholders: [],
  },
  0x50a4,
  { mutateShare: 0.8 },
)
let seed = 0x9e3779b9
function random(n: number): number {
  seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
  return seed % n
}
let counter = 0
const pick = <T>(list: readonly T[]) => list[random(list.length)]!

function nextRequest(): { kind: Kind; path: string } {
  const roll = random(1000) / 1000
  if (roll < 0.8) return { kind: 'warm', path: pick(WARM) }
  if (roll < 0.9) {
    const size = `c_fill,h_${20 + random(380)},w_${20 + random(380)}`
    return { kind: 'new size', path: `/image/soak/${size}/p${random(40)}.${pick(['jpg', 'webp', 'png'])}` }
  }
  return { kind: 'new picture', path: `/image/soak/c_fill,h_80,w_80/n${1000 + counter++}.jpg` }
}

function nextHostile(): { kind: Kind; path: string } {
  const which = random(4)
  if (which === 0) return { kind: 'huge', path: `/image/soak/${pick(HUGE)()}/p${random(40)}.jpg` }
  if (which === 1) {
    const file = pick(['gifbomb', 'gifbomb', 'hugebomb', 'scans'])
    return { kind: 'bomb', path: `/image/soak/c_fill,h_80,w_80/${file}${counter++}.jpg` }
  }
  if (which === 2) return { kind: 'missing', path: `/image/soak/c_fill,h_80,w_80/missing${random(1e9)}.jpg` }
  return { kind: 'malformed', path: malformed.next().path }
}

async function send(kind: Kind, path: string): Promise<Outcome> {
  const started = performance.now()
  try {
    const response = await fetch(base + path, { signal: AbortSignal.timeout(60_000) })
    await response.arrayBuffer()
    return { kind, status: response.status, ms: performance.now() - started }
  } catch {
    return { kind, status: 0, ms: performance.now() - started }
  }
}

/**
 * CONCURRENCY clients sending the ordinary mix back to back; with `hostile`, HOSTILE_CLIENTS more
 * sending hostile requests, each pausing 100 ms between them (at most 40/s in all, ~10 % of the
 * ordinary traffic), so the ordinary load is the same in both phases.
 */
async function phase(seconds: number, hostile: boolean): Promise<Outcome[]> {
  const outcomes: Outcome[] = []
  const deadline = performance.now() + seconds * 1000
  const running = () => performance.now() < deadline && server.exitCode === null
  const ordinary = async () => {
    while (running()) {
      const { kind, path } = nextRequest()
      outcomes.push(await send(kind, path))
    }
  }
  const attacker = async () => {
    while (running()) {
      const { kind, path } = nextHostile()
      outcomes.push(await send(kind, path))
      await Bun.sleep(100)
    }
  }
  await Promise.all([
    ...Array.from({ length: CONCURRENCY }, ordinary),
    ...Array.from({ length: hostile ? HOSTILE_CLIENTS : 0 }, attacker),
  ])
  return outcomes
}

const rssStart = serverRss()
// Warm-up: every warm URL derived and stored once (8 at a time), the codecs and workers initialised.
for (let i = 0; i < WARM.length; i += 8) await Promise.all(WARM.slice(i, i + 8).map((path) => send('warm', path)))
// A signed request too, so the bench fails loudly if the secret or signing ever drifts.
const signed = signDeliveryPath('/image/soak/c_fill,h_80,w_80/p0.jpg', SECRET)
const signedStatus = signed.ok ? (await send('warm', signed.value)).status : 0
const rssWarm = serverRss()
const phaseSeconds = SECONDS / 2
const outcomesA = await phase(phaseSeconds, false)
const rssA = serverRss()
const outcomesB = await phase(phaseSeconds, true)
const rssEnd = server.exitCode === null ? serverRss() : NaN
// At rest: the last jobs finished, their workers recycled (or not) and the collector run.
await Bun.sleep(5000)
const alive = server.exitCode === null
const rssRest = alive ? serverRss() : NaN
clearInterval(sampler)

/** A headshot_ series of /metrics (its samples summed), or NaN when absent (an older build). */
async function scrape(): Promise<(name: string) => number> {
  const text = alive ? await (await fetch(`${base}/metrics`)).text() : ''
  return (name) => {
    const samples = text.split('\n').filter((line) => line.startsWith(`headshot_${name} `))
    return samples.length === 0 ? NaN : samples.reduce((sum, line) => sum + Number(line.split(' ').pop()), 0)
  }
}
const metric = await scrape()

// --- the report ----------------------------------------------------------------------------------

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN
}
const statusesOf = (outcomes: Outcome[]) => {
  const counts = new Map<number, number>()
  for (const o of outcomes) counts.set(o.status, (counts.get(o.status) ?? 0) + 1)
  return [...counts]
    .sort((a, b) => a[0] - b[0])
    .map(([status, n]) => `${status === 0 ? 'failed' : status}: ${n}`)
    .join(', ')
}
const latency = (outcomes: Outcome[], kind: Kind) => {
  const ms = outcomes.filter((o) => o.kind === kind && o.status === 200).map((o) => o.ms)
  return { p50: percentile(ms, 0.5), p99: percentile(ms, 0.99) }
}
const isShedding = (o: Outcome) => o.status === 429 || o.status === 503
const all = [...outcomesA, ...outcomesB]
const crashes = all.filter((o) => o.status === 500 || o.status === 0)
const unexpected5xx = all.filter((o) => o.status >= 500 && !isShedding(o) && !HOSTILE_KINDS.has(o.kind))
const hostile5xx = all.filter((o) => o.status >= 500 && !isShedding(o) && HOSTILE_KINDS.has(o.kind))
const shed = all.filter(isShedding)
const warmA = latency(outcomesA, 'warm')
const warmB = latency(outcomesB, 'warm')
const sizeA = latency(outcomesA, 'new size')
const sizeB = latency(outcomesB, 'new size')
const ordinaryB = outcomesB.filter((o) => !HOSTILE_KINDS.has(o.kind))
const byKind = (outcomes: Outcome[]) =>
  [...new Set(outcomes.map((o) => o.kind))]
    .map((kind) => `${kind} ${outcomes.filter((o) => o.kind === kind).length}`)
    .join(', ')
const series = rssSamples
  .filter((_, i) => i % 5 === 0)
  .map((s) => s.mb.toFixed(0))
  .join(' ')

const serverName = FROM_SOURCE ? 'bun src/main.ts' : binaryAt >= 0 ? SERVER_BINARY : 'dist/headshot'
const poolSettings = POOL_SETTINGS.filter((name) => process.env[name]).map((name) => `${name}=${process.env[name]}`)
console.log(
  `soak: ${[serverName, ...poolSettings].join(' ')}, loopback, ${CONCURRENCY} requests in flight, ` +
    `phase A ${phaseSeconds} s then phase B ${phaseSeconds} s`,
)
console.log(`| measurement | phase A (ordinary load) | phase B (the same + ${HOSTILE_CLIENTS} hostile clients) |`)
console.log('|---|---|---|')
console.log(
  `| requests | ${outcomesA.length} (${(outcomesA.length / phaseSeconds).toFixed(0)}/s) | ${outcomesB.length}, ordinary ${ordinaryB.length} (${(ordinaryB.length / phaseSeconds).toFixed(0)}/s) |`,
)
console.log(`| by kind | ${byKind(outcomesA)} | ${byKind(outcomesB)} |`)
console.log(`| by status | ${statusesOf(outcomesA)} | ${statusesOf(outcomesB)} |`)
console.log(
  `| warm hit p50 / p99 | ${warmA.p50.toFixed(2)} / ${warmA.p99.toFixed(2)} ms | ${warmB.p50.toFixed(2)} / ${warmB.p99.toFixed(2)} ms (× ${(warmB.p50 / warmA.p50).toFixed(2)} / × ${(warmB.p99 / warmA.p99).toFixed(2)}) |`,
)
console.log(
  `| new size p50 / p99 (a derivation in the pool) | ${sizeA.p50.toFixed(1)} / ${sizeA.p99.toFixed(1)} ms | ${sizeB.p50.toFixed(1)} / ${sizeB.p99.toFixed(1)} ms |`,
)
const hostileLatency = (['huge', 'bomb', 'missing', 'malformed'] as const)
  .map((kind) => {
    const ms = outcomesB.filter((o) => o.kind === kind).map((o) => o.ms)
    return `${kind} ${percentile(ms, 0.5).toFixed(0)} / ${Math.max(...ms).toFixed(0)} ms`
  })
  .join(', ')
console.log(`| hostile requests p50 / max | | ${hostileLatency} |`)
console.log(
  `| server RSS | start ${rssStart.toFixed(0)} MB, after warm-up ${rssWarm.toFixed(0)} MB, end of A ${rssA.toFixed(0)} MB | end ${rssEnd.toFixed(0)} MB, peak ${Math.max(...rssSamples.map((s) => s.mb)).toFixed(0)} MB, 5 s later at rest ${rssRest.toFixed(0)} MB |`,
)
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0)
console.log(
  `| workers at rest (/metrics) | | recycled ${metric('worker_recycles_total')}, WebAssembly memory ${mb(metric('workers_wasm_bytes'))} MB |`,
)
console.log(`| RSS every 5 s (MB) | ${series} | |`)
console.log(
  `| 5xx | crashes (500 or failed connection) ${crashes.length}, unexpected 5xx ${unexpected5xx.length} | hostile requests answered 502/504 ${hostile5xx.length} (refused upstream files) |`,
)
console.log(`| load shedding (429/503) | ${shed.length} | |`)
console.log(
  `| upstream calls | pictures ${upstreamCalls.pictures}, hostile files ${upstreamCalls.hostile}, missing ${upstreamCalls.missing} | |`,
)

const failures: string[] = []
if (!alive) failures.push(`the server exited (${server.exitCode})`)
if (signedStatus !== 200) failures.push(`a signed warm URL answered ${signedStatus}`)
if (crashes.length > 0) failures.push(`${crashes.length} crashes (500 or failed connections)`)
if (unexpected5xx.length > 0) failures.push(`${unexpected5xx.length} 5xx outside the hostile requests`)
if (failures.length > 0) {
  console.error(`soak FAILED: ${failures.join('; ')}`)
  const lines = serverLog.join('').split('\n')
  console.error(
    lines
      .filter((line) => /Internal error|Error:|panic|Segmentation/i.test(line))
      .slice(0, 20)
      .join('\n'),
  )
}

server.kill('SIGTERM')
await server.exited
upstream.stop(true)
sealed.stop()
if (existsSync(workDir)) rmSync(workDir, { recursive: true, force: true })
process.exit(failures.length > 0 ? 1 : 0)
