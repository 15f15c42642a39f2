/**
 * The probe: a sparse Viola–Jones scan with `alt2` over an image pyramid, whose hit clusters
 * become seeds for the focused pass. Coarse to fine: large faces first (few, small levels, so a
 * dense ladder), then small faces on a sparse ladder, only down to a share of the largest
 * confident face found.
 */
import { cascade } from './cascade.ts'
import type { TiltedSquare } from './focus.ts'
import { groupHits } from './group.ts'
import type { Gray } from './haar.ts'
import { Octaves, scanPyramid, type PyramidOptions } from './pyramid.ts'
import type { DetectStats, PhaseClock } from './stats.ts'
import type { Tuning } from './tuning.ts'
import type { Candidate } from './verify.ts'
import { padGray, type WorkingImage } from './working.ts'

/** Where a face may be (working-image pixels), with the probe's evidence for it. */
export interface Seed extends TiltedSquare {
  /** Probe windows merged into it, and the deepest stage any of them reached. */
  windows: number
  stages: number
}

export interface ProbeOptions extends PyramidOptions {
  /** Tilt of the probed image (degrees); its seeds carry it. */
  angle: number
  /** Maps a point of the probed image into the working image (default: the same point). */
  toWorking?: (x: number, y: number) => [number, number]
  /** Probed pixels per working pixel (default 1). */
  scale?: number
  /** Windows merged into one seed: OpenCV's rectangle similarity with this eps. */
  mergeEps: number
}

/** What every search phase works with. */
export interface PhaseOptions {
  tuning: Tuning
  /** Candidates found so far: the probes' shortcuts read them, the tries add to them. */
  candidates: Candidate[]
  /** Search every size and angle regardless of what was found. */
  exhaustive?: boolean
  /** Tools only: counters, and the clock that times the phases. */
  stats?: DetectStats
  clock?: PhaseClock
}

/** Scans `image` and clusters its hits into seeds, in working-image pixels. */
export function probeSeeds(image: Gray, options: ProbeOptions): Seed[] {
  const hits = scanPyramid(cascade('alt2'), image, options)
  const scale = options.scale ?? 1
  return groupHits(hits, 1, options.mergeEps).map((cluster) => {
    const centreX = cluster.x + cluster.w / 2
    const centreY = cluster.y + cluster.h / 2
    const [cx, cy] = options.toWorking ? options.toWorking(centreX, centreY) : [centreX, centreY]
    const side = cluster.w / scale
    return { cx, cy, side, angle: options.angle, windows: cluster.members, stages: cluster.maxStages }
  })
}

/** Smallest window of the large-face probe (working pixels); smaller faces are the small probe's. */
function largeFaceWindow(work: WorkingImage, tuning: Tuning): number {
  return Math.max(cascade('alt2').winW, tuning.largeFaceFrom * work.shortSide)
}

/**
 * Upright probe for large faces: their levels are small, so the ladder is dense. The image is
 * padded (edge pixels replicated) so that a face at the image edge, common in profile pictures,
 * still fits a window; the focused pass samples the same way outside.
 */
export function probeLargeFaces(work: WorkingImage, options: PhaseOptions): Seed[] {
  const { tuning, stats } = options
  const padX = Math.round(tuning.padSides * work.shortSide)
  const padY = Math.round(tuning.padTopBottom * work.shortSide)
  const padded = padX + padY > 0 ? padGray(work.gray, padX, padY, work.outside) : work.gray
  return probeSeeds(padded, {
    minWindow: largeFaceWindow(work, tuning),
    maxWindow: Infinity,
    scaleFactor: tuning.largeFaceScale,
    step: tuning.largeFaceStep,
    minStages: tuning.largeFaceMinStages,
    minStd: work.minStd,
    octaves: padded === work.gray ? work.octaves : new Octaves(padded),
    angle: 0,
    toWorking: (x, y) => [x - padX, y - padY],
    mergeEps: tuning.seedMergeEps,
    countWindows: stats && ((evaluated) => (stats.uprightWindows += evaluated)),
  })
}

/**
 * Upright probe for the faces below the large ones, on a sparse ladder, down to a share of the
 * largest confident face found (a much smaller face beside it is unlikely, and these levels are
 * the expensive ones). The levels stay on the fixed ladder from the smallest face up: what was
 * found only decides where to start, so results do not hinge on the sizes found.
 */
export function probeSmallFaces(work: WorkingImage, options: PhaseOptions): Seed[] {
  const { tuning, stats } = options
  const window = cascade('alt2').winW
  const largestConfident = options.candidates.reduce(
    (largest, candidate) => (candidate.score >= tuning.confidentScore ? Math.max(largest, candidate.side) : largest),
    0,
  )
  const from = options.exhaustive ? window : Math.max(window, tuning.smallestShareOfLargest * largestConfident)
  const largeFrom = largeFaceWindow(work, tuning)
  if (from >= largeFrom) return []
  return probeSeeds(work.gray, {
    minWindow: window,
    maxWindow: largeFrom * tuning.smallFaceScale,
    scaleFactor: tuning.smallFaceScale,
    step: tuning.smallFaceStep,
    skipBelow: from,
    minStages: tuning.smallFaceMinStages,
    minStd: work.minStd,
    octaves: work.octaves,
    angle: 0,
    mergeEps: tuning.seedMergeEps,
    countWindows: stats && ((evaluated) => (stats.uprightWindows += evaluated)),
  })
}
