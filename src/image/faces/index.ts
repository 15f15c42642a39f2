/**
 * In-house face detector: pure TypeScript, synchronous, deterministic, no run-time downloads.
 *
 * Pipeline (see README section in bench/faces.ts for the numbers):
 *  1. Grey image, area-reduced so the smallest face we look for spans the cascade's 20-px window.
 *  2. Viola–Jones (OpenCV's BSD `haarcascade_frontalface_alt2`, embedded) over an image pyramid;
 *     flat windows (σ below a share of the image's σ) are skipped before any feature is computed.
 *  3. Rotation tries (±22° and ±38° by default) on a reduced copy for large tilted faces.
 *  4. Raw hits grouped per pass (OpenCV's rule), passes merged by overlap, each candidate scored.
 *  5. Verification of weak candidates with the second cascade (`haarcascade_frontalface_default`).
 *  6. Box calibration: the square Haar window is mapped by a fixed geometric rule to the
 *     hairline-to-chin, cheek-to-cheek box (w/h ≈ 0.73) that our data sets and FDDB/WIDER use.
 */
import type { Bitmap, FaceBox } from '../types.ts'
import { cascade, type Cascade } from './cascade.ts'
import { toGray } from './gray.ts'
import { groupHits, iou, overlapSmall, type Cluster } from './group.ts'
import type { Gray } from './haar.ts'
import { scanPyramid } from './pyramid.ts'
import { rotateGray } from './rotate.ts'
import { verifyWindow } from './verify.ts'

export interface DetectedFace extends FaceBox {
  /** Confidence, higher is surer (≈ 0–1 for kept faces). */
  score: number
  /** In-plane tilt of the face in degrees when found by a rotation try (0 = upright). */
  angle: number
}

export interface DetectOptions {
  /**
   * Smallest face to look for: its box height (hairline to chin) as a share of the image's
   * shorter side. Default 0.055 (faces from ~6 % of the height of a landscape photo).
   */
  minFace?: number
  /** Smallest face for the rotation tries, same unit. Default 0.2. */
  minRotatedFace?: number
  /** Angles of the rotation tries in degrees (default ±22, ±38); [] to disable. */
  angles?: readonly number[]
  /** Minimum score of a reported face (default from calibration). */
  minScore?: number
  /** Most faces reported (largest score first). Default 20. */
  maxFaces?: number
}

/** Tuning constants (exported for the bench's sweeps; not part of the public contract). */
export const TUNING = {
  minFace: 0.055,
  minRotatedFace: 0.2,
  angles: [-22, 22, -38, 38] as number[],
  /** Haar window side / face box height (from OpenCV alt2 hits on our DEV sets: 0.84). */
  winPerFace: 0.84,
  scaleFactor: 1.1,
  rotScaleFactor: 1.12,
  step: 2,
  /** Coarse-to-fine: stages a window on the 2·step grid must pass before its neighbours are tried. */
  coarse: 10,
  /** Windows with σ below min(minStdAbs, minStdRel·σ_image) are skipped. */
  minStdAbs: 6,
  minStdRel: 0.15,
  /** Raw hits a cluster needs (OpenCV's minNeighbors + 1). */
  minHits: 3,
  rotMinHits: 3,
  minScore: 0.5,
  /** Box mapping from the Haar square (side s, centre c): GT-convention box. */
  boxW: 0.87,
  boxH: 1.19,
  boxDy: 0.01,
  maxFaces: 20,
}

interface Candidate {
  /** Haar square in source pixels: centre and side. */
  cx: number
  cy: number
  side: number
  angle: number
  n: number
  best: number
  mass: number
  score: number
}

/**
 * Finds faces in `bitmap`. Boxes are in the bitmap's pixels, in the hairline-to-chin convention,
 * sorted by score (then size), each with its score and tilt. Pure and synchronous.
 */
export function detectFaces(bitmap: Bitmap, options: DetectOptions = {}): DetectedFace[] {
  const T = TUNING
  const W = bitmap.width
  const H = bitmap.height
  if (W < 8 || H < 8) return []
  const alt2 = cascade('alt2')
  const short = Math.min(W, H)
  const minFace = options.minFace ?? T.minFace
  // 1. Working grey image: the smallest face's window is the cascade window (never upscale).
  const minWin = Math.max(alt2.winW, minFace * short * T.winPerFace)
  const reduce = Math.max(1, minWin / alt2.winW)
  const g = toGray(bitmap, reduce)
  const k = W / g.width // working → source pixels
  const { mean, std } = stats(g)
  const minStd = Math.min(T.minStdAbs, T.minStdRel * std)

  const cands: Candidate[] = []
  // 2. Upright pass.
  const hits = scanPyramid(alt2, g, { minWin: alt2.winW, scaleFactor: T.scaleFactor, step: () => T.step, minStd, coarse: T.coarse })
  for (const c of groupHits(hits, T.minHits)) cands.push(candidate(c, k, 1, 0, (x, y) => [x, y]))

  // 3. Rotation tries on a reduced copy: only faces ≥ minRotatedFace.
  const angles = options.angles ?? T.angles
  if (angles.length) {
    const minRot = Math.max(alt2.winW, (options.minRotatedFace ?? T.minRotatedFace) * short * T.winPerFace)
    const scale = Math.min(1, (alt2.winW / minRot) * k) // working px → rotated px
    for (const deg of angles) {
      const r = rotateGray(g, deg, scale, mean)
      const rh = scanPyramid(alt2, r.image, { minWin: alt2.winW, scaleFactor: T.rotScaleFactor, step: () => T.step, minStd, coarse: T.coarse })
      for (const c of groupHits(rh, T.rotMinHits)) cands.push(candidate(c, k, scale, deg, r.back))
    }
  }

  // 4. Merge passes: the strongest evidence wins; overlapping candidates are one face.
  for (const c of cands) c.score = rawScore(c)
  cands.sort((a, b) => b.score - a.score)
  const kept: Candidate[] = []
  for (const c of cands) {
    const box = square(c)
    if (kept.some((o) => iou(square(o), box) > 0.3 || overlapSmall(square(o), box) > 0.6)) continue
    kept.push(c)
  }

  // 5. Verification and final score.
  const def = cascade('default')
  const out: DetectedFace[] = []
  for (const c of kept) {
    const v = verifyWindow(def, g, c.cx / k, c.cy / k, c.side / k, c.angle, mean)
    c.score = finalScore(c, v)
    if (c.score < (options.minScore ?? T.minScore)) continue
    out.push({ ...mapBox(c, W, H), score: round3(c.score), angle: c.angle })
  }
  out.sort((a, b) => b.score - a.score || b.w * b.h - a.w * a.h)
  return out.slice(0, options.maxFaces ?? T.maxFaces)
}

/**
 * A cluster of a pass → candidate in source pixels. `back` maps the pass's pixels to the working
 * image, `scale` is pass px per working px, `k` source px per working px.
 */
function candidate(c: Cluster, k: number, scale: number, angle: number, back: (x: number, y: number) => [number, number]): Candidate {
  const [x, y] = back(c.x + c.w / 2, c.y + c.h / 2)
  return { cx: x * k, cy: y * k, side: (c.w / scale) * k, angle, n: c.n, best: c.best, mass: c.mass, score: 0 }
}

/** Evidence before verification: neighbours (log) and the best window's margin. */
function rawScore(c: Candidate): number {
  return Math.log2(c.n) + c.best
}

function finalScore(c: Candidate, verify: number): number {
  // Logistic squash of the evidence; the verifier adds or removes confidence.
  const z = 0.8 * (Math.log2(c.n) - 2) + 1.5 * c.best + verify
  return 1 / (1 + Math.exp(-z))
}

function square(c: Candidate) {
  return { x: c.cx - c.side / 2, y: c.cy - c.side / 2, w: c.side, h: c.side }
}

/**
 * Haar square → hairline-to-chin box. Upright: fixed ratios. Tilted by θ: the face's own box
 * (same ratios, centre offset turned with the face) and its axis-aligned hull as an ellipse,
 * which is how the data sets box a tilted face (extreme template points, not a rotated box).
 */
export function mapBox(c: { cx: number; cy: number; side: number; angle: number }, W: number, H: number): FaceBox {
  const T = TUNING
  const w = T.boxW * c.side
  const h = T.boxH * c.side
  const a = (c.angle * Math.PI) / 180
  // The face's "down" direction in the source image after undoing the rotation try.
  const dx = T.boxDy * c.side * Math.sin(a)
  const dy = T.boxDy * c.side * Math.cos(a)
  const cx = c.cx + dx
  const cy = c.cy + dy
  const cos = Math.abs(Math.cos(a))
  const sin = Math.abs(Math.sin(a))
  const bw = 2 * Math.sqrt((w / 2) ** 2 * cos * cos + (h / 2) ** 2 * sin * sin)
  const bh = 2 * Math.sqrt((w / 2) ** 2 * sin * sin + (h / 2) ** 2 * cos * cos)
  let x0 = cx - bw / 2
  let y0 = cy - bh / 2
  let x1 = cx + bw / 2
  let y1 = cy + bh / 2
  x0 = Math.max(0, x0); y0 = Math.max(0, y0); x1 = Math.min(W, x1); y1 = Math.min(H, y1)
  return { x: round1(x0), y: round1(y0), w: round1(x1 - x0), h: round1(y1 - y0) }
}

function stats(g: Gray): { mean: number; std: number } {
  const d = g.data
  let s = 0
  let q = 0
  for (let i = 0; i < d.length; i++) { const v = d[i]!; s += v; q += v * v }
  const mean = s / d.length
  return { mean, std: Math.sqrt(Math.max(0, q / d.length - mean * mean)) }
}

const round1 = (v: number) => Math.round(v * 10) / 10
const round3 = (v: number) => Math.round(v * 1000) / 1000

export type { Cascade }
