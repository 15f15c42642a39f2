/**
 * Verification of seeds into scored candidates. Per seed: the focused pass (a dense multi-scale
 * scan with `alt2` on a small patch turned with the seed) gives the evidence (accepted windows,
 * best margin) and the square (their score-weighted mean); a second opinion comes from `default`
 * on the same spot. Uncertain candidates are rescanned at every position and must show two eyes.
 */
import type { Rect } from '../types.ts'
import { cascade } from './cascade.ts'
import { countEyes, focusScan, type FocusOptions, type TiltedSquare, type Window } from './focus.ts'
import { iou, overlapSmall } from './group.ts'
import type { Seed } from './probe.ts'
import type { DetectStats, PhaseClock } from './stats.ts'
import type { Tuning } from './tuning.ts'
import type { ScanSource } from './working.ts'

/** Everything known about one candidate face. */
export interface Candidate extends TiltedSquare {
  /** Probe: windows merged into its seed, deepest stage reached. */
  probeWindows: number
  probeStages: number
  /** Focused pass (alt2): accepted windows (per step-2 scan) and the best margin. */
  windows: number
  margin: number
  /** Second opinion (default cascade): accepted windows. */
  secondOpinion: number
  /** Halves of the eye band with an accepted eye (−1 = not checked). */
  eyes: number
  score: number
}

export interface VerifyOptions {
  /** The image the seeds were found on (the working image, or a brightened copy of it). */
  source: ScanSource
  tuning: Tuning
  /** Candidates so far; new ones are added (a seed inside a confident one is not examined). */
  candidates: Candidate[]
  stats?: DetectStats
  /** Times the verification apart from the phase that found the seeds (tools only). */
  clock?: PhaseClock
}

/** The second opinion looks at three sizes of the focused square, a little around it. */
const SECOND_OPINION = { scales: [1, 0.87, 1.15], range: 0.12, minStd: 0 } as const
/** Seeds of the same tilt overlapping this much (IoU) are one seed. */
const SAME_SEED_IOU = 0.5
/** A seed covered this much by a confident candidate's square is that face. */
const INSIDE_CONFIDENT = 0.6
/** A step-1 scan sees 4× the positions of a step-2 one: its window counts are scaled back by this. */
const POSITIONS_PER_STEP_TWO = 4

/** Verifies `seeds`, deepest in the cascade first, and adds what they show to `options.candidates`. */
export function verifySeeds(seeds: readonly Seed[], options: VerifyOptions): void {
  const phaseBefore = options.clock?.switchTo('verify')
  const { candidates, tuning } = options
  const ordered = [...seeds].sort((a, b) => b.stages - a.stages || b.windows - a.windows)
  const examined: Seed[] = []
  for (const seed of ordered) {
    const square = squareBox(seed)
    const sameSeed = (other: Seed) => other.angle === seed.angle && iou(squareBox(other), square) > SAME_SEED_IOU
    if (examined.some(sameSeed)) continue
    const covered = (candidate: Candidate) =>
      candidate.score >= tuning.confidentScore && overlapSmall(squareBox(candidate), square) > INSIDE_CONFIDENT
    if (candidates.some(covered)) continue
    examined.push(seed)
    const candidate = examineSeed(seed, options)
    if (candidate) candidates.push(candidate)
  }
  if (options.stats) options.stats.seeds += examined.length
  if (phaseBefore) options.clock!.switchTo(phaseBefore)
}

/** A seed's candidate, scored; none when the focused pass accepts nothing. */
function examineSeed(seed: Seed, options: VerifyOptions): Candidate | undefined {
  const { source, tuning } = options
  const focused = focusOnSeed(seed, options)
  if (!focused) return undefined
  const square = weightedMean(focused.windows)
  const secondOpinionScan = { step: 2, maxWindows: tuning.secondOpinionMaxWindows }
  const candidate: Candidate = {
    cx: square.cx,
    cy: square.cy,
    side: square.side,
    angle: seed.angle,
    probeWindows: seed.windows,
    probeStages: seed.stages,
    windows: focused.windows.length / focused.positionsPerWindow,
    margin: square.margin,
    secondOpinion: secondOpinion({ ...square, angle: seed.angle }, source, secondOpinionScan),
    eyes: -1,
    score: 0,
  }
  candidate.score = scoreCandidate(candidate, tuning)
  if (candidate.score > tuning.uncertainAbove && candidate.score < tuning.certainFrom) {
    rescanUncertain(candidate, seed, options)
  }
  return candidate
}

function focusOptions(source: ScanSource, tuning: Tuning): FocusOptions {
  return {
    scales: tuning.focusScales,
    range: tuning.focusRange,
    minStd: source.minStd,
    outside: source.outside,
    step: tuning.focusStep,
    giveUpAfter: tuning.focusGiveUpAfter,
    enoughWindows: tuning.focusEnoughWindows,
    extraScales: tuning.focusExtraScales,
  }
}

interface FocusedWindows {
  windows: Window[]
  /** Positions each window stands for: 1, or 4 when every position had to be scanned. */
  positionsPerWindow: number
}

/**
 * The focused pass on one seed: its accepted windows and how many positions each stands for
 * (4 after a step-1 retry); none when nothing is accepted.
 */
function focusOnSeed(seed: Seed, options: VerifyOptions): FocusedWindows | undefined {
  const alt2 = cascade('alt2')
  const { source, tuning } = options
  const windows = focusScan(alt2, source.octaves, seed, focusOptions(source, tuning))
  if (windows.length) return { windows, positionsPerWindow: 1 }
  // A seed that passed the whole cascade in the probe but none of the sparse focus windows: a
  // weak face whose accepting windows are few; look at every position before giving up.
  if (seed.stages < alt2.nStages) return undefined
  const everyPosition = focusScan(alt2, source.octaves, seed, { ...focusOptions(source, tuning), step: 1 })
  return everyPosition.length ? { windows: everyPosition, positionsPerWindow: POSITIONS_PER_STEP_TWO } : undefined
}

/** Windows the `default` cascade accepts around a square (another training, other mistakes). */
function secondOpinion(square: TiltedSquare, source: ScanSource, scan: { step: number; maxWindows: number }): number {
  const options = { ...SECOND_OPINION, ...scan, outside: source.outside }
  return focusScan(cascade('default'), source.octaves, square, options).length
}

/**
 * An uncertain candidate, looked at again: every position (4× the windows, counts scaled back to
 * the step-2 scale) for the evidence and the square, then the eyes, where a face has them (a third
 * cascade); rescored. Changes `candidate` in place.
 */
function rescanUncertain(candidate: Candidate, seed: Seed, options: VerifyOptions): void {
  const { source, tuning } = options
  const fine = focusScan(cascade('alt2'), source.octaves, seed, {
    ...focusOptions(source, tuning),
    step: 1,
    enoughWindows: POSITIONS_PER_STEP_TWO * tuning.focusEnoughWindows,
  })
  if (fine.length) {
    const square = weightedMean(fine)
    const fineSecondOpinion = secondOpinion({ ...square, angle: seed.angle }, source, {
      step: 1,
      maxWindows: POSITIONS_PER_STEP_TWO * tuning.secondOpinionMaxWindows,
    })
    candidate.cx = square.cx
    candidate.cy = square.cy
    candidate.side = square.side
    candidate.windows = fine.length / POSITIONS_PER_STEP_TWO
    candidate.margin = square.margin
    candidate.secondOpinion = fineSecondOpinion / POSITIONS_PER_STEP_TWO
  }
  candidate.eyes = countEyes(cascade('eye'), source.octaves, candidate, source.outside)
  candidate.score = scoreCandidate(candidate, tuning)
}

/** Score-weighted mean of accepted windows (centre, side) and the best margin. */
export function weightedMean(windows: readonly Window[]): Omit<TiltedSquare, 'angle'> & { margin: number } {
  let totalWeight = 0
  let cx = 0
  let cy = 0
  let side = 0
  let margin = -Infinity
  for (const window of windows) {
    const weight = 1 + Math.max(0, window.score)
    totalWeight += weight
    cx += window.cx * weight
    cy += window.cy * weight
    side += window.side * weight
    margin = Math.max(margin, window.score)
  }
  return { cx: cx / totalWeight, cy: cy / totalWeight, side: side / totalWeight, margin }
}

export type Evidence = Pick<Candidate, 'windows' | 'margin' | 'secondOpinion' | 'eyes'>

/** Calibrated confidence in 0–1: a logistic of the evidence (weights fitted on the DEV candidates). */
export function scoreCandidate(evidence: Evidence, tuning: Tuning): number {
  let logit =
    tuning.weightWindows * Math.log2(1 + evidence.windows) +
    tuning.weightMargin * evidence.margin +
    tuning.weightSecondOpinion * Math.log2(1 + evidence.secondOpinion) +
    tuning.scoreBias
  if (evidence.eyes === 2) logit += tuning.termTwoEyes
  else if (evidence.eyes === 1) logit += tuning.termOneEye
  else if (evidence.eyes === 0) logit += tuning.termNoEye
  return 1 / (1 + Math.exp(-logit))
}

/** The axis-aligned box of a square's centre and side (its tilt ignored). */
export function squareBox(square: Omit<TiltedSquare, 'angle'>): Rect {
  return { x: square.cx - square.side / 2, y: square.cy - square.side / 2, w: square.side, h: square.side }
}
