/**
 * The focused second pass: around one candidate, a dense scan (every pixel, several scales) on a
 * small patch resampled from the working image, optionally turned by the candidate's angle.
 * Returns the windows that pass every stage, as centres and sides in working-image pixels.
 */
import type { Cascade } from './cascade.ts'
import { allocIntegral, levelIntegral, scanLevel, type Gray, type Integral } from './haar.ts'
import { Octaves } from './pyramid.ts'

export interface Window { cx: number; cy: number; side: number; score: number }

let scratch: { ii: Integral; row: Int32Array; cap: number } | undefined
let eyeScratch: { ii: Integral; row: Int32Array } | undefined

/**
 * Samples a square patch of `g` of `size` px centred on (cx, cy), turned by `angle` (degrees,
 * the convention of rotateGray: a face tilted by +angle in `g` is upright in the patch), where
 * `unit` g-px make one patch px. Bilinear; outside the image → `fill`, or the nearest edge pixel
 * when `fill` is negative.
 */
export function samplePatch(g: Gray, cx: number, cy: number, unit: number, angle: number, size: number, fill: number, out?: Float32Array, height = size): Gray {
  const a = (angle * Math.PI) / 180
  const cos = Math.cos(a) * unit
  const sin = Math.sin(a) * unit
  const { width: W, height: H, data } = g
  const o = out && out.length >= size * height ? out : new Float32Array(size * height)
  const c = size / 2
  const cv = height / 2
  for (let v = 0; v < height; v++) {
    const dv = v + 0.5 - cv
    let sx = (0.5 - c) * cos + dv * sin + cx - 0.5
    let sy = -(0.5 - c) * sin + dv * cos + cy - 0.5
    for (let u = 0, i = v * size; u < size; u++, i++, sx += cos, sy -= sin) {
      let px = sx
      let py = sy
      if (px < 0 || py < 0 || px > W - 1 || py > H - 1) {
        if (fill >= 0) { o[i] = fill; continue }
        // Negative fill: clamp to the nearest edge pixel (replicate the border).
        px = px < 0 ? 0 : px > W - 1 ? W - 1 : px
        py = py < 0 ? 0 : py > H - 1 ? H - 1 : py
      }
      const x0 = px | 0
      const y0 = py | 0
      const fx = px - x0
      const fy = py - y0
      const p = y0 * W + x0
      const x1 = x0 + 1 < W ? 1 : 0
      const y1 = y0 + 1 < H ? W : 0
      const t = data[p]! + (data[p + x1]! - data[p]!) * fx
      const b = data[p + y1]! + (data[p + y1 + x1]! - data[p + y1]!) * fx
      o[i] = t + (b - t) * fy
    }
  }
  return { width: size, height, data: o }
}

export interface FocusOptions {
  /** Window sides to try, as multiples of the candidate's side. */
  scales: readonly number[]
  /** Half-range of window centres, as a share of the candidate's side. */
  range: number
  minStd: number
  /** Report windows passing at least this many stages (default all). */
  accept?: number
  /** Stop when the first this-many scales accepted nothing (default: try all). */
  giveUpAfter?: number
  /** Window step in patch pixels (default 1). */
  step?: number
  /** Stop after this many accepted windows in all (for counting only: biases the position). */
  maxHits?: number
  /** Extra scale steps (×/÷ 1.1) allowed beyond `scales` while the extreme scale is busy. */
  extend?: number
  /** Stop after the scale (from the fourth on) at which this many windows were accepted. */
  limit?: number
}

/** Dense scan of `c` around (cx, cy, side, angle) in `g`; returns accepted windows in g pixels. */
export function focusScan(c: Cascade, src: Gray | Octaves, cx: number, cy: number, side: number, angle: number, fill: number, opt: FocusOptions): Window[] {
  const oct = src instanceof Octaves ? src : new Octaves(src)
  const out: Window[] = []
  const win = c.winW
  const a = (angle * Math.PI) / 180
  const cos = Math.cos(a)
  const sin = Math.sin(a)
  const count = new Map<number, number>()
  const scanAt = (f: number) => {
    const before = out.length
    const ws = side * f
    const unit = ws / win // g px per patch px
    const st = opt.step ?? 1
    const r = Math.max(st, Math.ceil((opt.range * side) / unit / st) * st)
    const size = win + 2 * r + 1
    if (!scratch || scratch.cap < (size + 1) * (size + 1)) {
      const cap = Math.max(4096, (size + 1) * (size + 1))
      scratch = { ii: allocIntegral(cap), row: new Int32Array(Math.ceil(Math.sqrt(cap)) + 2), cap }
    }
    // Sample from the octave that leaves a reduction in [1, 2): averaged, not point-sampled.
    const o = oct.for(unit)
    const patch = samplePatch(o.img, cx / o.scale, cy / o.scale, unit / o.scale, angle, size, fill)
    levelIntegral(patch, size, size, scratch.ii, scratch.row)
    const half = size / 2
    const left = (opt.maxHits ?? Infinity) - out.length
    if (left <= 0) return
    scanLevel(c, scratch.ii, { step: opt.step ?? 1, minStd: opt.minStd, accept: opt.accept, maxHits: left }, (x, y, _st, score) => {
      const du = (x + win / 2 - half) * unit
      const dv = (y + win / 2 - half) * unit
      out.push({ cx: du * cos + dv * sin + cx, cy: -du * sin + dv * cos + cy, side: ws, score })
    })
    count.set(f, out.length - before)
  }
  for (let si = 0; si < opt.scales.length; si++) {
    if (si === opt.giveUpAfter && out.length === 0) return out
    // Enough evidence: stop, but only once the scales around 1 (the first three) are all seen,
    // so the size estimate is not biased towards the seed's.
    if (opt.limit !== undefined && si >= 3 && out.length >= opt.limit) break
    scanAt(opt.scales[si]!)
  }
  // The seed's size can be off by more than the scales cover (a window much larger than the face
  // still passes): while the extreme scale tried is about as busy as the busiest, go one further.
  if (opt.extend && out.length) {
    for (const dir of [-1, 1]) {
      for (let i = 0; i < opt.extend; i++) {
        const fs = [...count.keys()]
        const edge = dir < 0 ? Math.min(...fs) : Math.max(...fs)
        const peak = Math.max(...count.values())
        if (count.get(edge)! < 0.5 * peak || count.get(edge)! === 0) break
        scanAt(dir < 0 ? edge / 1.1 : edge * 1.1)
      }
    }
  }
  return out
}

/**
 * Eye check of a candidate face (centre, side of its Haar square, tilt) with an eye cascade: the
 * band of the square where eyes sit (a fixed share of its height, both halves) is scanned at
 * eye sizes of about a quarter of the side. Returns how many halves (0–2) hold an accepted eye.
 */
export function eyeCheck(c: Cascade, src: Gray | Octaves, cx: number, cy: number, side: number, angle: number, fill: number): number {
  const oct = src instanceof Octaves ? src : new Octaves(src)
  const a = (angle * Math.PI) / 180
  // Band centre: 0.15·side above the square's centre, along the face's own "up".
  const bx = cx - 0.15 * side * Math.sin(a)
  const by = cy - 0.15 * side * Math.cos(a)
  let left = false
  let right = false
  for (const e of [0.2, 0.24, 0.29, 0.35]) {
    const unit = (e * side) / c.winW
    const w = Math.round((0.9 * side) / unit)
    const h = Math.round((0.45 * side) / unit)
    if (w < c.winW || h < c.winH) continue
    const o = oct.for(unit)
    const patch = samplePatch(o.img, bx / o.scale, by / o.scale, unit / o.scale, angle, w, fill, undefined, h)
    if (!eyeScratch || eyeScratch.ii.sum.length < (w + 1) * (h + 1) || eyeScratch.row.length < w + 1) {
      eyeScratch = { ii: allocIntegral((w + 1) * (h + 1)), row: new Int32Array(w + 1) }
    }
    const ii = eyeScratch.ii
    levelIntegral(patch, w, h, ii, eyeScratch.row)
    scanLevel(c, ii, { step: 1, minStd: 0 }, (x) => {
      const mid = x + c.winW / 2 - w / 2
      if (mid < -0.05 * w) left = true
      else if (mid > 0.05 * w) right = true
    })
    if (left && right) break
  }
  return (left ? 1 : 0) + (right ? 1 : 0)
}
