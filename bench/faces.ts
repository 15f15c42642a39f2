/**
 * Face-detector benchmark on the face sets, scored by the sets' own scorer (`eval_faces.py`).
 *
 *   bun run bench/faces.ts [--set faces|faces-hard|all] [--runs N] [--quiet] [--mirror] [--shrink]
 *
 * Data: see test/support/face-data.ts (HEADSHOT_FACES_DATA); without it the benchmark is skipped.
 * The scorer is the one kept with the data, in `tools/` beside the data folder. For each set it
 *  - decodes every JPEG (timed separately: "decode ms"), converts nothing else outside the timer;
 *  - times `detectFaces(bitmap)` alone per image (best of --runs, default 1, after a warm-up):
 *    this is `_meta.ms_per_image`, what the scorer reports as ms/image (decode excluded);
 *  - writes bench/out/faces-<set>.json (the scorer's det.json) and runs `eval_faces.py eval` on
 *    it (full report printed unless --quiet);
 *  - `--shrink`: the production path: JPEG decoded at 1/2–1/8 (never below the detector's own
 *    reduction, `workingReduction`), boxes scaled back; "decode" is then the shrunk decode;
 *  - `--mirror`: a robustness check on new pixels: every image mirrored, boxes mirrored back;
 *  - prints a summary: recall, precision, no-face false hits, every face found, small 6–10 %,
 *    rotate, ms/image, and the 2:3 crops with our own g_faces window (geometry.ts), which the
 *    scorer cannot see (it centres on the union of the boxes itself).
 * Same-run baselines for reading ms as ratios on a shared machine: "decode" (full JPEG decode)
 * and "grey" (RGBA → grey only, the floor of any detector).
 * FACES_TUNING='{"minScore":0.8}' runs with tuning overrides (sweeps, development only);
 * FACES_CACHE=/tmp/dir keeps decoded pixels between runs (then "decode" reads "cached").
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { decode } from '../src/image/codecs.ts'
import { detectFaces, workingReduction, type DetectedFace, type DetectOptions } from '../src/image/faces/index.ts'
import { toGray } from '../src/image/faces/gray.ts'
import { facesWindow } from '../src/image/geometry.ts'
import type { Bitmap } from '../src/image/types.ts'
import { flip } from '../src/image/transform.ts'
import { facesDataDir, haveFaceData, type FaceSet } from '../test/support/face-data.ts'
import {
  cacheBitmap,
  cachedBitmap,
  pickSets,
  readGroundTruth,
  readImageBytes,
  type GroundTruthImage,
} from '../tools/faces/images.ts'

const { values: flags } = parseArgs({
  options: {
    set: { type: 'string', default: 'all' },
    runs: { type: 'string', default: '1' },
    quiet: { type: 'boolean', default: false },
    /** Robustness check: detect on the mirrored image, mirror the boxes back (same GT, new pixels). */
    mirror: { type: 'boolean', default: false },
    /** Production path check: JPEG decoded at 1/2–1/8 (≤ the detector's own reduction), boxes scaled back. */
    shrink: { type: 'boolean', default: false },
  },
})
const sets = pickSets(flags.set)
if (!haveFaceData(...sets)) {
  console.log(`face benchmark skipped: no face data in ${facesDataDir()} (HEADSHOT_FACES_DATA)`)
  process.exit(0)
}
const scorer = resolve(facesDataDir(), '../tools/eval_faces.py')
const runs = Math.max(1, Number(flags.runs))
/** Tuning overrides for sweeps (development only); empty in a normal run. */
const detectOptions: DetectOptions = process.env.FACES_TUNING ? { tuning: JSON.parse(process.env.FACES_TUNING) } : {}
const outDir = resolve(import.meta.dir, 'out')
mkdirSync(outDir, { recursive: true })

type GtFace = GroundTruthImage['faces'][number]
type GtRec = GroundTruthImage

/** Full-size decode, timed (NaN when the pixels came from the FACES_CACHE). */
async function load(set: FaceSet, file: string): Promise<{ bm: Bitmap; decodeMs: number }> {
  const cached = cachedBitmap(set, file)
  if (cached) return { bm: cached, decodeMs: NaN }
  const bytes = readImageBytes(set, file)
  const start = performance.now()
  const bm = await decode(bytes, 'jpg')
  const decodeMs = performance.now() - start
  cacheBitmap(set, file, bm)
  return { bm, decodeMs }
}

async function loadShrunk(set: FaceSet, r: GtRec): Promise<{ bm: Bitmap; decodeMs: number }> {
  const reduction = workingReduction(r.width, r.height, detectOptions)
  const shrink = [8, 4, 2].find((factor) => factor <= reduction) ?? 1
  const bytes = readImageBytes(set, r.file)
  const start = performance.now()
  const bm = await decode(bytes, 'jpg', { shrink })
  return { bm, decodeMs: performance.now() - start }
}

const pct = (value: number | null | undefined) =>
  value === null || value === undefined ? '  n/a' : `${(100 * value).toFixed(1).padStart(5)} %`
const mean = (values: number[]) => (values.length ? values.reduce((sum, v) => sum + v, 0) / values.length : NaN)
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length ? (sorted[(sorted.length - 1) >> 1]! + sorted[sorted.length >> 1]!) / 2 : NaN
}

interface Box {
  x: number
  y: number
  w: number
  h: number
}
/** Share of a face's box kept whole by a crop counts as "kept" from here (the scorer's rule). */
const WHOLE = 0.99
const CROP_ASPECT = 2 / 3

/** The scorer's c_fill crop for an aspect around a centre, shifted into the image. */
function fillCrop(width: number, height: number, aspect: number, cx: number, cy: number): Box {
  const [cropW, cropH] = width / height > aspect ? [height * aspect, height] : [width, width / aspect]
  const x = Math.min(Math.max(cx - cropW / 2, 0), width - cropW)
  const y = Math.min(Math.max(cy - cropH / 2, 0), height - cropH)
  return { x, y, w: cropW, h: cropH }
}
function unionOf(boxes: readonly Box[]): Box {
  const x0 = Math.min(...boxes.map((box) => box.x))
  const y0 = Math.min(...boxes.map((box) => box.y))
  const x1 = Math.max(...boxes.map((box) => box.x + box.w))
  const y1 = Math.max(...boxes.map((box) => box.y + box.h))
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }
}
function keptShare(face: GtFace, crop: Box): number {
  const overlapW = Math.min(face.x + face.w, crop.x + crop.w) - Math.max(face.x, crop.x)
  const overlapH = Math.min(face.y + face.h, crop.y + crop.h) - Math.max(face.y, crop.y)
  return overlapW > 0 && overlapH > 0 ? (overlapW * overlapH) / (face.w * face.h) : 0
}

/** One image's 2:3 crops: ours, the scorer's (union of our boxes), the image centre, the best possible. */
interface CropRow {
  group: boolean
  faces: number
  /** Area-weighted share of the GT faces our window keeps. */
  kept: number
  /** Every GT face kept whole by: our window, the union-centred one, the centre, the best window. */
  all: boolean
  unionAll: boolean
  centreAll: boolean
  boundAll: boolean
  /** GT faces kept whole by: our window, the union-centred one, the best window. */
  whole: number
  unionWhole: number
  boundWhole: number
}

/** Most GT faces any position of the fixed-size crop keeps whole (exhaustive, 201 × 201 positions). */
function bestPossibleWhole(r: GtRec, cropW: number, cropH: number): number {
  let best = 0
  const maxX = r.width - cropW
  const maxY = r.height - cropH
  for (let i = 0; i <= 200; i++) {
    const crop = { x: (maxX * i) / 200, y: 0, w: cropW, h: cropH }
    for (let j = 0; j <= (maxY > 0 ? 200 : 0); j++) {
      crop.y = (maxY * j) / 200
      best = Math.max(best, r.faces.filter((face) => keptShare(face, crop) >= WHOLE).length)
    }
  }
  return best
}

function cropRow(r: GtRec, faces: readonly DetectedFace[]): CropRow {
  const landscape = r.width / r.height > CROP_ASPECT
  const [cropW, cropH] = landscape ? [r.height * CROP_ASPECT, r.height] : [r.width, r.width / CROP_ASPECT]
  const centre = fillCrop(r.width, r.height, CROP_ASPECT, r.width / 2, r.height / 2)
  const ours = faces.length ? facesWindow(faces, { width: r.width, height: r.height }, cropW, cropH) : centre
  const union = faces.length ? unionOf(faces) : undefined
  const unionCrop = union
    ? fillCrop(r.width, r.height, CROP_ASPECT, union.x + union.w / 2, union.y + union.h / 2)
    : centre
  const keptByOurs = r.faces.map((face) => keptShare(face, ours))
  const totalArea = r.faces.reduce((sum, face) => sum + face.w * face.h, 0)
  const boundWhole = bestPossibleWhole(r, cropW, cropH)
  return {
    group: r.category === 'groups',
    faces: r.faces.length,
    kept: r.faces.reduce((sum, face, i) => sum + keptByOurs[i]! * face.w * face.h, 0) / totalArea,
    all: keptByOurs.every((share) => share >= WHOLE),
    unionAll: r.faces.every((face) => keptShare(face, unionCrop) >= WHOLE),
    centreAll: r.faces.every((face) => keptShare(face, centre) >= WHOLE),
    boundAll: boundWhole === r.faces.length,
    whole: keptByOurs.filter((share) => share >= WHOLE).length,
    unionWhole: r.faces.filter((face) => keptShare(face, unionCrop) >= WHOLE).length,
    boundWhole,
  }
}

for (const set of sets) {
  const gt = readGroundTruth(set)
  const det: Record<string, unknown> = {}
  const ms: Record<string, number> = {}
  const decodeMs: number[] = []
  const grayMs: number[] = []
  const found = new Map<string, DetectedFace[]>()
  // Warm-up (JIT, cascade decoding and compilation): a long-running server is always warm.
  for (const r of gt.slice(0, 3)) detectFaces((await load(set, r.file)).bm, detectOptions)
  for (const r of gt) {
    const loaded = flags.shrink ? await loadShrunk(set, r) : await load(set, r.file)
    const bm = flags.mirror ? flip(loaded.bm, 'h') : loaded.bm
    if (Number.isFinite(loaded.decodeMs)) decodeMs.push(loaded.decodeMs)
    let best = Infinity
    let faces: DetectedFace[] = []
    for (let run = 0; run < runs; run++) {
      const start = performance.now()
      faces = detectFaces(bm, detectOptions)
      best = Math.min(best, performance.now() - start)
    }
    const grayStart = performance.now()
    toGray(bm)
    grayMs.push(performance.now() - grayStart)
    ms[r.file] = Math.round(best * 1000) / 1000
    if (flags.mirror) faces = faces.map((f) => ({ ...f, x: Math.round((bm.width - f.x - f.w) * 10) / 10 }))
    if (flags.shrink) {
      const fx = r.width / bm.width
      const fy = r.height / bm.height
      faces = faces.map((f) => ({ ...f, x: f.x * fx, y: f.y * fy, w: f.w * fx, h: f.h * fy }))
    }
    found.set(r.file, faces)
    det[r.file] = faces.map((f) => ({ x: f.x, y: f.y, w: f.w, h: f.h, score: f.score }))
  }
  det._meta = {
    detector:
      `headshot detectFaces${flags.mirror ? ' (mirrored input)' : ''}: ` +
      'OpenCV alt2 Haar probe + focused pass, rotation/gamma tries, default + eye cascade checks (pure TS, 1 thread)',
    ms_per_image: ms,
  }
  const tag = `${flags.mirror ? '-mirror' : ''}${flags.shrink ? '-shrink' : ''}`
  const detPath = join(outDir, `faces-${set}${tag}.json`)
  writeFileSync(detPath, JSON.stringify(det))
  const reportPath = join(outDir, `faces-${set}${tag}.report.json`)
  const gtPath = join(facesDataDir(), set, 'faces.json')
  const py = spawnSync('python3', [scorer, 'eval', '--gt', gtPath, '--det', detPath, '--json', reportPath], {
    encoding: 'utf8',
  })
  if (py.status !== 0) {
    console.error(py.stderr)
    process.exit(1)
  }
  if (!flags.quiet) console.log(py.stdout)
  const rep = JSON.parse(readFileSync(reportPath, 'utf8'))
  const perImage = new Map<string, { tp: number; fn: number }>(
    rep.per_image.map((p: { file: string; tp: number; fn: number }) => [p.file, p]),
  )

  // Small faces 6–10 % of the image height (single-face `small` images) and the rotate condition.
  const small = gt.filter((r) => r.category === 'small' && r.faces.length === 1 && r.faces[0]!.h / r.height < 0.1)
  const smallFound = small.reduce((sum, r) => sum + perImage.get(r.file)!.tp, 0)
  const smallRecall = small.length ? smallFound / small.length : null
  const rotate = rep.by_group['hard-rotate/derived']?.recall ?? null

  // 2:3 crops with OUR g_faces window (geometry.ts facesWindow on our detections), next to the
  // scorer's rule (centre of the union of our boxes) and the best any window could do (exhaustive
  // search against the GT boxes: the bound on "every face kept" for a fixed-size c_fill window).
  const rows = gt.filter((r) => r.faces.length > 0).map((r) => cropRow(r, found.get(r.file) ?? []))
  const groups = rows.filter((row) => row.group)
  const crop = rep.crop['2:3']
  const times = Object.values(ms)
  const byGroup = Object.entries(rep.by_group as Record<string, { recall: number | null }>)
  console.log(`== ${set}: ${gt.length} images, ${rep.gt_faces} faces`)
  console.log(
    `recall@IoU.5 ${pct(rep.recall)}  precision ${pct(rep.precision)}  ` +
      `no-face images with FP ${pct(rep.no_face_images_with_fp)}  every face found ${pct(rep.face_images_all_hit)}  ` +
      `mean IoU ${rep.mean_iou_of_tp?.toFixed(3)}`,
  )
  if (set === 'faces-hard') {
    console.log(
      `small 6–10 % (n=${small.length}) ${pct(smallRecall)}  rotate ${pct(rotate)}  ` +
        byGroup.map(([group, result]) => `${group.split('/')[0]} ${pct(result.recall)}`).join('  '),
    )
  }
  console.log(
    `ms/image (detection only, best of ${runs}): mean ${mean(times).toFixed(1)}  ` +
      `median ${median(times).toFixed(1)}  worst ${Math.max(...times).toFixed(1)}   ` +
      `same-run baselines: decode mean ${decodeMs.length ? mean(decodeMs).toFixed(1) : 'cached'}  ` +
      `grey-only mean ${mean(grayMs).toFixed(2)}`,
  )
  console.log(
    `scorer 2:3 (union centre of our boxes): g_faces mean kept ${crop.g_faces.mean_kept.toFixed(4)} ` +
      `every face kept ${pct(crop.g_faces.all_kept)}; g_face ${crop.g_face.mean_kept.toFixed(4)}; ` +
      `centre ${pct(crop.g_center.all_kept)}; oracle ${pct(crop.oracle.all_kept)}`,
  )
  console.log(
    `our g_faces window 2:3: mean kept ${mean(rows.map((row) => row.kept)).toFixed(4)}  ` +
      `every face kept ${pct(rows.filter((row) => row.all).length / rows.length)}`,
  )
  if (groups.length) {
    const share = (keeps: (row: CropRow) => boolean) => pct(groups.filter(keeps).length / groups.length)
    const groupFaces = groups.reduce((sum, row) => sum + row.faces, 0)
    const faceShare = (key: 'whole' | 'unionWhole' | 'boundWhole') =>
      pct(groups.reduce((sum, row) => sum + row[key], 0) / groupFaces)
    console.log(
      `groups 2:3 every face kept: our window ${share((row) => row.all)}, ` +
        `union of our boxes ${share((row) => row.unionAll)}, image centre ${share((row) => row.centreAll)}, ` +
        `best possible window ${share((row) => row.boundAll)}; ` +
        `worse than the centre on ${groups.filter((row) => row.centreAll && !row.all).length} image(s); ` +
        `faces kept whole: our window ${faceShare('whole')}, union ${faceShare('unionWhole')}, ` +
        `best possible ${faceShare('boundWhole')} (of ${groupFaces})`,
    )
  }
}
