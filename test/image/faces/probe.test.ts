/**
 * The probe (probe.ts): seeds where the faces are, large faces on the padded image, small faces
 * down to a share of the largest confident one. Real photographs where a face is needed (skipped
 * without the face data); the shortcuts on synthetic texture.
 */
import { describe, expect, test } from 'bun:test'
import { iou } from '../../../src/image/faces/group.ts'
import { detectFaces } from '../../../src/image/faces/index.ts'
import { probeLargeFaces, probeSeeds, probeSmallFaces, type Seed } from '../../../src/image/faces/probe.ts'
import { newDetectStats } from '../../../src/image/faces/stats.ts'
import { DEFAULT_TUNING } from '../../../src/image/faces/tuning.ts'
import { prepareWorkingImage, type WorkingImage } from '../../../src/image/faces/working.ts'
import type { Rect } from '../../../src/image/types.ts'
import { haveFaceData, loadFaceImage } from '../../support/face-data.ts'
import { candidateAt, cropBitmap, inside, noiseBitmap } from './bitmaps.ts'

const tuning = DEFAULT_TUNING

/** Seeds whose centre (in bitmap pixels) lies in the face box and whose side is about the face's. */
function seedsOn(face: Rect, seeds: readonly Seed[], work: WorkingImage): Seed[] {
  return seeds.filter((seed) => {
    const centre = { x: seed.cx * work.sourcePerPixel, y: seed.cy * work.sourcePerPixel }
    const side = seed.side * work.sourcePerPixel
    return inside(centre, face) && side > 0.6 * face.h && side < 1.6 * face.h
  })
}

describe.skipIf(!haveFaceData())('probe on photographs', () => {
  test('large faces: a portrait gets a seed on its face; a small face gets none there', async () => {
    const { bitmap, truth } = await loadFaceImage('faces', 'london_001.jpg')
    const work = prepareWorkingImage(bitmap, tuning)
    expect(seedsOn(truth.faces[0]!, probeLargeFaces(work, { tuning, candidates: [] }), work).length).toBeGreaterThan(0)
    const small = await loadFaceImage('faces-hard', 'small_017.jpg')
    const smallWork = prepareWorkingImage(small.bitmap, tuning)
    const smallSeeds = probeLargeFaces(smallWork, { tuning, candidates: [] })
    expect(seedsOn(small.truth.faces[0]!, smallSeeds, smallWork)).toEqual([])
  })

  test('small faces: a face 6.6 % of the image height gets a seed', async () => {
    const { bitmap, truth } = await loadFaceImage('faces-hard', 'small_017.jpg')
    const work = prepareWorkingImage(bitmap, tuning)
    const seeds = probeSmallFaces(work, { tuning, candidates: [] })
    expect(seedsOn(truth.faces[0]!, seeds, work).length).toBeGreaterThan(0)
  })

  test('the large-face probe pads the image: a face cut by the edge is still found', async () => {
    const { bitmap, truth } = await loadFaceImage('faces', 'london_001.jpg')
    const face = truth.faces[0]!
    // A fifth of the face is cut off on the left.
    const left = Math.round(face.x + 0.2 * face.w)
    const cut = cropBitmap(bitmap, left, 0, bitmap.width - left, bitmap.height)
    const found = detectFaces(cut)
    expect(found.length).toBe(1)
    expect(iou(found[0]!, { ...face, x: 0, w: face.w - (left - face.x) })).toBeGreaterThan(0.5)
    expect(detectFaces(cut, { tuning: { padSides: 0, padTopBottom: 0 } })).toEqual([])
  })
})

describe('probe shortcuts (synthetic texture)', () => {
  const work = prepareWorkingImage(noiseBitmap(400, 300), tuning)

  test('small faces are searched when nothing confident was found', () => {
    const stats = newDetectStats()
    probeSmallFaces(work, { tuning, candidates: [], stats })
    expect(stats.uprightWindows).toBeGreaterThan(0)
  })

  test('not below a share of the largest confident face; `exhaustive` searches anyway', () => {
    // A confident face this large (a fifth of it is the large faces' smallest window) leaves no
    // level of the small-face ladder to scan.
    const large = candidateAt({ cx: 200, cy: 150, side: 5 * 0.2 * work.shortSide, score: 0.99 })
    const skipped = newDetectStats()
    expect(probeSmallFaces(work, { tuning, candidates: [large], stats: skipped })).toEqual([])
    expect(skipped.uprightWindows).toBe(0)
    const exhaustive = newDetectStats()
    probeSmallFaces(work, { tuning, candidates: [large], exhaustive: true, stats: exhaustive })
    expect(exhaustive.uprightWindows).toBeGreaterThan(0)
    // An uncertain candidate does not count.
    const doubtful = newDetectStats()
    probeSmallFaces(work, { tuning, candidates: [{ ...large, score: 0.5 }], stats: doubtful })
    expect(doubtful.uprightWindows).toBeGreaterThan(0)
  })
})

describe.skipIf(!haveFaceData())('probeSeeds', () => {
  test('maps seeds back through `toWorking` and `scale`', async () => {
    const { bitmap } = await loadFaceImage('faces', 'london_001.jpg')
    const work = prepareWorkingImage(bitmap, tuning)
    const options = {
      minWindow: 40,
      maxWindow: Infinity,
      scaleFactor: 1.1,
      step: 2,
      minStages: 20,
      minStd: work.minStd,
      octaves: work.octaves,
      angle: 0,
      mergeEps: tuning.seedMergeEps,
    }
    const plain = probeSeeds(work.gray, options)
    expect(plain.length).toBeGreaterThan(0)
    const moved = probeSeeds(work.gray, { ...options, angle: 7, scale: 2, toWorking: (x, y) => [x + 10, y - 5] })
    const expected = plain.map((seed) => ({
      ...seed,
      cx: seed.cx + 10,
      cy: seed.cy - 5,
      side: seed.side / 2,
      angle: 7,
    }))
    expect(moved).toEqual(expected)
  })
})
