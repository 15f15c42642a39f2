/**
 * The tries for large faces the upright probe may miss, run only when no confident upright face
 * of their size was found: rotation tries (tilted heads) on turned, reduced copies, and
 * brightened tries (a gamma < 1 lifts shadows: dark skin on a bright ground, one side of the face
 * in deep shadow, dark frames). Their seeds are verified like the upright ones.
 */
import { cascade } from './cascade.ts'
import type { Gray } from './haar.ts'
import { probeSeeds, type PhaseOptions } from './probe.ts'
import { Octaves } from './pyramid.ts'
import { rotateGray } from './rotate.ts'
import type { Tuning } from './tuning.ts'
import { verifySeeds, type Candidate } from './verify.ts'
import { flatThreshold, greyStats, type ScanSource, type WorkingImage } from './working.ts'

/** Smallest window the tries look for (working pixels). */
export function triedWindow(work: WorkingImage, tuning: Tuning): number {
  return Math.max(cascade('alt2').winW, tuning.minRotatedFace * work.shortSide * tuning.windowPerFace)
}

function confidentFaceFrom(candidates: readonly Candidate[], minSide: number, tuning: Tuning): boolean {
  return candidates.some((candidate) => candidate.score >= tuning.confidentScore && candidate.side >= minSide)
}

/**
 * Probes a turned copy of the working image per angle, reduced so the smallest tried face fills
 * the cascade's window, and verifies the seeds on the working image, turned with them.
 */
export function tryRotations(work: WorkingImage, options: PhaseOptions): void {
  const { tuning, candidates, stats } = options
  const minWindow = triedWindow(work, tuning)
  if (tuning.angles.length === 0) return
  if (!options.exhaustive && confidentFaceFrom(candidates, minWindow, tuning)) return
  const window = cascade('alt2').winW
  const scale = Math.min(1, window / minWindow) // rotated pixels per working pixel
  for (const angle of tuning.angles) {
    const octave = work.octaves.forReduction(1 / scale)
    const rotated = rotateGray(octave.image, angle, scale * octave.scale, work.mean)
    const seeds = probeSeeds(rotated.image, {
      minWindow: window,
      maxWindow: Infinity,
      scaleFactor: tuning.tryScale,
      step: tuning.tryStep,
      minStages: tuning.smallFaceMinStages,
      minStd: work.minStd,
      angle,
      toWorking: (x, y) => {
        const [octaveX, octaveY] = rotated.back(x, y)
        return [octaveX * octave.scale, octaveY * octave.scale]
      },
      scale,
      mergeEps: tuning.seedMergeEps,
      countWindows: stats && ((evaluated) => (stats.rotatedWindows += evaluated)),
    })
    verifySeeds(seeds, { source: work, ...options })
  }
}

/**
 * Probes and verifies a brightened copy of the working image per gamma, until a confident face
 * of the tried size is found.
 */
export function tryBrightened(work: WorkingImage, options: PhaseOptions): void {
  const { tuning, candidates, stats } = options
  const minWindow = triedWindow(work, tuning)
  for (const gamma of tuning.gammas) {
    if (!options.exhaustive && confidentFaceFrom(candidates, minWindow, tuning)) break
    const brightened = brightenedCopy(work.gray, gamma, tuning)
    const seeds = probeSeeds(brightened.gray, {
      minWindow,
      maxWindow: Infinity,
      scaleFactor: tuning.tryScale,
      step: tuning.tryStep,
      minStages: tuning.smallFaceMinStages,
      minStd: brightened.minStd,
      octaves: brightened.octaves,
      angle: 0,
      mergeEps: tuning.seedMergeEps,
      countWindows: stats && ((evaluated) => (stats.brightenedWindows += evaluated)),
    })
    verifySeeds(seeds, { source: brightened, ...options })
  }
}

/** `gray` through the curve 255·(v/255)^gamma, with its own fill and flat-window threshold. */
export function brightenedCopy(gray: Gray, gamma: number, tuning: Tuning): ScanSource & { gray: Gray } {
  const curve = new Float32Array(257)
  for (let level = 0; level <= 256; level++) curve[level] = 255 * (Math.min(level, 255) / 255) ** gamma
  const mapped = throughCurve(gray, curve)
  const { mean, std } = greyStats(mapped)
  return {
    gray: mapped,
    octaves: new Octaves(mapped),
    outside: tuning.replicateEdges ? -1 : mean,
    minStd: flatThreshold(std, tuning),
  }
}

/** `image` through a 257-entry lookup table, linear between entries. */
function throughCurve(image: Gray, curve: Float32Array): Gray {
  const data = image.data
  const out = new Float32Array(data.length)
  for (let i = 0; i < data.length; i++) {
    const value = data[i]!
    const below = value | 0
    out[i] = curve[below]! + (curve[below + 1]! - curve[below]!) * (value - below)
  }
  return { width: image.width, height: image.height, data: out }
}
