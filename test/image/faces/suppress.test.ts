/** The last word on candidates (suppress.ts): one per face, no body parts under a face. */
import { describe, expect, test } from 'bun:test'
import { findCandidates } from '../../../src/image/faces/index.ts'
import { iou, overlapSmall } from '../../../src/image/faces/group.ts'
import { dropBodiesUnderFaces, isBodyUnderFace, suppressOverlaps } from '../../../src/image/faces/suppress.ts'
import { DEFAULT_TUNING } from '../../../src/image/faces/tuning.ts'
import { squareBox } from '../../../src/image/faces/verify.ts'
import { haveFaceData, loadFaceImage, type FaceSet } from '../../support/face-data.ts'
import { candidateAt } from './bitmaps.ts'

const tuning = DEFAULT_TUNING

describe('suppressOverlaps', () => {
  test('of overlapping candidates the best-scored stays; separate ones stay too', () => {
    const weaker = candidateAt({ cx: 100, cy: 100, side: 80, score: 0.7 })
    const better = candidateAt({ cx: 110, cy: 105, side: 80, score: 0.95 })
    const elsewhere = candidateAt({ cx: 400, cy: 100, side: 60, score: 0.2 })
    expect(suppressOverlaps([weaker, better, elsewhere], tuning)).toEqual([better, elsewhere])
  })
  test('a small candidate mostly inside a larger one is the same face', () => {
    const face = candidateAt({ cx: 100, cy: 100, side: 100, score: 0.99 })
    const part = candidateAt({ cx: 90, cy: 90, side: 40, score: 0.5 })
    expect(suppressOverlaps([part, face], tuning)).toEqual([face])
  })
})

describe('bodies under faces', () => {
  const face = candidateAt({ cx: 200, cy: 100, side: 100, score: 0.99 })
  const chest = candidateAt({ cx: 205, cy: 220, side: 50, score: 0.6 })

  test('an uncertain small candidate below a confident face is its body', () => {
    expect(isBodyUnderFace(chest, face, tuning)).toBe(true)
    expect(dropBodiesUnderFaces([face, chest], tuning)).toEqual([face])
  })
  test('kept when certain, beside the face, too large, or under an uncertain face', () => {
    expect(dropBodiesUnderFaces([face, { ...chest, score: 0.96 }], tuning).length).toBe(2)
    expect(isBodyUnderFace({ ...chest, cx: 320 }, face, tuning)).toBe(false)
    expect(isBodyUnderFace({ ...chest, side: 80 }, face, tuning)).toBe(false)
    expect(isBodyUnderFace(chest, { ...face, score: 0.5 }, tuning)).toBe(false)
  })
  test('"below" is in the face\'s own frame: a face turned 90° has its body to the side', () => {
    const turned = { ...face, angle: 90 }
    expect(isBodyUnderFace({ ...chest, cx: 320, cy: 100 }, turned, tuning)).toBe(true)
    expect(isBodyUnderFace(chest, turned, tuning)).toBe(false)
  })
})

describe.skipIf(!haveFaceData())('in the pipeline', () => {
  // Images whose candidates overlap each other or sit under a face before this phase.
  test.each<[FaceSet, string]>([
    ['faces', 'london_008.jpg'],
    ['faces', 'composite_m_wasian_v1.jpg'],
    ['faces-hard', 'groups_006.jpg'],
  ])('%s/%s: no two candidates on one face, nothing under a face', async (set, file) => {
    const { bitmap } = await loadFaceImage(set, file)
    const { candidates } = findCandidates(bitmap)
    for (const candidate of candidates) {
      for (const other of candidates) {
        if (other === candidate) continue
        expect(iou(squareBox(candidate), squareBox(other))).toBeLessThanOrEqual(0.3)
        expect(overlapSmall(squareBox(candidate), squareBox(other))).toBeLessThanOrEqual(tuning.sameFaceOverlap)
        if (candidate.score < tuning.certainFrom) expect(isBodyUnderFace(candidate, other, tuning)).toBe(false)
      }
    }
  })
})
