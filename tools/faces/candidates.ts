/**
 * Calibration helper (dev): runs `detectCandidates` over a set and writes every candidate with its
 * evidence and whether its mapped box matches a GT face (IoU ≥ 0.5), plus per-phase timings.
 *   bun run tools/faces/candidates.ts faces-hard > /tmp/cands.jsonl
 */
import { readFileSync } from 'node:fs'
import { join, resolve, dirname } from 'node:path'
import { decode } from '../../src/image/codecs.ts'
import { detectCandidates, mapBox, TUNING, type DetectStats } from '../../src/image/faces/index.ts'
import { iou } from '../../src/image/faces/group.ts'

if (process.env.FACES_TUNING) Object.assign(TUNING, JSON.parse(process.env.FACES_TUNING))
const repo = resolve(dirname(new URL(import.meta.url).pathname), '../..')
const set = process.argv[2] ?? 'faces'
const dir = join(resolve(repo, process.env.FACES_DATA ?? '../shared/data'), set)
const gt = JSON.parse(readFileSync(join(dir, 'faces.json'), 'utf8')) as { file: string; width: number; height: number; faces: { x: number; y: number; w: number; h: number }[] }[]
const st: DetectStats = { gray: 0, probe: 0, probeFine: 0, rotate: 0, focus: 0, seeds: 0, candidates: 0, windows: 0, rotWindows: 0 }
for (const r of gt) {
  const cache = process.env.FACES_CACHE ? join(process.env.FACES_CACHE, set, `${r.file}.rgba`) : ''
  let bm: { width: number; height: number; data: Uint8Array }
  if (cache) {
    const b = readFileSync(cache)
    bm = { width: b.readUInt32LE(0), height: b.readUInt32LE(4), data: new Uint8Array(b.buffer, b.byteOffset + 8, b.readUInt32LE(0) * b.readUInt32LE(4) * 4) }
  } else bm = await decode(new Uint8Array(readFileSync(join(dir, r.file))), 'jpg')
  if (process.env.FACES_MIRROR) {
    const src = new Uint32Array(bm.data.buffer.slice(bm.data.byteOffset, bm.data.byteOffset + bm.data.byteLength))
    const dst = new Uint32Array(src.length)
    for (let y = 0; y < bm.height; y++) for (let x = 0; x < bm.width; x++) dst[y * bm.width + x] = src[y * bm.width + bm.width - 1 - x]!
    bm = { width: bm.width, height: bm.height, data: new Uint8Array(dst.buffer) }
  }
  const { candidates, k } = detectCandidates(bm, {}, st)
  if (process.env.FACES_MIRROR) for (const c of candidates) c.cx = bm.width / k - c.cx
  for (const c of candidates) {
    const box = mapBox({ cx: c.cx * k, cy: c.cy * k, side: c.side * k, angle: c.angle }, r.width, r.height)
    let best = 0
    let gi = -1
    r.faces.forEach((f, i) => { const v = iou(box, f); if (v > best) { best = v; gi = i } })
    const gf = r.faces[gi]
    console.log(JSON.stringify({ file: r.file, gi, iou: Math.round(best * 1000) / 1000, relSide: (c.side * k) / Math.min(r.width, r.height), src: { cx: c.cx * k, cy: c.cy * k, side: c.side * k }, gt: gf, ...c }))
  }
}
console.error(JSON.stringify(Object.fromEntries(Object.entries(st).map(([key, v]) => [key, Math.round((v / gt.length) * 100) / 100]))))
