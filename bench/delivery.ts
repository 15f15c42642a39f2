/**
 * Delivery throughput and latency on loopback, with a same-run baseline so the numbers read as
 * ratios on any machine:
 *   baseline   – a bare Bun.serve answering the same bytes from memory (the ceiling of this box)
 *   warm hit   – headshot serving a stored derivative (parse, signature, two lookups, blob read)
 *   cold       – first request for a new picture: upstream API call + download + store + derive
 *   new derive – a new transformation of a stored picture (derive in the worker pool + store)
 * The load generator runs in this process (fetch with N in flight), sharing the machine's cores
 * with the server, exactly like the baseline does. The servers listen as `headshot serve` does
 * (src/ops/serve.ts: request ids, one JSON access line per request, written to a file here).
 * Run: bun run bench/delivery.ts [seconds] [concurrency]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { createLogger, type LogLevel } from '../src/ops/log.ts'
import { listen } from '../src/ops/serve.ts'
import { signDeliveryPath } from '../src/url/signature.ts'
import { startFakeFacebook } from '../plugins/facebook/fake.ts'

const SECONDS = Number(process.argv[2] ?? 4)
const CONCURRENCY = Number(process.argv[3] ?? 32)
const SECRET = 'bench-secret-0123456789abcdef'

async function load(
  url: string,
  seconds: number,
  concurrency: number,
): Promise<{ rps: number; p50: number; p99: number }> {
  const deadline = performance.now() + seconds * 1000
  const latencies: number[] = []
  let done = 0
  async function worker() {
    while (performance.now() < deadline) {
      const start = performance.now()
      const response = await fetch(url)
      await response.arrayBuffer()
      if (response.status !== 200) throw new Error(`status ${response.status} for ${url}`)
      latencies.push(performance.now() - start)
      done++
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  const elapsed = (performance.now() - start) / 1000
  latencies.sort((a, b) => a - b)
  return {
    rps: done / elapsed,
    p50: latencies[Math.floor(latencies.length * 0.5)] ?? NaN,
    p99: latencies[Math.floor(latencies.length * 0.99)] ?? NaN,
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

const facebook = startFakeFacebook()
for (let i = 0; i < 40; i++) facebook.addUser(String(1000 + i), { seed: `bench${i}`, side: 720 })
for (let i = 0; i < 200; i++) facebook.addUser(String(5000 + i), { seed: `big${i}`, side: 2048 })
const dataDir = mkdtempSync(join(tmpdir(), 'headshot-bench-'))
const env = { HEADSHOT_DATA_DIR: dataDir, HEADSHOT_API_KEY: '1', HEADSHOT_API_SECRET: SECRET, ...facebook.env }
// Access lines go to a file, as they would to a collector's pipe; stdout stays the bench's table.
const logFile = Bun.file(join(dataDir, 'access.log')).writer()
let logLines = 0
const logAt = (level: LogLevel) =>
  createLogger({
    level,
    write: (line) => {
      logLines++
      logFile.write(line)
    },
  })
const headshot = createApp(await loadConfig(env), { env, log: logAt('info') })
// The same server without the hot-response cache: every request parses, verifies the signature and
// reads the store (what a CDN-fronted origin mostly sees: many URLs, each rarely repeated).
const uncachedApp = createApp(await loadConfig(env), { env, hotCacheTtlMs: 0, log: logAt('info') })
// And with the hot cache but no access lines (HEADSHOT_LOG_LEVEL=warn): what the log costs.
const unloggedApp = createApp(await loadConfig(env), { env, log: logAt('warn') })
const server = listen(headshot, { port: 0, hostname: '127.0.0.1' })
const uncachedServer = listen(uncachedApp, { port: 0, hostname: '127.0.0.1' })
const unloggedServer = listen(unloggedApp, { port: 0, hostname: '127.0.0.1' })
const base = `http://127.0.0.1:${server.port}`
const sign = (path: string) => {
  const signed = signDeliveryPath(path, SECRET)
  if (!signed.ok) throw new Error(signed.error.message)
  return base + signed.value
}

// Cold: a new picture each time (720×720 JPEG upstream → 80×120 face-less fill).
const cold: number[] = []
for (let i = 0; i < 12; i++) {
  const start = performance.now()
  const response = await fetch(sign(`/image/facebook/c_fill,h_120,w_80/${1000 + i}.jpg`))
  await response.arrayBuffer()
  cold.push(performance.now() - start)
}
// New derive of a stored picture.
const derive: number[] = []
for (let i = 0; i < 12; i++) {
  const start = performance.now()
  const response = await fetch(sign(`/image/facebook/c_fill,h_${100 + i},w_100/${1000 + i}.webp`))
  await response.arrayBuffer()
  derive.push(performance.now() - start)
}

const warmUrl = sign('/image/facebook/c_fill,h_120,w_80/1000.jpg')
const body = new Uint8Array(await (await fetch(warmUrl)).arrayBuffer())
const baseline = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  fetch: () => new Response(body, { headers: { 'Content-Type': 'image/jpeg' } }),
})
const baselineUrl = `http://127.0.0.1:${baseline.port}/x.jpg`

await load(warmUrl, 1, CONCURRENCY) // warm-up
const bare = await load(baselineUrl, SECONDS, CONCURRENCY)
const warm = await load(warmUrl, SECONDS, CONCURRENCY)
const uncachedUrl = warmUrl.replace(base, `http://127.0.0.1:${uncachedServer.port}`)
const uncached = await load(uncachedUrl, SECONDS, CONCURRENCY)
const unlogged = await load(warmUrl.replace(base, `http://127.0.0.1:${unloggedServer.port}`), SECONDS, CONCURRENCY)

// Warm hits while 2048² originals are being fetched and transformed (cold requests in a loop):
// the transformations run in the worker pool, so the server thread keeps answering.
let coldDone = 0
let stopCold = false
const coldLoop = async (offset: number) => {
  for (let i = offset; !stopCold && i < 200; i += 2) {
    const response = await fetch(sign(`/image/facebook/c_fill,g_north,h_200,w_200/${5000 + i}.jpg`))
    await response.arrayBuffer()
    coldDone++
  }
}
const background = [coldLoop(0), coldLoop(1)]
const busy = await load(warmUrl, SECONDS, CONCURRENCY)
stopCold = true
await Promise.all(background)
const rss = process.memoryUsage().rss / 1e6

console.log(
  `delivery on loopback, ${SECONDS}s per run, ${CONCURRENCY} requests in flight, ${body.byteLength}-byte JPEG`,
)
console.log('| measurement | result |')
console.log('|---|---|')
console.log(
  `| baseline: bare Bun.serve, same bytes | ${bare.rps.toFixed(0)} req/s (p50 ${bare.p50.toFixed(2)} ms, p99 ${bare.p99.toFixed(2)} ms) |`,
)
console.log(
  `| warm hit, store path (hot cache off: parse, signature, 2 SQLite lookups, blob LRU) | ${uncached.rps.toFixed(0)} req/s (p50 ${uncached.p50.toFixed(2)} ms, p99 ${uncached.p99.toFixed(2)} ms) = ${((uncached.rps / bare.rps) * 100).toFixed(0)} % of baseline |`,
)
console.log(
  `| warm hit, same URL again within 1 s (hot cache) | ${warm.rps.toFixed(0)} req/s (p50 ${warm.p50.toFixed(2)} ms, p99 ${warm.p99.toFixed(2)} ms) = ${((warm.rps / bare.rps) * 100).toFixed(0)} % of baseline |`,
)
console.log(
  `| warm hit within 1 s, without access lines (HEADSHOT_LOG_LEVEL=warn) | ${unlogged.rps.toFixed(0)} req/s (p50 ${unlogged.p50.toFixed(2)} ms, p99 ${unlogged.p99.toFixed(2)} ms) = ${((unlogged.rps / bare.rps) * 100).toFixed(0)} % of baseline |`,
)
console.log(
  `| warm hit while 2048² pictures are fetched and transformed (${coldDone} done meanwhile) | ${busy.rps.toFixed(0)} req/s (p50 ${busy.p50.toFixed(2)} ms, p99 ${busy.p99.toFixed(2)} ms) |`,
)
console.log(
  `| cold request: API call + download 720² + store + derive | median ${median(cold).toFixed(1)} ms (min ${Math.min(...cold).toFixed(1)}) |`,
)
console.log(
  `| new transformation of a stored picture | median ${median(derive).toFixed(1)} ms (min ${Math.min(...derive).toFixed(1)}) |`,
)
console.log(`| process RSS after the run (server + load generator) | ${rss.toFixed(0)} MB |`)
console.log(`(${logLines} access lines written)`)

baseline.stop(true)
for (const running of [server, uncachedServer, unloggedServer]) running.stop(true)
await logFile.end()
await headshot.close()
await uncachedApp.close()
await unloggedApp.close()
facebook.stop()
rmSync(dataDir, { recursive: true, force: true })
process.exit(0)
