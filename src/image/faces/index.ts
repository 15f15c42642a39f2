/**
 * In-house face detector: pure TypeScript, synchronous, deterministic, no run-time downloads.
 * Trained data: OpenCV's BSD-licensed Haar cascades (alt2, default, eye), embedded (see
 * CASCADES-LICENSE.txt); everything else is our own pipeline on top, one module per phase:
 *
 *  1. working.ts: grey image, area-reduced so the smallest face we look for (`minFace`) spans
 *     the cascade's 20-px window. Flat windows (σ below a share of the image's σ) are never
 *     evaluated.
 *  2. probe.ts: Viola–Jones with `alt2` over an image pyramid built from 2× octaves, coarse to
 *     fine: large faces first (small levels, scanned densely, image padded so faces at an edge
 *     fit), then small faces on a sparse ladder, only down to 1/5 of the largest confident face.
 *     Windows that get deep into the cascade become seeds.
 *  3. verify.ts: focused pass per seed (a dense multi-scale scan on a small patch turned with the
 *     seed; the accepted windows give the evidence and the square), second opinion by `default`,
 *     a rescan and an eye check (`eye`) for uncertain candidates; a calibrated score.
 *  4. tries.ts: rotation tries (±22°, ±35°) on turned, reduced copies and a brightened try
 *     (gamma 0.5), both only for large faces and only when no confident upright face of that
 *     size was found.
 *  5. suppress.ts: overlap suppression, no body parts below a face.
 *  6. box.ts: the square mapped by a fixed geometric rule to the hairline-to-chin, cheek-to-cheek
 *     box (w/h ≈ 0.73) of our data sets; tilted: its axis-aligned hull.
 * Every constant is in tuning.ts (frozen; overrides per call); stats.ts serves the tools.
 */
import type { Bitmap, Rect } from '../types.ts'
import { mapToHairlineChin } from './box.ts'
import { probeLargeFaces, probeSmallFaces, type PhaseOptions } from './probe.ts'
import { PhaseClock, type DetectStats } from './stats.ts'
import { dropBodiesUnderFaces, suppressOverlaps } from './suppress.ts'
import { tryBrightened, tryRotations } from './tries.ts'
import { resolveTuning, type Tuning, type TuningShortcuts } from './tuning.ts'
import { verifySeeds, type Candidate } from './verify.ts'
import { prepareWorkingImage, reductionFor } from './working.ts'

export { mapToHairlineChin } from './box.ts'
export { newDetectStats, type DetectStats } from './stats.ts'
export { DEFAULT_TUNING, type Tuning } from './tuning.ts'
export type { Candidate } from './verify.ts'

export interface DetectedFace extends Rect {
  /** Confidence in 0–1, higher is surer. */
  score: number
  /** In-plane tilt in degrees when found by a rotation try (0 = upright pass). */
  angle: number
}

/**
 * The named options are the public contract (defaults in DEFAULT_TUNING):
 * `minFace` — smallest face to look for: its box height (hairline to chin) as a share of the
 * image's shorter side (default 0.055: faces from about 6 % of the height of a landscape photo);
 * `minRotatedFace` — smallest face for the rotation and brightened tries, same unit (0.25);
 * `angles` — the rotation tries in degrees (±22, ±35), [] to disable; `gammas` — the brightened
 * tries ([0.5]), [] to disable; `minScore` — lowest score reported (0.9); `maxFaces` — most faces
 * reported, best first (20).
 */
export interface DetectOptions extends TuningShortcuts {
  /**
   * Search every size and angle regardless of what was found (slower). By default faces smaller
   * than 1/5 of the largest confident face are not searched, and the rotation and brightened
   * tries are skipped when a confident upright face of their size range was found.
   */
  exhaustive?: boolean
  /** Overrides of any constant (benchmarks' sweeps, calibration); see tuning.ts. */
  tuning?: Partial<Tuning>
  /** Filled with per-phase times and counts (tools only; nothing is measured without it). */
  stats?: DetectStats
}

/** Smaller images hold no face we could find (the cascade's window is 20 px). */
const MIN_IMAGE_SIDE = 16

/**
 * How much `detectFaces` reduces a width × height image before looking (≥ 1). A caller holding a
 * JPEG may decode it at 1/2, 1/4 or 1/8 (shrink-on-load) as long as that stays ≤ this factor, run
 * `detectFaces` on the smaller bitmap and scale the boxes back: same working image, a much
 * cheaper decode.
 */
export function workingReduction(width: number, height: number, options: DetectOptions = {}): number {
  return reductionFor(width, height, resolveTuning(options))
}

/**
 * Finds faces in `bitmap`. Boxes are in the bitmap's pixels, in the hairline-to-chin convention,
 * sorted by score (then size), each with its score and tilt. Pure and synchronous.
 */
export function detectFaces(bitmap: Bitmap, options: DetectOptions = {}): DetectedFace[] {
  const tuning = resolveTuning(options)
  const { candidates, sourcePerPixel } = searchCandidates(bitmap, tuning, options)
  const faces: DetectedFace[] = []
  for (const candidate of candidates) {
    if (candidate.score < tuning.minScore) continue
    const square = {
      cx: candidate.cx * sourcePerPixel,
      cy: candidate.cy * sourcePerPixel,
      side: candidate.side * sourcePerPixel,
      angle: candidate.angle,
    }
    const box = mapToHairlineChin(square, bitmap, tuning)
    faces.push({ ...box, score: roundThousandth(candidate.score), angle: candidate.angle })
  }
  faces.sort((a, b) => b.score - a.score || b.w * b.h - a.w * a.h)
  return faces.slice(0, tuning.maxFaces)
}

/** Candidates in working-image pixels; `sourcePerPixel` bitmap pixels make one working pixel. */
export interface Candidates {
  candidates: Candidate[]
  sourcePerPixel: number
}

/** Every scored candidate left after overlap suppression, whatever its score (calibration tools). */
export function findCandidates(bitmap: Bitmap, options: DetectOptions = {}): Candidates {
  return searchCandidates(bitmap, resolveTuning(options), options)
}

/**
 * The phases in order. Coarse to fine: large faces first (cheap levels); the small-face levels
 * then only go down to a share of the largest confident face, and the tries only run when no
 * confident upright face of their size range was found (`exhaustive` turns both shortcuts off).
 */
function searchCandidates(bitmap: Bitmap, tuning: Tuning, options: DetectOptions): Candidates {
  if (bitmap.width < MIN_IMAGE_SIDE || bitmap.height < MIN_IMAGE_SIDE) return { candidates: [], sourcePerPixel: 1 }
  const { stats } = options
  const clock = stats && new PhaseClock(stats, 'workingImage')
  const work = prepareWorkingImage(bitmap, tuning)
  const candidates: Candidate[] = []
  const phase: PhaseOptions = { tuning, candidates, exhaustive: options.exhaustive ?? false, stats, clock }

  clock?.switchTo('probeLarge')
  verifySeeds(probeLargeFaces(work, phase), { source: work, ...phase })
  clock?.switchTo('probeSmall')
  verifySeeds(probeSmallFaces(work, phase), { source: work, ...phase })
  clock?.switchTo('rotations')
  tryRotations(work, phase)
  clock?.switchTo('brightened')
  tryBrightened(work, phase)
  clock?.switchTo('suppress')
  if (stats) stats.candidates += candidates.length

  const kept = dropBodiesUnderFaces(suppressOverlaps(candidates, tuning), tuning)
  clock?.stop()
  return { candidates: kept, sourcePerPixel: work.sourcePerPixel }
}

const roundThousandth = (value: number) => Math.round(value * 1000) / 1000
