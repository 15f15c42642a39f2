/**
 * Every constant of the face detector, in one deeply frozen object. Production runs on
 * `DEFAULT_TUNING`; benchmarks and calibration tools pass overrides through
 * `detectFaces(bitmap, { tuning: { … } })`, so nothing ever changes module state.
 * Sizes are shares of the image's shorter side unless said otherwise.
 */

export interface Tuning {
  /** Smallest face searched: box height (hairline to chin) / the image's shorter side. */
  readonly minFace: number
  /** Smallest face the rotation and brightened tries look for, same unit. */
  readonly minRotatedFace: number
  /** Rotation tries, degrees (counter-clockwise on screen). */
  readonly angles: readonly number[]
  /** Brightened tries: gammas applied to the grey image (< 1 lifts shadows). */
  readonly gammas: readonly number[]
  /** Lowest score reported, and the most faces reported. */
  readonly minScore: number
  readonly maxFaces: number
  /** Haar window side / face box height (alt2's hits on our DEV sets: 0.84). */
  readonly windowPerFace: number

  /** Large-face probe: windows from this share of the shorter side up, on a dense ladder. */
  readonly largeFaceFrom: number
  /** Ratio between successive window sizes, window step (level px), stages a window must pass. */
  readonly largeFaceScale: number
  readonly largeFaceStep: number
  readonly largeFaceMinStages: number
  /**
   * Padding of the large-face probe (share of the shorter side), so a face at the image edge
   * still fits a window (the Haar square is ~1.2× the box width, centred on it).
   */
  readonly padSides: number
  readonly padTopBottom: number
  /** Outside the image: the nearest edge pixel (true) or the image's mean grey (false). */
  readonly replicateEdges: boolean

  /** Small-face probe: ratio between window sizes, step, stages a window must pass. */
  readonly smallFaceScale: number
  readonly smallFaceStep: number
  readonly smallFaceMinStages: number
  /** Small faces are searched down to this share of the largest confident face's window. */
  readonly smallestShareOfLargest: number

  /** Probe ladder of the rotation and brightened tries: ratio between window sizes, step. */
  readonly tryScale: number
  readonly tryStep: number
  /** Probe windows merged into one seed (OpenCV's rectangle similarity with this eps). */
  readonly seedMergeEps: number
  /** Score from which a face counts as found for the coarse-to-fine shortcuts. */
  readonly confidentScore: number

  /** Focused pass: window sides to try (× the seed's side), in trial order. */
  readonly focusScales: readonly number[]
  /** Focused pass: half-range of window centres (share of the seed's side) and step (patch px). */
  readonly focusRange: number
  readonly focusStep: number
  /** A seed whose first this-many scales accept no window is dropped. */
  readonly focusGiveUpAfter: number
  /** Extra scale steps (×/÷ 1.1) while the extreme scale tried is still busy. */
  readonly focusExtraScales: number
  /** The focused pass stops (from the fourth scale on) once this many windows were accepted. */
  readonly focusEnoughWindows: number
  /** The second opinion (default cascade) stops after this many accepted windows. */
  readonly secondOpinionMaxWindows: number
  /** Candidates scored above `uncertainAbove` and below `certainFrom` are rescanned, eyes checked. */
  readonly uncertainAbove: number
  readonly certainFrom: number

  /** Windows with σ below min(flatStd, flatStdShare · σ of the image) are never evaluated. */
  readonly flatStd: number
  readonly flatStdShare: number

  /**
   * Score = logistic(weightWindows·log2(1 + windows) + weightMargin·margin
   *   + weightSecondOpinion·log2(1 + second-opinion windows) + scoreBias [+ eye term]).
   */
  readonly weightWindows: number
  readonly weightMargin: number
  readonly weightSecondOpinion: number
  readonly scoreBias: number
  /** Eye terms of a rescanned (uncertain) candidate: an uncertain frontal face must show both eyes. */
  readonly termTwoEyes: number
  readonly termOneEye: number
  readonly termNoEye: number

  /** Candidates sharing more than this share of the smaller square are one face. */
  readonly sameFaceOverlap: number
  /**
   * Haar square (side s) → the data sets' hairline-to-chin box: width, height and downward shift
   * of the centre, × s.
   */
  readonly boxWidth: number
  readonly boxHeight: number
  readonly boxShiftDown: number
}

function deepFreeze<T extends object>(value: T): T {
  for (const field of Object.values(value)) {
    if (typeof field === 'object' && field !== null) deepFreeze(field)
  }
  return Object.freeze(value)
}

export const DEFAULT_TUNING: Tuning = deepFreeze({
  minFace: 0.055,
  minRotatedFace: 0.25,
  angles: [-22, 22, -35, 35],
  // Dark skin on a bright ground, one side of the face in deep shadow, dark frames.
  gammas: [0.5],
  // On DEV and mirrored DEV, true faces scored ≥ 0.915, everything else ≤ 0.876.
  minScore: 0.9,
  maxFaces: 20,
  windowPerFace: 0.84,

  largeFaceFrom: 0.2,
  largeFaceScale: 1.1,
  largeFaceStep: 3,
  // Fewer stages than the small faces need: the large-face levels hold few windows.
  largeFaceMinStages: 12,
  padSides: 0.1,
  padTopBottom: 0.03,
  replicateEdges: true,

  smallFaceScale: 1.25,
  smallFaceStep: 4,
  smallFaceMinStages: 16,
  smallestShareOfLargest: 0.2,

  tryScale: 1.25,
  tryStep: 3,
  seedMergeEps: 0.35,
  confidentScore: 0.9,

  focusScales: [1, 0.91, 1.1, 0.83, 1.21],
  focusRange: 0.2,
  focusStep: 2,
  focusGiveUpAfter: 3,
  focusExtraScales: 3,
  focusEnoughWindows: 12,
  secondOpinionMaxWindows: 6,
  uncertainAbove: 0.05,
  certainFrom: 0.95,

  flatStd: 6,
  flatStdShare: 0.15,

  // A 4-parameter logistic fitted on the DEV candidates.
  weightWindows: 2.553,
  weightMargin: 1.722,
  weightSecondOpinion: 0.749,
  scoreBias: -8.458,
  termTwoEyes: 1.5,
  termOneEye: -4,
  termNoEye: -4,

  // Two faces rarely share more than 40 % of the smaller one's square.
  sameFaceOverlap: 0.4,
  // Medians of ground truth / square over the 449 matched upright faces of both DEV sets (the two
  // sets agree within 0.01–0.03).
  boxWidth: 0.83,
  boxHeight: 1.14,
  boxShiftDown: 0.004,
})

/** Tuning values that `DetectOptions` also offers by name (the named option wins over `tuning`). */
const SHORTCUTS = ['minFace', 'minRotatedFace', 'angles', 'gammas', 'minScore', 'maxFaces'] as const
export type TuningShortcuts = Partial<Pick<Tuning, (typeof SHORTCUTS)[number]>>

/**
 * The tuning one detection runs with: the defaults, then `tuning` overrides, then the shortcuts
 * given. Without either it is `DEFAULT_TUNING` itself (nothing allocated). Unknown names are
 * refused, so a sweep over a misspelt constant cannot silently measure the defaults.
 */
export function resolveTuning(options: TuningShortcuts & { tuning?: Partial<Tuning> } = {}): Tuning {
  const shortcuts = SHORTCUTS.filter((name) => options[name] !== undefined)
  if (!options.tuning && shortcuts.length === 0) return DEFAULT_TUNING
  for (const name of Object.keys(options.tuning ?? {})) {
    if (!(name in DEFAULT_TUNING)) throw new Error(`unknown face detector tuning: ${name}`)
  }
  const resolved: Record<string, unknown> = { ...DEFAULT_TUNING, ...options.tuning }
  for (const name of shortcuts) resolved[name] = options[name]
  return Object.freeze(resolved as unknown as Tuning)
}
