/**
 * Per-phase profile of detectCandidates on the shared sets (dev tool), plus an exact-output
 * fingerprint so speed changes can be checked for identical boxes.
 *   FACES_CACHE=/tmp/dir bun run tools/faces/profile.ts [--set all] [--runs 3] [--dump out.json] [--mirror]
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { decode } from '../../src/image/codecs.ts'
import { detectCandidates, detectFaces, type DetectStats } from '../../src/image/faces/index.ts'
import type { Bitmap } from '../../src/image/types.ts'
import { flip } from '../../src/image/transform.ts'

const repo = resolve(dirname(new URL(import.meta.url).pathname), '../..')
const dataRoot = resolve(repo, process.env.FACES_DATA ?? '../shared/data')
const args = process.argv.slice(2)
const arg = (n: string, d: string) => { const i = args.indexOf(`--${n}`); return i >= 0 && args[i + 1] ? args[i + 1]! : d }
const which = arg('set', 'all')
const runs = Number(arg('runs', '3'))
const dump = arg('dump', '')
const mirror = args.includes('--mirror')
const sets = which === 'all' ? ['faces', 'faces-hard'] : [which]
/** Mirrored images: new pixels for the same ground truth. */
const flipH = (b: Bitmap): Bitmap => flip(b, 'h')
async function load(set: string, file: string): Promise<Bitmap> {
  const cache = process.env.FACES_CACHE
  if (cache) {
    const p = join(cache, set, `${file}.rgba`)
    if (existsSync(p)) {
      const b = readFileSync(p)
      const w = b.readUInt32LE(0), h = b.readUInt32LE(4)
      return { width: w, height: h, data: new Uint8Array(b.buffer, b.byteOffset + 8, w * h * 4) }
    }
  }
  return decode(new Uint8Array(readFileSync(join(dataRoot, set, file))), 'jpg')
}
const out: Record<string, unknown> = {}
for (const set of sets) {
  const gt = JSON.parse(readFileSync(join(dataRoot, set, 'faces.json'), 'utf8')) as { file: string; faces: unknown[] }[]
  const imgs: Bitmap[] = []
  for (const r of gt) { const b = await load(set, r.file); imgs.push(mirror ? flipH(b) : b) }
  for (let i = 0; i < 3; i++) detectFaces(imgs[i]!)
  const tot: DetectStats = { gray: 0, probe: 0, probeFine: 0, rotate: 0, focus: 0, seeds: 0, candidates: 0, windows: 0, rotWindows: 0 }
  const totNo: DetectStats = { gray: 0, probe: 0, probeFine: 0, rotate: 0, focus: 0, seeds: 0, candidates: 0, windows: 0, rotWindows: 0 }
  const ms: number[] = []
  const msNo: number[] = []
  for (let i = 0; i < gt.length; i++) {
    let best = Infinity
    let res: unknown
    for (let k = 0; k < runs; k++) {
      const t = performance.now()
      res = detectFaces(imgs[i]!)
      best = Math.min(best, performance.now() - t)
    }
    const s: DetectStats = { gray: 0, probe: 0, probeFine: 0, rotate: 0, focus: 0, seeds: 0, candidates: 0, windows: 0, rotWindows: 0 }
    detectCandidates(imgs[i]!, {}, s)
    for (const k of Object.keys(tot) as (keyof DetectStats)[]) { tot[k] += s[k]; if (!gt[i]!.faces.length) totNo[k] += s[k] }
    ms.push(best)
    if (!gt[i]!.faces.length) msNo.push(best)
    out[`${set}/${gt[i]!.file}`] = res
  }
  const m = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length
  const sorted = [...ms].sort((a, b) => a - b)
  console.log(`${set}: mean ${m(ms).toFixed(2)} median ${sorted[sorted.length >> 1]!.toFixed(2)} max ${sorted[sorted.length - 1]!.toFixed(2)}  no-face n=${msNo.length} mean ${m(msNo).toFixed(2)}`)
  console.log('  no-face per image:', Object.entries(totNo).map(([k, v]) => `${k} ${(v / msNo.length).toFixed(2)}`).join('  '))
  console.log('  per image:', Object.entries(tot).map(([k, v]) => `${k} ${(v / gt.length).toFixed(2)}`).join('  '))
}
if (dump) writeFileSync(dump, JSON.stringify(out))
