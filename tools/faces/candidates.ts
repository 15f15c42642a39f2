/**
 * Calibration helper (dev tool): every candidate the detector scores on a face set, one JSON line
 * each, with its evidence and the ground-truth face its mapped box matches best (IoU); the phase
 * times and counters per image go to stderr.
 *
 *   bun run tools/faces/candidates.ts [--set faces] [--mirror] > /tmp/candidates.jsonl
 */
import { parseArgs } from 'node:util'
import { iou } from '../../src/image/faces/group.ts'
import { detectCandidates, mapBox, type DetectStats } from '../../src/image/faces/index.ts'
import { resolveTuning, type Tuning } from '../../src/image/faces/tuning.ts'
import { loadBitmap, pickSets, readGroundTruth, requireFaceData } from './images.ts'

const { values: flags } = parseArgs({
  options: {
    set: { type: 'string', default: 'faces' },
    mirror: { type: 'boolean', default: false },
  },
})
/** Tuning overrides, e.g. FACES_TUNING='{"flatStd":4}'. */
const overrides = process.env.FACES_TUNING ? (JSON.parse(process.env.FACES_TUNING) as Partial<Tuning>) : undefined
const tuning = resolveTuning({ tuning: overrides })
if (flags.set === 'all') throw new Error('one set at a time')
const set = pickSets(flags.set)[0]!
requireFaceData([set])

const stats: DetectStats =
  { gray: 0, probe: 0, probeFine: 0, rotate: 0, focus: 0, seeds: 0, candidates: 0, windows: 0, rotWindows: 0 }
const groundTruth = readGroundTruth(set)
for (const image of groundTruth) {
  const bitmap = await loadBitmap(set, image.file, { mirror: flags.mirror })
  const { candidates, k } = detectCandidates(bitmap, { tuning: overrides, stats })
  // Mirrored input: candidates mirrored back onto the ground truth.
  if (flags.mirror) for (const candidate of candidates) candidate.cx = bitmap.width / k - candidate.cx
  for (const candidate of candidates) {
    const source = { cx: candidate.cx * k, cy: candidate.cy * k, side: candidate.side * k }
    const box = mapBox({ ...source, angle: candidate.angle }, image.width, image.height, tuning)
    let bestIou = 0
    let bestFace = -1
    image.faces.forEach((face, index) => {
      const overlap = iou(box, face)
      if (overlap > bestIou) {
        bestIou = overlap
        bestFace = index
      }
    })
    console.log(JSON.stringify({
      file: image.file,
      gi: bestFace,
      iou: Math.round(bestIou * 1000) / 1000,
      relSide: source.side / Math.min(image.width, image.height),
      src: source,
      gt: image.faces[bestFace],
      ...candidate,
    }))
  }
}
const perImage = Object.entries(stats).map(([name, total]) =>
  [name, Math.round((total / groundTruth.length) * 100) / 100])
console.error(JSON.stringify(Object.fromEntries(perImage)))
