/**
 * Paired A/B timing (dev tool): the detector in `src/image/faces` against another copy of it
 * (FACES_AB_OTHER=/path/to/faces/index.ts), alternating per image in one process, best of --runs
 * each, so machine load drifts hit both alike. Also checks that both give the same boxes.
 *   FACES_CACHE=/tmp/dir FACES_AB_OTHER=/tmp/orig/src/image/faces/index.ts bun run tools/faces/ab.ts [--runs 3] [--set all] [--mirror]
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { decode } from '../../src/image/codecs.ts'
import { detectFaces } from '../../src/image/faces/index.ts'
import type { Bitmap } from '../../src/image/types.ts'
import { flip } from '../../src/image/transform.ts'

const other = (await import(process.env.FACES_AB_OTHER!)).detectFaces as typeof detectFaces
const repo = resolve(dirname(new URL(import.meta.url).pathname), '../..')
const dataRoot = resolve(repo, process.env.FACES_DATA ?? '../shared/data')
const args = process.argv.slice(2)
const arg = (n: string, d: string) => { const i = args.indexOf(`--${n}`); return i >= 0 && args[i + 1] ? args[i + 1]! : d }
const runs = Number(arg('runs', '3'))
const which = arg('set', 'all')
/** Mirrored images (as the main bench's --mirror). */
const mirror = args.includes('--mirror')
/** Mirrored images: new pixels for the same ground truth. */
const flipH = (b: Bitmap): Bitmap => flip(b, 'h')
for (const set of which === 'all' ? ['faces', 'faces-hard'] : [which]) {
  const gt = JSON.parse(readFileSync(join(dataRoot, set, 'faces.json'), 'utf8')) as { file: string; faces: unknown[] }[]
  const load = async (file: string): Promise<Bitmap> => {
    const p = join(process.env.FACES_CACHE ?? '/nonexistent', set, `${file}.rgba`)
    if (existsSync(p)) {
      const b = readFileSync(p)
      const w = b.readUInt32LE(0), h = b.readUInt32LE(4)
      return { width: w, height: h, data: new Uint8Array(b.buffer, b.byteOffset + 8, w * h * 4) }
    }
    return decode(new Uint8Array(readFileSync(join(dataRoot, set, file))), 'jpg')
  }
  const imgs: Bitmap[] = []
  for (const r of gt) { const b = await load(r.file); imgs.push(mirror ? flipH(b) : b) }
  for (let i = 0; i < 3; i++) { detectFaces(imgs[i]!); other(imgs[i]!) }
  const a: number[] = [], b: number[] = [], noA: number[] = [], noB: number[] = []
  let diff = 0
  for (let i = 0; i < imgs.length; i++) {
    let ta = Infinity, tb = Infinity
    let ra: unknown, rb: unknown
    for (let k = 0; k < runs; k++) {
      let t = performance.now(); ra = detectFaces(imgs[i]!); ta = Math.min(ta, performance.now() - t)
      t = performance.now(); rb = other(imgs[i]!); tb = Math.min(tb, performance.now() - t)
    }
    if (JSON.stringify(ra) !== JSON.stringify(rb)) diff++
    a.push(ta); b.push(tb)
    if (!gt[i]!.faces.length) { noA.push(ta); noB.push(tb) }
  }
  const m = (v: number[]) => (v.reduce((x, y) => x + y, 0) / v.length).toFixed(2)
  const med = (v: number[]) => [...v].sort((x, y) => x - y)[v.length >> 1]!.toFixed(2)
  console.log(`${set}: this mean ${m(a)} median ${med(a)} max ${Math.max(...a).toFixed(1)} no-face ${m(noA)} | other mean ${m(b)} median ${med(b)} max ${Math.max(...b).toFixed(1)} no-face ${m(noB)} | images with different boxes: ${diff}`)
}
