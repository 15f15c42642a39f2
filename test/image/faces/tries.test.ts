/**
 * The tries (tries.ts): a tilted face is found on a turned copy, a face in deep shadow on a
 * brightened copy; both only run when no confident face of their size was found.
 */
import { describe, expect, test } from 'bun:test'
import { newDetectStats } from '../../../src/image/faces/stats.ts'
import { brightenedCopy, triedWindow, tryBrightened, tryRotations } from '../../../src/image/faces/tries.ts'
import { DEFAULT_TUNING, resolveTuning } from '../../../src/image/faces/tuning.ts'
import type { Candidate } from '../../../src/image/faces/verify.ts'
import { prepareWorkingImage } from '../../../src/image/faces/working.ts'
import { haveFaceData, loadFaceImage } from '../../support/face-data.ts'
import { candidateAt, inside, noiseBitmap } from './bitmaps.ts'

const tuning = DEFAULT_TUNING

describe.skipIf(!haveFaceData())('tries on photographs', () => {
  test('rotation: a face turned 33° gives a confident candidate with its tilt', async () => {
    const { bitmap, truth } = await loadFaceImage('faces-hard', 'hard-rotate_022.jpg')
    const work = prepareWorkingImage(bitmap, tuning)
    const candidates: Candidate[] = []
    tryRotations(work, { tuning, candidates })
    const confident = candidates.filter((candidate) => candidate.score >= tuning.confidentScore)
    expect(confident.length).toBe(1)
    expect(Math.abs(confident[0]!.angle)).toBeGreaterThanOrEqual(20)
    const centre = { x: confident[0]!.cx * work.sourcePerPixel, y: confident[0]!.cy * work.sourcePerPixel }
    expect(inside(centre, truth.faces[0]!)).toBe(true)
  })

  test('brightened: a face half in deep shadow gives a confident upright candidate', async () => {
    const { bitmap, truth } = await loadFaceImage('faces-hard', 'hard-sidelight_016.jpg')
    const work = prepareWorkingImage(bitmap, tuning)
    const candidates: Candidate[] = []
    tryBrightened(work, { tuning, candidates })
    const confident = candidates.filter((candidate) => candidate.score >= tuning.confidentScore)
    expect(confident.length).toBe(1)
    expect(confident[0]!.angle).toBe(0)
    const centre = { x: confident[0]!.cx * work.sourcePerPixel, y: confident[0]!.cy * work.sourcePerPixel }
    expect(inside(centre, truth.faces[0]!)).toBe(true)
  })
})

describe('when the tries run (synthetic texture)', () => {
  const work = prepareWorkingImage(noiseBitmap(320, 240), tuning)
  const bigConfident = () => candidateAt({ cx: 160, cy: 120, side: triedWindow(work, tuning), score: 0.99 })

  test('with nothing confident found, both run', () => {
    const stats = newDetectStats()
    tryRotations(work, { tuning, candidates: [], stats })
    tryBrightened(work, { tuning, candidates: [], stats })
    expect(stats.rotatedWindows).toBeGreaterThan(0)
    expect(stats.brightenedWindows).toBeGreaterThan(0)
  })

  test('not when a confident face of their size was found, unless exhaustive', () => {
    const skipped = newDetectStats()
    tryRotations(work, { tuning, candidates: [bigConfident()], stats: skipped })
    tryBrightened(work, { tuning, candidates: [bigConfident()], stats: skipped })
    expect([skipped.rotatedWindows, skipped.brightenedWindows]).toEqual([0, 0])
    const exhaustive = newDetectStats()
    tryRotations(work, { tuning, candidates: [bigConfident()], exhaustive: true, stats: exhaustive })
    tryBrightened(work, { tuning, candidates: [bigConfident()], exhaustive: true, stats: exhaustive })
    expect(exhaustive.rotatedWindows).toBeGreaterThan(0)
    expect(exhaustive.brightenedWindows).toBeGreaterThan(0)
  })

  test('a smaller confident face does not stop them', () => {
    const stats = newDetectStats()
    const small = { ...bigConfident(), side: triedWindow(work, tuning) / 2 }
    tryRotations(work, { tuning, candidates: [small], stats })
    expect(stats.rotatedWindows).toBeGreaterThan(0)
  })

  test('no angles, no gammas: nothing tried', () => {
    const stats = newDetectStats()
    const none = resolveTuning({ angles: [], gammas: [] })
    tryRotations(work, { tuning: none, candidates: [], stats })
    tryBrightened(work, { tuning: none, candidates: [], stats })
    expect([stats.rotatedWindows, stats.brightenedWindows]).toEqual([0, 0])
  })
})

test('brightenedCopy: the gamma curve lifts the shadows, with its own statistics', () => {
  const gray = { width: 3, height: 1, data: Float32Array.from([0, 63.75, 255]) }
  const brightened = brightenedCopy(gray, 0.5, tuning)
  expect(Array.from(brightened.gray.data).map((value) => Math.round(value * 100) / 100)).toEqual([0, 127.5, 255])
  expect(brightened.outside).toBeLessThan(0)
  expect(brightened.octaves.forReduction(1).image).toBe(brightened.gray)
})
