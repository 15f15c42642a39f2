/**
 * Face-detector benchmark on the shared sets, scored by the shared scorer.
 *
 *   bun run bench/faces.ts [--set faces|faces-hard|all] [--runs N]
 *
 * Data: $FACES_DATA (default ../shared/data relative to the repo). For each set it
 *  - decodes every JPEG (timed separately: "decode ms"), converts nothing else outside the timer;
 *  - times `detectFaces(bitmap)` alone per image (best of --runs, default 1, after a warm-up):
 *    this is `_meta.ms_per_image`, what the scorer reports as ms/image (decode excluded);
 *  - writes bench/out/faces-<set>.json (the scorer's det.json) and runs
 *    `python3 ../shared/tools/eval_faces.py eval` on it (full report printed);
 *  - `--shrink`: the production path: JPEG decoded at 1/2–1/8 (never below the detector's own
 *    reduction, `workingReduction`), boxes scaled back; "decode" is then the shrunk decode;
 *  - `--mirror`: a robustness check on new pixels: every image mirrored, boxes mirrored back;
 *  - prints a summary: recall, precision, no-face false hits, every face found, small 6–10 %,
 *    rotate, ms/image, and the 2:3 crops with our own g_faces window (geometry.ts), which the
 *    scorer cannot see (it centres on the union of the boxes itself).
 * Same-run baselines for reading ms as ratios on a shared machine: "decode" (full JPEG decode)
 * and "grey" (RGBA → grey only, the floor of any detector).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { decode } from '../src/image/codecs.ts'
import { detectFaces, TUNING, workingReduction, type DetectedFace } from '../src/image/faces/index.ts'
import { toGray } from '../src/image/faces/gray.ts'
import { facesWindow } from '../src/image/geometry.ts'
import type { Bitmap } from '../src/image/types.ts'
import { flip } from '../src/image/transform.ts'

const repo = resolve(dirname(new URL(import.meta.url).pathname), '..')
const dataRoot = resolve(repo, process.env.FACES_DATA ?? '../shared/data')
const scorer = resolve(dataRoot, '../tools/eval_faces.py')
const args = process.argv.slice(2)
const arg = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 && args[i + 1] ? args[i + 1]! : def
}
const which = arg('set', 'all')
const runs = Math.max(1, Number(arg('runs', '1')))
const quiet = args.includes('--quiet')
/** Robustness check: detect on the mirrored image, mirror the boxes back (same GT, new pixels). */
const mirror = args.includes('--mirror')
/** Production path check: JPEG decoded at 1/2–1/8 (≤ the detector's own reduction), boxes scaled back. */
const shrinkLoad = args.includes('--shrink')
/** Mirrored images: new pixels for the same ground truth. */
const flipH = (b: Bitmap): Bitmap => flip(b, 'h')
if (process.env.FACES_TUNING) Object.assign(TUNING, JSON.parse(process.env.FACES_TUNING)) // sweeps (dev)
const sets = which === 'all' ? ['faces', 'faces-hard'] : [which]
const outDir = join(repo, 'bench/out')
mkdirSync(outDir, { recursive: true })

interface GtFace { x: number; y: number; w: number; h: number }
interface GtRec { file: string; width: number; height: number; faces: GtFace[]; category?: string }

/** Optional decoded-pixel cache for quick iterations (FACES_CACHE=/tmp/dir); timing unaffected. */
async function load(dir: string, set: string, file: string): Promise<{ bm: Bitmap; decodeMs: number }> {
  const cache = process.env.FACES_CACHE
  const bytes = new Uint8Array(readFileSync(join(dir, file)))
  if (cache) {
    const p = join(cache, set, `${file}.rgba`)
    if (existsSync(p)) {
      const b = readFileSync(p)
      const w = b.readUInt32LE(0)
      const h = b.readUInt32LE(4)
      return { bm: { width: w, height: h, data: new Uint8Array(b.buffer, b.byteOffset + 8, w * h * 4) }, decodeMs: NaN }
    }
  }
  const t = performance.now()
  const bm = await decode(bytes, 'jpg')
  const decodeMs = performance.now() - t
  if (cache) {
    mkdirSync(join(cache, set), { recursive: true })
    const hdr = Buffer.alloc(8)
    hdr.writeUInt32LE(bm.width, 0)
    hdr.writeUInt32LE(bm.height, 4)
    writeFileSync(join(cache, set, `${file}.rgba`), Buffer.concat([hdr, Buffer.from(bm.data.buffer, bm.data.byteOffset, bm.data.byteLength)]))
  }
  return { bm, decodeMs }
}

async function loadShrunk(dir: string, r: GtRec): Promise<{ bm: Bitmap; decodeMs: number }> {
  const red = workingReduction(r.width, r.height)
  const shrink = [8, 4, 2].find((s) => s <= red) ?? 1
  const bytes = new Uint8Array(readFileSync(join(dir, r.file)))
  const t = performance.now()
  const bm = await decode(bytes, 'jpg', { shrink })
  return { bm, decodeMs: performance.now() - t }
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '  n/a' : `${(100 * v).toFixed(1).padStart(5)} %`)
const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN)
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b)
  return s.length ? (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2 : NaN
}

/** The scorer's c_fill crop for aspect a around a centre, shifted into the image. */
function fillCrop(W: number, H: number, a: number, cx: number, cy: number) {
  const [cw, ch] = W / H > a ? [H * a, H] : [W, W / a]
  return { x: Math.min(Math.max(cx - cw / 2, 0), W - cw), y: Math.min(Math.max(cy - ch / 2, 0), H - ch), w: cw, h: ch }
}
function unionOf(b: readonly { x: number; y: number; w: number; h: number }[]) {
  const x0 = Math.min(...b.map((f) => f.x))
  const y0 = Math.min(...b.map((f) => f.y))
  const x1 = Math.max(...b.map((f) => f.x + f.w))
  const y1 = Math.max(...b.map((f) => f.y + f.h))
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }
}
function keptShare(g: GtFace, c: { x: number; y: number; w: number; h: number }) {
  const iw = Math.min(g.x + g.w, c.x + c.w) - Math.max(g.x, c.x)
  const ih = Math.min(g.y + g.h, c.y + c.h) - Math.max(g.y, c.y)
  return iw > 0 && ih > 0 ? (iw * ih) / (g.w * g.h) : 0
}

for (const set of sets) {
  const dir = join(dataRoot, set)
  const gt = JSON.parse(readFileSync(join(dir, 'faces.json'), 'utf8')) as GtRec[]
  const det: Record<string, unknown> = {}
  const ms: Record<string, number> = {}
  const decodeMs: number[] = []
  const grayMs: number[] = []
  const found = new Map<string, DetectedFace[]>()
  // Warm-up (JIT, cascade decoding and compilation): a long-running server is always warm.
  for (const r of gt.slice(0, 3)) detectFaces((await load(dir, set, r.file)).bm)
  for (const r of gt) {
    const loaded = shrinkLoad ? await loadShrunk(dir, r) : await load(dir, set, r.file)
    const dm = loaded.decodeMs
    const bm = mirror ? flipH(loaded.bm) : loaded.bm
    if (Number.isFinite(dm)) decodeMs.push(dm)
    let best = Infinity
    let faces: DetectedFace[] = []
    for (let i = 0; i < runs; i++) {
      const t = performance.now()
      faces = detectFaces(bm)
      best = Math.min(best, performance.now() - t)
    }
    const t = performance.now()
    toGray(bm)
    grayMs.push(performance.now() - t)
    ms[r.file] = Math.round(best * 1000) / 1000
    if (mirror) faces = faces.map((f) => ({ ...f, x: Math.round((bm.width - f.x - f.w) * 10) / 10 }))
    if (shrinkLoad) {
      const fx = r.width / bm.width
      const fy = r.height / bm.height
      faces = faces.map((f) => ({ ...f, x: f.x * fx, y: f.y * fy, w: f.w * fx, h: f.h * fy }))
    }
    found.set(r.file, faces)
    det[r.file] = faces.map((f) => ({ x: f.x, y: f.y, w: f.w, h: f.h, score: f.score }))
  }
  det._meta = { detector: `headshot detectFaces${mirror ? ' (mirrored input)' : ''}: OpenCV alt2 Haar probe + focused pass, rotation/gamma tries, default + eye cascade checks (pure TS, 1 thread)`, ms_per_image: ms }
  const tag = `${mirror ? '-mirror' : ''}${shrinkLoad ? '-shrink' : ''}`
  const detPath = join(outDir, `faces-${set}${tag}.json`)
  writeFileSync(detPath, JSON.stringify(det))
  const reportPath = join(outDir, `faces-${set}${tag}.report.json`)
  const py = spawnSync('python3', [scorer, 'eval', '--gt', join(dir, 'faces.json'), '--det', detPath, '--json', reportPath], { encoding: 'utf8' })
  if (py.status !== 0) {
    console.error(py.stderr)
    process.exit(1)
  }
  if (!quiet) console.log(py.stdout)
  const rep = JSON.parse(readFileSync(reportPath, 'utf8'))
  const per = new Map<string, { tp: number; fn: number }>(rep.per_image.map((p: { file: string; tp: number; fn: number }) => [p.file, p]))

  // Small faces 6–10 % of the image height (single-face `small` images) and the rotate condition.
  const small = gt.filter((r) => r.category === 'small' && r.faces.length === 1 && r.faces[0]!.h / r.height < 0.1)
  const smallRecall = small.length ? small.reduce((a, r) => a + per.get(r.file)!.tp, 0) / small.length : null
  const rotate = rep.by_group['hard-rotate/derived']?.recall ?? null

  // 2:3 crops with OUR g_faces window (geometry.ts facesWindow on our detections), next to the
  // scorer's rule (centre of the union of our boxes) and the best any window could do (exhaustive
  // search against the GT boxes: the bound on "every face kept" for a fixed-size c_fill window).
  const rows: { all: boolean; unionAll: boolean; boundAll: boolean; kept: number; group: boolean; centreAll: boolean; whole: number; unionWhole: number; boundWhole: number; n: number }[] = []
  for (const r of gt) {
    if (!r.faces.length) continue
    const faces = found.get(r.file) ?? []
    const a = 2 / 3
    const [cw, ch] = r.width / r.height > a ? [r.height * a, r.height] : [r.width, r.width / a]
    const centre = fillCrop(r.width, r.height, a, r.width / 2, r.height / 2)
    const win = faces.length ? facesWindow(faces, { width: r.width, height: r.height }, cw, ch) : centre
    const u = faces.length ? unionOf(faces) : undefined
    const unionWin = u ? fillCrop(r.width, r.height, a, u.x + u.w / 2, u.y + u.h / 2) : centre
    const each = r.faces.map((g) => keptShare(g, win))
    const tot = r.faces.reduce((s, g) => s + g.w * g.h, 0)
    const kept = r.faces.reduce((s, g, i) => s + each[i]! * g.w * g.h, 0) / tot
    let boundWhole = 0
    const maxX = r.width - cw
    const maxY = r.height - ch
    for (let i = 0; i <= 200; i++) {
      const w = { x: (maxX * i) / 200, y: 0, w: cw, h: ch }
      for (let j = 0; j <= (maxY > 0 ? 200 : 0); j++) {
        w.y = (maxY * j) / 200
        boundWhole = Math.max(boundWhole, r.faces.filter((g) => keptShare(g, w) >= 0.99).length)
      }
    }
    rows.push({
      all: each.every((v) => v >= 0.99), unionAll: r.faces.every((g) => keptShare(g, unionWin) >= 0.99), boundAll: boundWhole === r.faces.length,
      kept, group: r.category === 'groups', centreAll: r.faces.every((g) => keptShare(g, centre) >= 0.99),
      whole: each.filter((v) => v >= 0.99).length, unionWhole: r.faces.filter((g) => keptShare(g, unionWin) >= 0.99).length, boundWhole, n: r.faces.length,
    })
  }
  const groups = rows.filter((x) => x.group)
  const crop = rep.crop['2:3']
  console.log(`== ${set}: ${gt.length} images, ${rep.gt_faces} faces`)
  console.log(`recall@IoU.5 ${pct(rep.recall)}  precision ${pct(rep.precision)}  no-face images with FP ${pct(rep.no_face_images_with_fp)}  every face found ${pct(rep.face_images_all_hit)}  mean IoU ${rep.mean_iou_of_tp?.toFixed(3)}`)
  if (set === 'faces-hard') console.log(`small 6–10 % (n=${small.length}) ${pct(smallRecall)}  rotate ${pct(rotate)}  ` + Object.entries(rep.by_group as Record<string, { recall: number | null }>).map(([k, v]) => `${k.split('/')[0]} ${pct(v.recall)}`).join('  '))
  console.log(`ms/image (detection only, best of ${runs}): mean ${mean(Object.values(ms)).toFixed(1)}  median ${median(Object.values(ms)).toFixed(1)}  worst ${Math.max(...Object.values(ms)).toFixed(1)}   same-run baselines: decode mean ${decodeMs.length ? mean(decodeMs).toFixed(1) : 'cached'}  grey-only mean ${mean(grayMs).toFixed(2)}`)
  console.log(`scorer 2:3 (union centre of our boxes): g_faces mean kept ${crop.g_faces.mean_kept.toFixed(4)} every face kept ${pct(crop.g_faces.all_kept)}; g_face ${crop.g_face.mean_kept.toFixed(4)}; centre ${pct(crop.g_center.all_kept)}; oracle ${pct(crop.oracle.all_kept)}`)
  console.log(`our g_faces window 2:3: mean kept ${mean(rows.map((x) => x.kept)).toFixed(4)}  every face kept ${pct(rows.filter((x) => x.all).length / rows.length)}`)
  if (groups.length) {
    const share = (f: (x: (typeof rows)[number]) => boolean) => pct(groups.filter(f).length / groups.length)
    const faceShare = (k: 'whole' | 'unionWhole' | 'boundWhole') => pct(groups.reduce((a, x) => a + x[k], 0) / groups.reduce((a, x) => a + x.n, 0))
    console.log(`groups 2:3 every face kept: our window ${share((x) => x.all)}, union of our boxes ${share((x) => x.unionAll)}, image centre ${share((x) => x.centreAll)}, ` +
      `best possible window ${share((x) => x.boundAll)}; worse than the centre on ${groups.filter((x) => x.centreAll && !x.all).length} image(s); ` +
      `faces kept whole: our window ${faceShare('whole')}, union ${faceShare('unionWhole')}, best possible ${faceShare('boundWhole')} (of ${groups.reduce((a, x) => a + x.n, 0)})`)
  }
}
