/**
 * Where the time of a new size goes, for the case bench/peers.ts measures over HTTP: `c_fill,g_face`
 * at the 30 sizes 124×155…240×300 of a stored 400² and 1024² photo, faces already known.
 *
 * In-process, one thread (what one worker does), medians over the sizes:
 *   derive   – deriveImage (plan, decode, steps, encode)
 *   decode   – decode alone, at the shrink-on-load scale the plan picks
 *   encode   – the JPEG encode alone, of the output's pixels
 *   steps    – derive − decode − encode: planning, crop and Lanczos resampling
 *   faces    – findFaces on the source (paid once per picture, by its first face-aware request)
 * Interleaved with those, the same requests over HTTP on loopback to two apps (fake Facebook):
 *   pool     – createApp with its worker pool, as the binary runs
 *   inline   – createApp deriving on the server thread (no worker hand-off)
 * each as wall time and as CPU time of this whole process (user + system, every thread): on a
 * machine shared with other work, wall times carry the wait for a free core at every thread
 * hand-off, CPU times do not. "outside" = HTTP − derive: parse, signature, lookups, hand-off,
 * storing the result, HTTP itself. A warm hit of the same URL (another `v<N>`: store path, no
 * derive) is the part every request pays.
 *
 * Run: bun run bench/profile-derive.ts [--runs=N]
 * CPU profile of the in-process part: bun --cpu-prof --cpu-prof-dir=/tmp/prof run bench/profile-derive.ts
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFakeFacebook } from '../plugins/facebook/fake.ts'
import { createApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { decode, encode } from '../src/image/codecs.ts'
import { findFaces } from '../src/image/faces/find.ts'
import { deriveImage, planChain, shrinkOnLoad } from '../src/image/pipeline.ts'
import { probeImage } from '../src/lib/image-header.ts'
import { signDeliveryPath } from '../src/url/signature.ts'
import type { Component } from '../src/url/types.ts'
import { facesDataDir } from '../test/support/face-data.ts'

const args = process.argv.slice(2)
const RUNS = Number(args.find((a) => a.startsWith('--runs='))?.slice(7) ?? 5)
const SIZES = Array.from({ length: 30 }, (_, i) => [124 + 4 * i, Math.round((124 + 4 * i) * 1.25)] as const)
const px = (value: number) => ({ kind: 'px', value }) as const
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

/** Wall and CPU milliseconds of `fn` (CPU: this process, all threads). */
async function measure<T>(fn: () => Promise<T>): Promise<{ wall: number; cpu: number; value: T }> {
  const cpu = process.cpuUsage()
  const start = performance.now()
  const value = await fn()
  const wall = performance.now() - start
  const used = process.cpuUsage(cpu)
  return { wall, cpu: (used.user + used.system) / 1000, value }
}

/** The 1024² face photo when the data set is here, else a smooth synthetic picture (no faces). */
async function sources(): Promise<Array<[string, Uint8Array]>> {
  const face = join(facesDataDir(), 'faces', 'london_001.jpg')
  let big: Uint8Array
  if (existsSync(face)) big = new Uint8Array(readFileSync(face))
  else {
    const n = 1024
    const data = new Uint8Array(n * n * 4)
    for (let i = 0; i < n * n; i++) {
      const x = i % n
      const y = Math.floor(i / n)
      data.set([120 + 60 * Math.sin(x / 17), 100 + 50 * Math.cos(y / 23), 90 + ((x * y) % 37), 255], i * 4)
    }
    big = await encode({ width: n, height: n, data }, 'jpg', { quality: 88 })
  }
  // 400²: the 1024² photo resampled by our own pipeline (the fixture's origin does not matter here).
  const chain: Component[] = [{ crop: 'scale', width: px(400) }]
  const small = (await deriveImage({ bytes: big, format: 'jpg', chain, output: 'jpg', faces: [] })).bytes
  return [
    ['400', small],
    ['1024', big],
  ]
}

const SECRET = 'profile-secret-0123456789'
const facebook = startFakeFacebook()
const dataDirs: string[] = []
async function app(inlineDerive: boolean) {
  const dataDir = mkdtempSync(join(tmpdir(), 'headshot-profile-'))
  dataDirs.push(dataDir)
  const env = { HEADSHOT_DATA_DIR: dataDir, HEADSHOT_API_KEY: '1', HEADSHOT_API_SECRET: SECRET, ...facebook.env }
  const headshot = createApp(await loadConfig(env), { env, inlineDerive })
  headshot.app.listen({ port: 0, hostname: '127.0.0.1' })
  const base = `http://127.0.0.1:${headshot.app.server!.port}`
  const get = (path: string) =>
    measure(async () => {
      const signed = signDeliveryPath(path, SECRET)
      if (!signed.ok) throw new Error(signed.error.message)
      const response = await fetch(base + signed.value)
      await response.arrayBuffer()
      if (response.status !== 200) throw new Error(`${response.status} for ${path}`)
    })
  return { headshot, get }
}
const pool = await app(false)
const inline = await app(true)

const rows: string[] = []
let version = 1
for (const [name, bytes] of await sources()) {
  // One picture per run, same bytes: every request of every run is a new derived image.
  const ids = Array.from({ length: RUNS + 1 }, (_, run) => `${name}00${run}`)
  for (const id of ids) {
    facebook.addPhoto(id, bytes)
    for (const { get } of [pool, inline]) await get(`/image/facebook/c_fill,g_face,h_100,w_80/${id}.jpg`) // faces found
  }
  const { wall: facesMs, value: faces } = await measure(() => findFaces(bytes, 'jpg'))
  const header = probeImage(bytes)
  if (!header.ok) throw new Error('bad fixture')
  const series = new Map<string, number[]>()
  const add = (key: string, value: number) => series.set(key, [...(series.get(key) ?? []), value])
  let fullDecodes = 0
  for (let run = -1; run < RUNS; run++) {
    for (const [w, h] of SIZES) {
      const chain: Component[] = [
        { crop: 'fill', width: px(w), height: px(h), gravity: { kind: 'face', mode: 'face', fallback: 'north' } },
      ]
      const shrink = shrinkOnLoad(planChain(chain, header.value, undefined, faces).components[0]!)
      const path = `/image/facebook/c_fill,g_face,h_${h},w_${w}/${ids[run + 1]}.jpg`
      const poolNew = await pool.get(path)
      const inlineNew = await inline.get(path)
      const warm = await pool.get(path.replace(/\/(\w+)\.jpg$/, `/v${version++}/$1.jpg`))
      const derive = await measure(() => deriveImage({ bytes, format: 'jpg', chain, output: 'jpg', faces }))
      const decoded = await measure(() => decode(bytes, 'jpg', { shrink }))
      const pixels = await decode(derive.value.bytes, 'jpg') // the output's pixels, for a realistic encode
      const encoded = await measure(() => encode(pixels, 'jpg', { quality: 80 }))
      if (run < 0) continue // warm-up pass
      if (shrink < 2) fullDecodes++
      add('poolWall', poolNew.wall)
      add('poolCpu', poolNew.cpu)
      add('inlineWall', inlineNew.wall)
      add('inlineCpu', inlineNew.cpu)
      add('warm', warm.wall)
      add('derive', derive.wall)
      add('deriveCpu', derive.cpu)
      add('decode', decoded.wall)
      add('encode', encoded.wall)
      add('steps', Math.max(0, derive.wall - decoded.wall - encoded.wall))
    }
  }
  const m = (key: string) => median(series.get(key)!)
  const d = m('derive')
  const share = (v: number) => `${v.toFixed(1)} (${((100 * v) / d).toFixed(0)} %)`
  const outside = (total: number, own: number) => `${total.toFixed(1)} → ${(total - own).toFixed(1)}`
  rows.push(
    `| ${name}² | ${outside(m('poolWall'), d)} | ${outside(m('inlineWall'), d)} | ${outside(m('poolCpu'), m('deriveCpu'))} | ` +
      `${outside(m('inlineCpu'), m('deriveCpu'))} | ${m('warm').toFixed(1)} | ${d.toFixed(1)} | ${share(m('decode'))} | ` +
      `${share(m('steps'))} | ${share(m('encode'))} | ${(fullDecodes / RUNS).toFixed(0)}/30 | ${facesMs.toFixed(0)} |`,
  )
}

console.log(
  `new sizes (c_fill,g_face, 30 sizes 124×155…240×300, faces known), medians over ${RUNS} runs, ms; "a → b": total → outside the derive`,
)
console.log(
  '| source | HTTP, pool (wall) | HTTP, inline (wall) | HTTP, pool (CPU) | HTTP, inline (CPU) | warm hit | derive | decode | crop + resize | encode | full-size decodes | faces (once) |',
)
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|')
for (const r of rows) console.log(r)

for (const { headshot } of [pool, inline]) {
  headshot.app.stop()
  await headshot.close()
}
facebook.stop()
for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true })
process.exit(0)
