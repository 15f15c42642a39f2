/**
 * In-house face detector: pure TypeScript, synchronous, deterministic, no run-time downloads.
 * Trained data: OpenCV's BSD-licensed Haar cascades (alt2, default, eye), embedded (see
 * CASCADES-LICENSE.txt); everything else is our own pipeline on top:
 *
 *  1. Grey image, area-reduced so the smallest face we look for (`minFace`) spans the cascade's
 *     20-px window. Flat windows (σ below a share of the image's σ) are never evaluated.
 *  2. Probe, coarse to fine: Viola–Jones with `alt2` over an image pyramid built from 2× octaves;
 *     large faces first (small levels, scanned densely, image padded so faces at an edge fit),
 *     then small faces on a sparse ladder, only down to 1/5 of the largest confident face.
 *     Windows that get deep into the cascade become seeds.
 *  3. Rotation tries (±22°, ±35°) on turned, reduced copies, and a photometric try (gamma 0.5:
 *     dark skin on a bright ground, side light, dark frames), both only for large faces and only
 *     when no confident upright face of that size was found.
 *  4. Focused pass per seed: a dense multi-scale scan on a small patch turned with the seed; the
 *     accepted windows give the evidence (count, best margin) and the square (their mean).
 *     Second opinion: the same scan with `default`. Uncertain candidates are rescanned at every
 *     position and must show two eyes (`eye` cascade).
 *  5. Calibrated score (logistic of the evidence), overlap suppression, no body parts below a
 *     face, and box calibration: the square is mapped by a fixed geometric rule to the hairline-
 *     to-chin, cheek-to-cheek box (w/h ≈ 0.73) of our data sets; tilted: its axis-aligned hull.
 */
import type { Bitmap, FaceBox } from '../types.ts'
import { cascade } from './cascade.ts'
import { countEyes, focusScan, type Window } from './focus.ts'
import { toGray } from './gray.ts'
import { groupHits, iou, nms, overlapSmall } from './group.ts'
import type { Gray } from './haar.ts'
import { Octaves, scanPyramid } from './pyramid.ts'
import { rotateGray } from './rotate.ts'
import { DEFAULT_TUNING, resolveTuning, type Tuning } from './tuning.ts'

export { DEFAULT_TUNING, type Tuning } from './tuning.ts'

export interface DetectedFace extends FaceBox {
  /** Confidence in 0–1, higher is surer. */
  score: number
  /** In-plane tilt in degrees when found by a rotation try (0 = upright pass). */
  angle: number
}

export interface DetectOptions {
  /**
   * Smallest face to look for: its box height (hairline to chin) as a share of the image's
   * shorter side. Default 0.055 (faces from about 6 % of the height of a landscape photo).
   */
  minFace?: number
  /** Smallest face for the rotation and gamma tries, same unit. Default 0.25. */
  minRotatedFace?: number
  /** Angles of the rotation tries in degrees (default ±22, ±35); [] to disable. */
  angles?: readonly number[]
  /** Minimum score of a reported face (default 0.9). */
  minScore?: number
  /** Most faces reported (highest score first). Default 20. */
  maxFaces?: number
  /** Gammas of the photometric tries (default [0.5]); [] to disable. */
  gammas?: readonly number[]
  /** Overrides of the detector's constants (benchmarks and calibration; see tuning.ts). */
  tuning?: Partial<Tuning>
  /** Filled with per-phase times and counts when given (tools only; nothing is measured without). */
  stats?: DetectStats
  /**
   * Search every size and angle regardless of what was found (slower). By default faces smaller
   * than 1/5 of the largest confident face are not searched, and the rotation and gamma tries
   * are skipped when a confident upright face of their size range was found.
   */
  exhaustive?: boolean
}

/** Everything known about one candidate (exported for the bench's calibration tools). */
export interface Candidate {
  /** Haar square in working-image pixels: centre and side; tilt. */
  cx: number
  cy: number
  side: number
  angle: number
  /** Probe: windows merged, deepest stage reached. */
  probeN: number
  probeStages: number
  /** Focused pass (alt2): accepted windows and best margin. */
  n: number
  margin: number
  /** Second opinion (default cascade): accepted windows. */
  nDef: number
  /** Halves of the eye band with an accepted eye (−1 = not checked). */
  eyes: number
  score: number
}

/**
 * How much `detectFaces` reduces a W×H image before looking (≥ 1). A caller holding a JPEG may
 * decode it at 1/2, 1/4 or 1/8 (shrink-on-load) as long as that stays ≤ this factor, run
 * `detectFaces` on the smaller bitmap and scale the boxes back: same working image, a much
 * cheaper decode.
 */
export function workingReduction(width: number, height: number, options: DetectOptions = {}): number {
  const tuning = resolveTuning(options)
  const minWin = Math.max(20, tuning.minFace * Math.min(width, height) * tuning.windowPerFace)
  return Math.max(1, minWin / 20)
}

/**
 * Finds faces in `bitmap`. Boxes are in the bitmap's pixels, in the hairline-to-chin convention,
 * sorted by score (then size), each with its score and tilt. Pure and synchronous.
 */
export function detectFaces(bitmap: Bitmap, options: DetectOptions = {}): DetectedFace[] {
  const tuning = resolveTuning(options)
  const { candidates, k } = detectCandidates(bitmap, options)
  const out: DetectedFace[] = []
  for (const c of candidates) {
    if (c.score < tuning.minScore) continue
    out.push({ ...mapBox({ cx: c.cx * k, cy: c.cy * k, side: c.side * k, angle: c.angle }, bitmap.width, bitmap.height, tuning), score: round3(c.score), angle: c.angle })
  }
  out.sort((a, b) => b.score - a.score || b.w * b.h - a.w * a.h)
  return out.slice(0, tuning.maxFaces)
}

/** Per-phase timings (ms) and counts, filled when passed (bench only). */
export interface DetectStats { gray: number; probe: number; probeFine: number; rotate: number; focus: number; seeds: number; candidates: number; windows: number; rotWindows: number }

interface Seed { cx: number; cy: number; side: number; angle: number; n: number; stages: number }

/**
 * All scored candidates after overlap suppression (working-image pixels; `k` = source px per
 * working px). Coarse to fine: large faces first (cheap levels); the fine levels then only go
 * down to `relMin` × the largest confident face, and the rotation tries only run when no
 * confident upright face of their size range was found (`exhaustive` turns both shortcuts off).
 */
export function detectCandidates(bitmap: Bitmap, options: DetectOptions = {}): { candidates: Candidate[]; k: number } {
  const tuning = resolveTuning(options)
  const st = options.stats
  const W = bitmap.width
  const H = bitmap.height
  if (W < 16 || H < 16) return { candidates: [], k: 1 }
  const alt2 = cascade('alt2')
  const def = cascade('default')
  const eye = cascade('eye')
  const short = Math.min(W, H)
  const exhaustive = options.exhaustive ?? false
  // 1. Working grey image: the smallest face's window is the cascade window (never upscale).
  const minWin = Math.max(alt2.winW, tuning.minFace * short * tuning.windowPerFace)
  let t = performance.now()
  const lap = (key: 'gray' | 'probe' | 'probeFine' | 'rotate' | 'focus') => {
    if (!st) return
    const now = performance.now()
    st[key] += now - t
    t = now
  }
  const g = toGray(bitmap, Math.max(1, minWin / alt2.winW))
  const k = W / g.width
  const { mean, std } = stats(g)
  const minStd = Math.min(tuning.flatStd, tuning.flatStdShare * std)
  const gShort = short / k
  lap('gray')

  const cands: Candidate[] = []
  const gOct = new Octaves(g)
  const focusOpt = { scales: tuning.focusScales, range: tuning.focusRange, minStd, giveUpAfter: tuning.focusGiveUpAfter, enoughWindows: tuning.focusEnoughWindows, extraScales: tuning.focusExtraScales, step: tuning.focusStep }
  /** Focused pass + second opinion for new seeds (skipping those inside confident candidates). */
  const edge = tuning.replicateEdges ? -1 : mean
  const examine = (seeds: Seed[], phase: 'probe' | 'probeFine' | 'rotate', src = gOct, fill = edge, ms = minStd) => {
    lap(phase)
    seeds.sort((a, b) => b.stages - a.stages || b.n - a.n)
    const done: Seed[] = []
    for (const s of seeds) {
      const b = square(s)
      if (done.some((u) => u.angle === s.angle && iou(square(u), b) > 0.5)) continue
      if (cands.some((c) => c.score >= tuning.confidentScore && overlapSmall(square(c), b) > 0.6)) continue
      done.push(s)
      let wins = focusScan(alt2, src, s, { ...focusOpt, minStd: ms, outside: fill })
      // A seed that passed the whole cascade in the probe but none of the sparse focus windows:
      // a weak face whose accepting windows are few; look at every position before giving up.
      let per = 1 // windows per unit of evidence (a step-1 scan sees 4× the positions)
      if (!wins.length && s.stages >= alt2.nStages) {
        wins = focusScan(alt2, src, s, { ...focusOpt, minStd: ms, outside: fill, step: 1 })
        per = 4
      }
      if (!wins.length) continue
      const box = meanWindow(wins)
      const defWins = focusScan(def, src, { ...box, angle: s.angle }, { scales: [1, 0.87, 1.15], range: 0.12, minStd: 0, outside: fill, step: 2, maxWindows: tuning.secondOpinionMaxWindows })
      const c: Candidate = {
        cx: box.cx, cy: box.cy, side: box.side, angle: s.angle,
        probeN: s.n, probeStages: s.stages, n: wins.length / per, margin: box.margin, nDef: defWins.length, eyes: -1, score: 0,
      }
      c.score = scoreOf(c, tuning)
      if (c.score > tuning.uncertainAbove && c.score < tuning.certainFrom) {
        // Uncertain: look again at every position (4× the windows), counts scaled back …
        const fine = focusScan(alt2, src, s, { ...focusOpt, minStd: ms, outside: fill, step: 1, enoughWindows: 4 * tuning.focusEnoughWindows })
        if (fine.length) {
          const fb = meanWindow(fine)
          const fd = focusScan(def, src, { ...fb, angle: s.angle }, { scales: [1, 0.87, 1.15], range: 0.12, minStd: 0, outside: fill, step: 1, maxWindows: 4 * tuning.secondOpinionMaxWindows })
          Object.assign(c, { cx: fb.cx, cy: fb.cy, side: fb.side, n: fine.length / 4, margin: fb.margin, nDef: fd.length / 4 })
        }
        // … and check for eyes where a face has them (a third cascade).
        c.eyes = countEyes(eye, src, c, fill)
        c.score = scoreOf(c, tuning)
      }
      cands.push(c)
    }
    if (st) st.seeds += done.length
    lap('focus')
  }
  const probe = (img: Gray, from: number, to: number, scale: number, step: number, angle: number, back?: (x: number, y: number) => [number, number], unit = 1, oct?: Octaves, ms = minStd, accept = tuning.smallFaceMinStages, skipBelow?: number): Seed[] => {
    const countWindows = st && ((evaluated: number) => (st[angle ? 'rotWindows' : 'windows'] += evaluated))
    const hits = scanPyramid(alt2, img, { minWindow: from, maxWindow: to, scaleFactor: scale, step, minStd: ms, minStages: accept, skipBelow, octaves: oct ?? (img === g ? gOct : undefined), countWindows })
    return groupHits(hits, 1, tuning.seedMergeEps).map((c) => {
      const [x, y] = back ? back(c.x + c.w / 2, c.y + c.h / 2) : [c.x + c.w / 2, c.y + c.h / 2]
      return { cx: x, cy: y, side: c.w / unit, angle, n: c.members, stages: c.maxStages }
    })
  }

  // 2a. Upright probe, large faces (dense: these levels are small).
  const split = Math.max(alt2.winW, tuning.largeFaceFrom * gShort)
  //     The image is padded (edge pixels replicated) so a face at the image edge, common in
  //     profile pictures, still fits a window; the focused pass samples the same way outside.
  const mx = Math.round(tuning.padSides * gShort)
  const my = Math.round(tuning.padTopBottom * gShort)
  const gp = mx + my > 0 ? padGray(g, mx, my, tuning.replicateEdges ? -1 : mean) : g
  examine(probe(gp, split, Infinity, tuning.largeFaceScale, tuning.largeFaceStep, 0, (x, y) => [x - mx, y - my], 1, gp === g ? gOct : new Octaves(gp), minStd, tuning.largeFaceMinStages), 'probe')
  lap('probe')
  // 2b. Upright probe, small faces: down to relMin × the largest confident face.
  const largest = cands.reduce((m, c) => (c.score >= tuning.confidentScore ? Math.max(m, c.side) : m), 0)
  //     The levels stay on the fixed ladder from the smallest face up (what is found elsewhere
  //     only decides where to start), so results do not hinge on the sizes found above.
  const from = exhaustive ? alt2.winW : Math.max(alt2.winW, tuning.smallestShareOfLargest * largest)
  if (from < split) examine(probe(g, alt2.winW, split * tuning.smallFaceScale, tuning.smallFaceScale, tuning.smallFaceStep, 0, undefined, 1, gOct, minStd, tuning.smallFaceMinStages, from), 'probeFine')
  lap('probeFine')

  // 3. Rotation tries on reduced copies, for faces ≥ minRotatedFace.
  const minRot = Math.max(alt2.winW, tuning.minRotatedFace * gShort * tuning.windowPerFace)
  const uprightBig = cands.some((c) => c.score >= tuning.confidentScore && c.side >= minRot)
  if (tuning.angles.length && (exhaustive || !uprightBig)) {
    const scale = Math.min(1, alt2.winW / minRot) // rotated px per working px
    for (const deg of tuning.angles) {
      const src = gOct.forReduction(1 / scale)
      const r = rotateGray(src.image, deg, scale * src.scale, mean)
      const back0 = r.back
      r.back = (x, y) => {
        const [bx, by] = back0(x, y)
        return [bx * src.scale, by * src.scale]
      }
      examine(probe(r.image, alt2.winW, Infinity, tuning.tryScale, tuning.tryStep, deg, r.back, scale), 'rotate')
    }
  }
  // 4. Photometric tries, same size range and condition: shadows lifted by a gamma < 1 (dark
  //    skin against a bright background, one side of the face in deep shadow, dark frames).
  const bigFound = () => cands.some((c) => c.score >= tuning.confidentScore && c.side >= minRot)
  for (const gamma of tuning.gammas) {
    if (!exhaustive && bigFound()) break
    const lut = new Float32Array(257)
    for (let i = 0; i <= 256; i++) lut[i] = 255 * Math.pow(Math.min(i, 255) / 255, gamma)
    const g2 = mapGray(g, lut)
    const s2 = stats(g2)
    const ms2 = Math.min(tuning.flatStd, tuning.flatStdShare * s2.std)
    const o2 = new Octaves(g2)
    examine(probe(g2, minRot, Infinity, tuning.tryScale, tuning.tryStep, 0, undefined, 1, o2, ms2), 'rotate', o2, tuning.replicateEdges ? -1 : s2.mean, ms2)
  }
  lap('rotate')
  if (st) st.candidates += cands.length

  // 5. Overlap suppression: the best-scored of overlapping candidates is the face (two faces
  //    rarely share more than 40 % of the smaller one's square); then no body parts under faces.
  const boxed = nms(cands.map((c) => ({ ...square(c), score: c.score, c })), 0.3, tuning.sameFaceOverlap).map((b) => b.c)
  const kept = boxed.filter((c) => c.score >= tuning.certainFrom || !boxed.some((o) => o !== c && underFace(c, o, tuning)))
  return { candidates: kept, k }
}

/**
 * Where a confident face's own neck and chest are: a much smaller, uncertain candidate centred
 * below it (in the face's frame, so tilted faces work too) is that body, not another face.
 * (Another person's face there would be hidden by this person's body.)
 */
function underFace(c: Candidate, face: Candidate, tuning: Tuning): boolean {
  if (face.score < tuning.confidentScore || c.side > 0.6 * face.side) return false
  const a = (face.angle * Math.PI) / 180
  const dx = c.cx - face.cx
  const dy = c.cy - face.cy
  // Offset in the face's frame: along its "down" (sin a, cos a) and across it.
  const down = dx * Math.sin(a) + dy * Math.cos(a)
  const across = dx * Math.cos(a) - dy * Math.sin(a)
  return Math.abs(across) < 0.5 * face.side && down > 0.5 * face.side && down < 2 * face.side
}

/** Score-weighted mean of accepted windows (centre, side) and the best margin. */
function meanWindow(wins: Window[]): { cx: number; cy: number; side: number; margin: number } {
  let sw = 0
  let cx = 0
  let cy = 0
  let side = 0
  let margin = -Infinity
  for (const w of wins) {
    const wt = 1 + Math.max(0, w.score)
    sw += wt
    cx += w.cx * wt
    cy += w.cy * wt
    side += w.side * wt
    margin = Math.max(margin, w.score)
  }
  return { cx: cx / sw, cy: cy / sw, side: side / sw, margin }
}

export function scoreOf(c: Pick<Candidate, 'n' | 'margin' | 'nDef' | 'eyes'>, tuning: Tuning = DEFAULT_TUNING): number {
  let z = tuning.weightWindows * Math.log2(1 + c.n) + tuning.weightMargin * c.margin + tuning.weightSecondOpinion * Math.log2(1 + c.nDef) + tuning.scoreBias
  if (c.eyes === 2) z += tuning.termTwoEyes
  else if (c.eyes === 1) z += tuning.termOneEye
  else if (c.eyes === 0) z += tuning.termNoEye
  return 1 / (1 + Math.exp(-z))
}

function square(c: { cx: number; cy: number; side: number }) {
  return { x: c.cx - c.side / 2, y: c.cy - c.side / 2, w: c.side, h: c.side }
}

/**
 * Haar square → hairline-to-chin box. Upright: fixed ratios of the square's side (from the DEV
 * sets, see TUNING). Tilted by θ: the same box turned with the face, then its axis-aligned hull
 * taken as that of an ellipse, which is how the data sets box a tilted face (extreme template
 * points, not the corners of a turned box).
 */
export function mapBox(c: { cx: number; cy: number; side: number; angle: number }, W: number, H: number, tuning: Tuning = DEFAULT_TUNING): FaceBox {
  const w = tuning.boxWidth * c.side
  const h = tuning.boxHeight * c.side
  const a = (c.angle * Math.PI) / 180
  // The face's "down" in the source image, undoing the rotation try.
  const cx = c.cx + tuning.boxShiftDown * c.side * Math.sin(a)
  const cy = c.cy + tuning.boxShiftDown * c.side * Math.cos(a)
  const cos = Math.abs(Math.cos(a))
  const sin = Math.abs(Math.sin(a))
  const bw = 2 * Math.sqrt((w / 2) ** 2 * cos * cos + (h / 2) ** 2 * sin * sin)
  const bh = 2 * Math.sqrt((w / 2) ** 2 * sin * sin + (h / 2) ** 2 * cos * cos)
  const x0 = Math.max(0, cx - bw / 2)
  const y0 = Math.max(0, cy - bh / 2)
  const x1 = Math.min(W, cx + bw / 2)
  const y1 = Math.min(H, cy + bh / 2)
  return { x: round1(x0), y: round1(y0), w: round1(x1 - x0), h: round1(y1 - y0) }
}

/** g on a canvas mx px wider on the left and right, my px on top and bottom: `fill`, or the
 *  nearest edge pixel when `fill` is negative. */
function padGray(g: Gray, mx: number, my: number, fill: number): Gray {
  const W = g.width
  const w = W + 2 * mx
  const h = g.height + 2 * my
  const out = new Float32Array(w * h)
  if (fill >= 0) out.fill(fill)
  for (let y = 0; y < h; y++) {
    const inside = y >= my && y < my + g.height
    if (!inside && fill >= 0) continue
    const sy = Math.min(g.height - 1, Math.max(0, y - my))
    // Plain loops: per-row subarray/set/fill calls cost more than the copying itself.
    const src = g.data
    const s0 = sy * W
    const o = y * w
    for (let x = 0; x < W; x++) out[o + mx + x] = src[s0 + x]!
    if (fill < 0) {
      const a = src[s0]!
      const b = src[s0 + W - 1]!
      for (let x = 0; x < mx; x++) {
        out[o + x] = a
        out[o + mx + W + x] = b
      }
    }
  }
  return { width: w, height: h, data: out }
}

/** g through a 257-entry lookup table (linear between entries). */
function mapGray(g: Gray, lut: Float32Array): Gray {
  const d = g.data
  const out = new Float32Array(d.length)
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!
    const j = v | 0
    out[i] = lut[j]! + (lut[j + 1]! - lut[j]!) * (v - j)
  }
  return { width: g.width, height: g.height, data: out }
}

/** Mean and σ of g from every 3rd pixel of every 3rd row (plenty for a threshold and a fill). */
function stats(g: Gray): { mean: number; std: number } {
  const d = g.data
  let s = 0
  let q = 0
  let n = 0
  for (let y = 0; y < g.height; y += 3) {
    const row = y * g.width
    for (let x = 0; x < g.width; x += 3) {
      const v = d[row + x]!
      s += v
      q += v * v
      n++
    }
  }
  const mean = s / n
  return { mean, std: Math.sqrt(Math.max(0, q / n - mean * mean)) }
}

const round1 = (v: number) => Math.round(v * 10) / 10
const round3 = (v: number) => Math.round(v * 1000) / 1000
