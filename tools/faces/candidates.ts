/**
 * Calibration helper (dev tool): every candidate the detector scores on a face set, one JSON line
 * each, with its evidence and the ground-truth face its mapped box matches best (IoU); the mean
 * phase times and counters per image go to stderr.
 *
 *   bun run tools/faces/candidates.ts [--set faces] [--mirror] > /tmp/candidates.jsonl
 */
import { parseArgs } from 'node:util'
import { iou } from '../../src/image/faces/group.ts'
import { findCandidates, mapToHairlineChin, newDetectStats } from '../../src/image/faces/index.ts'
import { resolveTuning, type Tuning } from '../../src/image/faces/tuning.ts'
import { statsPerImage } from './stats-report.ts'
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

const stats = newDetectStats()
const groundTruth = readGroundTruth(set)
for (const image of groundTruth) {
  const bitmap = await loadBitmap(set, image.file, { mirror: flags.mirror })
  const { candidates, sourcePerPixel } = findCandidates(bitmap, { tuning: overrides, stats })
  // Mirrored input: candidates mirrored back onto the ground truth.
  if (flags.mirror) for (const candidate of candidates) candidate.cx = bitmap.width / sourcePerPixel - candidate.cx
  for (const candidate of candidates) {
    const toSource = (value: number) => value * sourcePerPixel
    const source = { cx: toSource(candidate.cx), cy: toSource(candidate.cy), side: toSource(candidate.side) }
    const box = mapToHairlineChin({ ...source, angle: candidate.angle }, image, tuning)
    let bestIou = 0
    let bestFace = -1
    image.faces.forEach((face, index) => {
      const overlap = iou(box, face)
      if (overlap > bestIou) {
        bestIou = overlap
        bestFace = index
      }
    })
    console.log(
      JSON.stringify({
        file: image.file,
        gi: bestFace,
        iou: Math.round(bestIou * 1000) / 1000,
        relSide: source.side / Math.min(image.width, image.height),
        src: source,
        gt: image.faces[bestFace],
        ...candidate,
      }),
    )
  }
}
console.error(statsPerImage(stats, groundTruth.length))
