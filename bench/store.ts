/**
 * The store's upkeep, with same-run baselines:
 *   warm hit    – a stored derived image looked up and read (SQLite file in WAL mode, blob from the
 *                 in-memory LRU), without and with the served log and pins, in alternating rounds
 *   delivery    – the whole store path in process (app.handle, hot cache off), for scale
 *   flush       – writing the served log's batch
 *   eviction    – the bound deleting derived images, and the longest the event loop waited meanwhile
 *   gc          – a garbage collection walk over every blob and row
 * Run: bun run bench/store.ts [blobs]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { createDerivativeSource } from '../src/ingest/derivatives.ts'
import { withBlobCache } from '../src/store/blob-cache.ts'
import { createDiskBlobStore } from '../src/store/blobs.ts'
import { collectGarbage } from '../src/store/gc.ts'
import { createBlobPins } from '../src/store/pins.ts'
import { createStoreQuota } from '../src/store/quota.ts'
import { createServedLog } from '../src/store/served.ts'
import { openSqliteRepository } from '../src/store/sqlite.ts'
import type { Derivative, HeldPicture } from '../src/store/types.ts'
import { startFakeGravatar } from '../plugins/gravatar/fake.ts'

const BLOBS = Number(process.argv[2] ?? 20_000)
const dir = mkdtempSync(join(tmpdir(), 'headshot-bench-store-'))
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const repo = openSqliteRepository(join(dir, 'headshot.db'))
const blobs = withBlobCache(createDiskBlobStore(join(dir, 'blobs')))
const NOW = Date.now()
const picture = (publicId: string, contentHash: string, bytes: number): HeldPicture => ({
  type: 'gravatar',
  publicId,
  version: 1,
  status: 'ok',
  upstreamUrl: null,
  changeKey: null,
  etag: null,
  lastModified: null,
  contentHash,
  format: 'jpg',
  width: 80,
  height: 80,
  bytes,
  faces: [],
  createdAt: NOW,
  fetchedAt: NOW - 86_400_000,
  checkedAt: NOW,
})
const derivative = (publicId: string, key: string, contentHash: string, bytes: number, at: number): Derivative => ({
  type: 'gravatar',
  publicId,
  version: 1,
  key,
  format: 'jpg',
  contentHash,
  bytes,
  width: 40,
  height: 40,
  createdAt: at,
  lastServedAt: at,
  eager: false,
})
let filler = 0
const bytesOf = (size: number) => {
  const bytes = new Uint8Array(size)
  new DataView(bytes.buffer).setUint32(0, ++filler)
  return bytes
}

// ---- warm hit: without and with the served log and pins -------------------------------------------
const held = picture('warm', await blobs.put(bytesOf(4000)), 4000)
await repo.putPicture(held)
await repo.putDerivative(derivative('warm', 'c_fill,h_40,w_40/jpg', await blobs.put(bytesOf(578)), 578, NOW))
const derive = () => Promise.reject(new Error('a warm hit never derives'))
const plain = createDerivativeSource({ repo, blobs, derive })
const served = createServedLog({ repo, flushEveryMs: 0 })
const pins = createBlobPins()
const tracked = createDerivativeSource({ repo, blobs, derive, served, pins })
const OPS = 20_000
async function round(withTracking: boolean): Promise<number> {
  const start = performance.now()
  for (let i = 0; i < OPS; i++) {
    if (withTracking) {
      served.picture(held.type, held.publicId, Date.now()) // what the delivery handler adds
      await tracked.get(held, [], 'jpg', 'c_fill,h_40,w_40/jpg')
    } else await plain.get(held, [], 'jpg', 'c_fill,h_40,w_40/jpg')
  }
  return ((performance.now() - start) * 1e6) / OPS
}
await round(false)
await round(true) // warm-up
// Alternating rounds, compared pairwise: a busy machine drifts, a pair shares its conditions.
const without: number[] = []
const withTracking: number[] = []
const added: number[] = []
for (let r = 0; r < 15; r++) {
  without.push(await round(false))
  withTracking.push(await round(true))
  added.push(withTracking.at(-1)! - without.at(-1)!)
}
const flushStart = performance.now()
await served.flush()
const flushOne = performance.now() - flushStart
for (let i = 0; i < 10_000; i++) served.picture('gravatar', `p${i}`, NOW)
const flushStart10k = performance.now()
await served.flush()
const flush10k = performance.now() - flushStart10k

// ---- the whole store path in process, for scale ----------------------------------------------------
const gravatar = startFakeGravatar()
const { md5 } = gravatar.addEmail('bench@example.com')
const appDir = mkdtempSync(join(tmpdir(), 'headshot-bench-app-'))
const env = { ...gravatar.env, HEADSHOT_DATA_DIR: appDir, HEADSHOT_API_KEY: '1', HEADSHOT_API_SECRET: 'x'.repeat(20) }
const app = createApp(await loadConfig(env), { env, hotCacheTtlMs: 0, sweep: false, inlineDerive: true })
const url = `http://localhost/image/gravatar/c_fill,h_40,w_40/${md5}.jpg`
await (await app.handle(new Request(url))).arrayBuffer()
const handleStart = performance.now()
const HANDLES = 20_000
for (let i = 0; i < HANDLES; i++) await (await app.handle(new Request(url))).arrayBuffer()
const perHandle = ((performance.now() - handleStart) * 1e6) / HANDLES
await app.close()
gravatar.stop()
rmSync(appDir, { recursive: true, force: true })

// ---- eviction and garbage collection over BLOBS blobs --------------------------------------------
const PER_PICTURE = 9
for (let p = 0; p * (PER_PICTURE + 1) < BLOBS; p++) {
  const original = picture(`p${p}`, await blobs.put(bytesOf(1000)), 1000)
  await repo.putPicture(original)
  for (let d = 0; d < PER_PICTURE; d++) {
    const at = NOW - 86_400_000 + p * PER_PICTURE + d
    await repo.putDerivative(derivative(original.publicId, `w_${d}/jpg`, await blobs.put(bytesOf(100)), 100, at))
  }
}
const usageStart = performance.now()
for (let i = 0; i < 10_000; i++) await repo.storeUsage()
const usageRead = ((performance.now() - usageStart) * 1e6) / 10_000
const before = await repo.storeUsage()

const gcStart = performance.now()
const gc = await collectGarbage({ repo, blobs, negativeTtlMs: 3_600_000 })
const gcMs = performance.now() - gcStart

// Half of the derived images must go: the bound is the originals plus half of the derived bytes.
const originals = Math.ceil(BLOBS / (PER_PICTURE + 1)) * 1000
const bound = Math.floor((originals + (before.bytes - originals) / 2) / 0.9)
/** Longest wait of a 1 ms timer while `work` runs: how long a request could have waited for the thread. */
async function worstWait<T>(work: () => Promise<T>): Promise<{ result: T; ms: number; worst: number }> {
  let worst = 0
  let last = performance.now()
  const timer = setInterval(() => {
    const t = performance.now()
    worst = Math.max(worst, t - last - 1)
    last = t
  }, 1)
  const start = performance.now()
  const result = await work()
  const ms = performance.now() - start
  clearInterval(timer)
  return { result, ms, worst }
}
const idle = await worstWait(() => Bun.sleep(3000)) // the machine's own noise, as a baseline
const eviction = await worstWait(() => createStoreQuota({ repo, blobs, maxBytes: bound, log: () => {} }).enforce())
const report = eviction.result
const evictMs = eviction.ms

console.log(`store upkeep, ${before.blobs} blobs (${(before.bytes / 1e6).toFixed(1)} MB) in a SQLite file + disk`)
console.log('| measurement | result |')
console.log('|---|---|')
console.log(
  `| warm hit, stored derived image (lookup + blob from the LRU), without tracking | ${median(without).toFixed(0)} ns |`,
)
console.log(
  `| the same with the served log and pins (picture + derived image recorded, blob pinned) | ${median(withTracking).toFixed(0)} ns (median of the paired differences: +${median(added).toFixed(0)} ns) |`,
)
console.log(
  `| whole store path in process (app.handle, hot cache off), for scale | ${(perHandle / 1000).toFixed(1)} µs |`,
)
console.log(
  `| served log flush: one entry / 10 000 entries | ${flushOne.toFixed(2)} ms / ${flush10k.toFixed(1)} ms (in chunks of 1 000) |`,
)
console.log(`| store size read (storeUsage) | ${(usageRead / 1000).toFixed(1)} µs |`)
console.log(
  `| eviction of ${report.derivatives} derived images | ${evictMs.toFixed(0)} ms (${((evictMs * 1000) / Math.max(1, report.derivatives)).toFixed(0)} µs each), longest wait of a 1 ms timer ${eviction.worst.toFixed(1)} ms (idle baseline ${idle.worst.toFixed(1)} ms) |`,
)
console.log(
  `| garbage collection walk (${before.blobs} files, nothing to remove: ${gc.orphanBlobs.count}) | ${(gcMs / 1000).toFixed(1)} s |`,
)

repo.close()
rmSync(dir, { recursive: true, force: true })
process.exit(0)
