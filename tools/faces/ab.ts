/**
 * Paired A/B timing (dev tool): this checkout's detector against another copy of it, alternating
 * per image in one process (best of --runs each), so drifts in machine load hit both alike. Also
 * counts the images on which the two return different boxes.
 *
 *   FACES_AB_OTHER=/elsewhere/src/image/faces/index.ts bun run tools/faces/ab.ts [--runs 3] [--set all] [--mirror]
 */
import { parseArgs } from 'node:util'
import { detectFaces } from '../../src/image/faces/index.ts'
import type { Bitmap } from '../../src/image/types.ts'
import { loadBitmap, pickSets, readGroundTruth, requireFaceData } from './images.ts'

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    set: { type: 'string', default: 'all' },
    mirror: { type: 'boolean', default: false },
  },
})
const otherPath = process.env.FACES_AB_OTHER
if (!otherPath) throw new Error('FACES_AB_OTHER must name the other copy of src/image/faces/index.ts')
const otherDetect = (await import(otherPath)).detectFaces as (bitmap: Bitmap) => unknown
const runs = Number(flags.runs)
const sets = pickSets(flags.set)
requireFaceData(sets)

const mean = (values: number[]) => (values.reduce((sum, value) => sum + value, 0) / values.length).toFixed(2)
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!.toFixed(2)
const worst = (values: number[]) => Math.max(...values).toFixed(1)
const summary = (all: number[], noFace: number[]) =>
  `mean ${mean(all)} median ${median(all)} max ${worst(all)} no-face ${mean(noFace)}`

/** One timed call. */
function timed(detect: (bitmap: Bitmap) => unknown, bitmap: Bitmap): { ms: number; result: unknown } {
  const start = performance.now()
  const result = detect(bitmap)
  return { ms: performance.now() - start, result }
}

for (const set of sets) {
  const groundTruth = readGroundTruth(set)
  const bitmaps: Bitmap[] = []
  for (const image of groundTruth) bitmaps.push(await loadBitmap(set, image.file, { mirror: flags.mirror }))
  // Warm-up (JIT, cascade decoding and compilation) for both.
  for (const bitmap of bitmaps.slice(0, 3)) {
    detectFaces(bitmap)
    otherDetect(bitmap)
  }
  const thisMs: number[] = []
  const otherMs: number[] = []
  const thisNoFaceMs: number[] = []
  const otherNoFaceMs: number[] = []
  let differing = 0
  bitmaps.forEach((bitmap, index) => {
    // Runs alternate between the two, so both see the same machine; each keeps its best.
    let mine = timed(detectFaces, bitmap)
    let theirs = timed(otherDetect, bitmap)
    for (let run = 1; run < runs; run++) {
      const mineAgain = timed(detectFaces, bitmap)
      const theirsAgain = timed(otherDetect, bitmap)
      if (mineAgain.ms < mine.ms) mine = mineAgain
      if (theirsAgain.ms < theirs.ms) theirs = theirsAgain
    }
    if (JSON.stringify(mine.result) !== JSON.stringify(theirs.result)) differing++
    thisMs.push(mine.ms)
    otherMs.push(theirs.ms)
    if (groundTruth[index]!.faces.length === 0) {
      thisNoFaceMs.push(mine.ms)
      otherNoFaceMs.push(theirs.ms)
    }
  })
  console.log(
    `${set}: this ${summary(thisMs, thisNoFaceMs)} | other ${summary(otherMs, otherNoFaceMs)}` +
      ` | images with different boxes: ${differing}`,
  )
}
