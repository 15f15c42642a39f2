/**
 * Statistics of one detection, for the research tools only: `detectFaces(bitmap, { stats })`
 * adds to the given sink; without one nothing is timed or counted.
 */

export type PhaseName =
  | 'workingImage'
  | 'probeLarge'
  | 'probeSmall'
  | 'rotations'
  | 'brightened'
  | 'verify'
  | 'suppress'

export interface DetectStats {
  /** Milliseconds spent per phase (`verify` gathers the verification of every phase's seeds). */
  ms: Record<PhaseName, number>
  /** Seeds given the focused pass, and candidates scored. */
  seeds: number
  candidates: number
  /** Probe windows evaluated: upright, on the rotated copies, on the brightened copies. */
  uprightWindows: number
  rotatedWindows: number
  brightenedWindows: number
}

export function newDetectStats(): DetectStats {
  const ms = { workingImage: 0, probeLarge: 0, probeSmall: 0, rotations: 0, brightened: 0, verify: 0, suppress: 0 }
  return { ms, seeds: 0, candidates: 0, uprightWindows: 0, rotatedWindows: 0, brightenedWindows: 0 }
}

/** Adds `from` into `into`, field by field (totals over images). */
export function addDetectStats(into: DetectStats, from: DetectStats): void {
  for (const phase of Object.keys(into.ms) as PhaseName[]) into.ms[phase] += from.ms[phase]
  into.seeds += from.seeds
  into.candidates += from.candidates
  into.uprightWindows += from.uprightWindows
  into.rotatedWindows += from.rotatedWindows
  into.brightenedWindows += from.brightenedWindows
}

/** Times the phases of one detection into a stats sink: each moment belongs to the current phase. */
export class PhaseClock {
  private since = performance.now()
  constructor(
    private readonly stats: DetectStats,
    private phase: PhaseName,
  ) {}

  /** Time from now on counts to `phase`; returns the phase that was running. */
  switchTo(phase: PhaseName): PhaseName {
    this.stop()
    const before = this.phase
    this.phase = phase
    return before
  }

  /** Adds the time since the last switch to the current phase. */
  stop(): void {
    const now = performance.now()
    this.stats.ms[this.phase] += now - this.since
    this.since = now
  }
}
