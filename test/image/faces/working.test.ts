/** The working image (working.ts): reduction, flat-window threshold, fill outside, padding. */
import { describe, expect, test } from 'bun:test'
import type { Gray } from '../../../src/image/faces/haar.ts'
import { DEFAULT_TUNING, resolveTuning } from '../../../src/image/faces/tuning.ts'
import { greyStats, padGray, prepareWorkingImage, reductionFor } from '../../../src/image/faces/working.ts'
import { greyBitmap } from './bitmaps.ts'

describe('prepareWorkingImage', () => {
  test('reduced so the smallest face searched fills the 20-px cascade window', () => {
    const work = prepareWorkingImage(
      greyBitmap(1000, 800, () => 100),
      DEFAULT_TUNING,
    )
    const reduction = (0.055 * 800 * 0.84) / 20
    expect(reductionFor(1000, 800, DEFAULT_TUNING)).toBeCloseTo(reduction, 12)
    expect(work.gray.width).toBe(Math.round(1000 / reduction))
    expect(work.gray.height).toBe(Math.round(800 / reduction))
    expect(work.sourcePerPixel).toBe(1000 / work.gray.width)
    expect(work.shortSide).toBeCloseTo(800 / work.sourcePerPixel, 9)
    expect(work.mean).toBeCloseTo(100, 4)
    expect(work.octaves.forReduction(1).image).toBe(work.gray)
  })

  test('never enlarged: a small image is searched at its own size', () => {
    const work = prepareWorkingImage(
      greyBitmap(200, 150, () => 50),
      DEFAULT_TUNING,
    )
    expect([work.gray.width, work.gray.height, work.sourcePerPixel]).toEqual([200, 150, 1])
    expect(reductionFor(200, 150, DEFAULT_TUNING)).toBe(1)
  })

  test('a larger minFace reduces more', () => {
    const tuning = resolveTuning({ minFace: 0.2 })
    expect(reductionFor(1000, 800, tuning)).toBeCloseTo((0.2 * 800 * 0.84) / 20, 12)
  })

  test('flat windows: a share of the image σ, at most the absolute floor', () => {
    // Stripes 0/40 (σ 20): the share (0.15 × 20 = 3) is below the floor of 6.
    const faint = prepareWorkingImage(
      greyBitmap(300, 300, (x) => (x % 2 ? 40 : 0)),
      DEFAULT_TUNING,
    )
    expect(faint.minStd).toBeCloseTo(0.15 * 20, 1)
    // Stripes 0/200 (σ 100): the floor.
    const strong = prepareWorkingImage(
      greyBitmap(300, 300, (x) => (x % 2 ? 200 : 0)),
      DEFAULT_TUNING,
    )
    expect(strong.minStd).toBe(6)
  })

  test('outside the image: the nearest edge pixel by default, else the mean grey', () => {
    const bitmap = greyBitmap(100, 100, () => 80)
    expect(prepareWorkingImage(bitmap, DEFAULT_TUNING).outside).toBeLessThan(0)
    expect(prepareWorkingImage(bitmap, resolveTuning({ tuning: { replicateEdges: false } })).outside).toBeCloseTo(80, 4)
  })
})

describe('padGray', () => {
  const image: Gray = { width: 2, height: 2, data: Float32Array.from([1, 2, 3, 4]) }
  test('replicates the edge pixels', () => {
    const padded = padGray(image, 1, 1, -1)
    expect([padded.width, padded.height]).toEqual([4, 4])
    expect(Array.from(padded.data)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
  })
  test('or fills with a grey level', () => {
    expect(Array.from(padGray(image, 1, 0, 9).data)).toEqual([9, 1, 2, 9, 9, 3, 4, 9])
  })
})

test('greyStats: mean and σ from a sample of the pixels', () => {
  const image: Gray = { width: 9, height: 9, data: new Float32Array(81).fill(7) }
  expect(greyStats(image)).toEqual({ mean: 7, std: 0 })
})
