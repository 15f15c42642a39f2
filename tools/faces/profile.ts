/**
 * Per-phase profile of the detector on the face sets (dev tool): detection time per image (best
 * of --runs), then the phase times and counters of one more run per image, averaged over all
 * images and over the images without a face. `--dump FILE` writes every result, for an exact
 * before/after comparison.
 *
 *   FACES_CACHE=/tmp/dir bun run tools/faces/profile.ts [--set all] [--runs 3] [--dump out.json] [--mirror]
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { detectFaces, newDetectStats } from '../../src/image/faces/index.ts'
import { addDetectStats } from '../../src/image/faces/stats.ts'
import type { Bitmap } from '../../src/image/types.ts'
import { loadBitmap, pickSets, readGroundTruth, requireFaceData } from './images.ts'
import { statsPerImage } from './stats-report.ts'

const { values: flags } = parseArgs({
  options: {
    set: { type: 'string', default: 'all' },
    runs: { type: 'string', default: '3' },
    dump: { type: 'string' },
    mirror: { type: 'boolean', default: false },
  },
})
const runs = Number(flags.runs)
const sets = pickSets(flags.set)
requireFaceData(sets)

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length

const results: Record<string, unknown> = {}
for (const set of sets) {
  const groundTruth = readGroundTruth(set)
  const bitmaps: Bitmap[] = []
  for (const image of groundTruth) bitmaps.push(await loadBitmap(set, image.file, { mirror: flags.mirror }))
  for (const bitmap of bitmaps.slice(0, 3)) detectFaces(bitmap) // warm-up
  const totals = newDetectStats()
  const noFaceTotals = newDetectStats()
  const allMs: number[] = []
  const noFaceMs: number[] = []
  groundTruth.forEach((image, index) => {
    const bitmap = bitmaps[index]!
    let bestMs = Infinity
    let faces: unknown
    for (let run = 0; run < runs; run++) {
      const start = performance.now()
      faces = detectFaces(bitmap)
      bestMs = Math.min(bestMs, performance.now() - start)
    }
    // One more run with a stats sink, so that the timed runs above measure production's path.
    const stats = newDetectStats()
    detectFaces(bitmap, { stats })
    const noFace = image.faces.length === 0
    addDetectStats(totals, stats)
    if (noFace) addDetectStats(noFaceTotals, stats)
    allMs.push(bestMs)
    if (noFace) noFaceMs.push(bestMs)
    results[`${set}/${image.file}`] = faces
  })
  const sorted = [...allMs].sort((a, b) => a - b)
  console.log(
    `${set}: mean ${mean(allMs).toFixed(2)} median ${sorted[sorted.length >> 1]!.toFixed(2)}` +
      ` max ${sorted[sorted.length - 1]!.toFixed(2)}  no-face n=${noFaceMs.length} mean ${mean(noFaceMs).toFixed(2)}`,
  )
  console.log('  no-face per image:', statsPerImage(noFaceTotals, noFaceMs.length))
  console.log('  per image:', statsPerImage(totals, groundTruth.length))
}
if (flags.dump) writeFileSync(flags.dump, JSON.stringify(results))
