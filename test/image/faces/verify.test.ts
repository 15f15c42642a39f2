/**
 * Verification (verify.ts): a seed on a face becomes a confident candidate, one on background
 * does not; seeds already explained are skipped; uncertain candidates are rescanned and their
 * eyes checked; the score is the calibrated logistic of the evidence.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { detectFaces, findCandidates } from '../../../src/image/faces/index.ts'
import { probeLargeFaces } from '../../../src/image/faces/probe.ts'
import { newDetectStats } from '../../../src/image/faces/stats.ts'
import { DEFAULT_TUNING } from '../../../src/image/faces/tuning.ts'
import { iou } from '../../../src/image/faces/group.ts'
import {
  scoreCandidate,
  squareBox,
  verifySeeds,
  weightedMean,
  type Candidate,
} from '../../../src/image/faces/verify.ts'
import { prepareWorkingImage, type WorkingImage } from '../../../src/image/faces/working.ts'
import type { Rect } from '../../../src/image/types.ts'
import { haveFaceData, loadFaceImage } from '../../support/face-data.ts'
import { candidateAt } from './bitmaps.ts'

const tuning = DEFAULT_TUNING

describe('scoreCandidate', () => {
  const evidence = { windows: 6, margin: 0.5, secondOpinion: 2, eyes: -1 }
  test('the logistic of the weighted evidence', () => {
    const logit = 2.553 * Math.log2(7) + 1.722 * 0.5 + 0.749 * Math.log2(3) - 8.458
    expect(scoreCandidate(evidence, tuning)).toBeCloseTo(1 / (1 + Math.exp(-logit)), 12)
  })
  test('more evidence, a higher score', () => {
    const base = scoreCandidate(evidence, tuning)
    expect(scoreCandidate({ ...evidence, windows: 12 }, tuning)).toBeGreaterThan(base)
    expect(scoreCandidate({ ...evidence, margin: 1 }, tuning)).toBeGreaterThan(base)
    expect(scoreCandidate({ ...evidence, secondOpinion: 6 }, tuning)).toBeGreaterThan(base)
  })
  test('eyes, when checked: two raise the score, one or none lower it', () => {
    const unchecked = scoreCandidate(evidence, tuning)
    expect(scoreCandidate({ ...evidence, eyes: 2 }, tuning)).toBeGreaterThan(unchecked)
    expect(scoreCandidate({ ...evidence, eyes: 1 }, tuning)).toBeLessThan(unchecked)
    expect(scoreCandidate({ ...evidence, eyes: 0 }, tuning)).toBeLessThan(unchecked)
  })
})

test('weightedMean: windows weighted by 1 + their positive score; the best margin', () => {
  const mean = weightedMean([
    { cx: 10, cy: 20, side: 30, score: 1 },
    { cx: 40, cy: 50, side: 60, score: -0.5 },
  ])
  expect(mean).toEqual({ cx: (10 * 2 + 40) / 3, cy: (20 * 2 + 50) / 3, side: (30 * 2 + 60) / 3, margin: 1 })
})

describe.skipIf(!haveFaceData())('verifySeeds on a portrait', () => {
  let work: WorkingImage
  let face: Rect
  beforeAll(async () => {
    const portrait = await loadFaceImage('faces', 'london_001.jpg')
    work = prepareWorkingImage(portrait.bitmap, tuning)
    face = portrait.truth.faces[0]!
  })
  /** A candidate's square in bitmap pixels. */
  const inBitmap = (candidate: Candidate) => {
    const { x, y, w, h } = squareBox(candidate)
    const scale = work.sourcePerPixel
    return { x: x * scale, y: y * scale, w: w * scale, h: h * scale }
  }

  test('the seeds on the face give one confident candidate there, with all its evidence', () => {
    const candidates: Candidate[] = []
    verifySeeds(probeLargeFaces(work, { tuning, candidates }), { source: work, tuning, candidates })
    const confident = candidates.filter((candidate) => candidate.score >= tuning.confidentScore)
    expect(confident.length).toBe(1)
    // The Haar square is wider than the hairline-to-chin box: they overlap well, not exactly.
    expect(iou(inBitmap(confident[0]!), face)).toBeGreaterThan(0.5)
    const { windows, margin, secondOpinion, eyes } = confident[0]!
    expect(windows).toBeGreaterThanOrEqual(tuning.focusEnoughWindows)
    expect(margin).toBeGreaterThan(0)
    // The default cascade agrees; a certain face needs no eye check.
    expect(secondOpinion).toBeGreaterThan(0)
    expect(eyes).toBe(-1)
  })

  test('a seed on the background gives nothing confident', () => {
    const candidates: Candidate[] = []
    const corner = { cx: 40, cy: 40, side: 50, angle: 0, windows: 3, stages: 20 }
    verifySeeds([corner], { source: work, tuning, candidates })
    expect(candidates.every((candidate) => candidate.score < 0.5)).toBe(true)
  })

  test('a seed inside a confident candidate is not examined again', () => {
    const face = candidateAt({ cx: 100, cy: 100, side: 80, score: 0.99 })
    const candidates = [face]
    const stats = newDetectStats()
    const seed = { cx: 100, cy: 105, side: 60, angle: 0, windows: 3, stages: 20 }
    verifySeeds([seed], { source: work, tuning, candidates, stats })
    expect(candidates).toEqual([face])
    expect(stats.seeds).toBe(0)
  })
})

describe.skipIf(!haveFaceData())('rescan of uncertain candidates', () => {
  test('a face whose first evidence is uncertain is rescanned, shows two eyes, and is reported', async () => {
    const { bitmap, truth } = await loadFaceImage('faces', 'london_042.jpg')
    const [candidate] = findCandidates(bitmap).candidates.filter((found) => found.score >= tuning.minScore)
    expect(candidate!.eyes).toBe(2)
    expect(detectFaces(bitmap).length).toBe(truth.faces.length)
    // Without the rescan (nothing counts as uncertain) this face is not reported.
    expect(detectFaces(bitmap, { tuning: { uncertainAbove: 1 } })).toEqual([])
  })
})
