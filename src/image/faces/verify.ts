/** Second-opinion check of a candidate with another cascade, on a small resampled patch. */
import type { Cascade } from './cascade.ts'
import { allocIntegral, levelIntegral, scanLevel, type Gray, type Integral } from './haar.ts'

const PATCH = 2.0 // patch side / candidate side

let scratch: { ii: Integral; row: Int32Array; size: number } | undefined

/**
 * Samples a square patch of `g` centred on (cx, cy), turned by `angle` (same convention as
 * rotateGray), such that a window of `side` px maps to `out` px. Bilinear; outside → fill.
 */
export function samplePatch(g: Gray, cx: number, cy: number, side: number, angle: number, out: number, size: number, fill: number): Gray {
  const a = (angle * Math.PI) / 180
  const cos = Math.cos(a)
  const sin = Math.sin(a)
  const inv = side / out
  const { width: W, height: H, data } = g
  const o = new Float32Array(size * size)
  const c = size / 2
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const du = (u + 0.5 - c) * inv
      const dv = (v + 0.5 - c) * inv
      const sx = du * cos + dv * sin + cx - 0.5
      const sy = -du * sin + dv * cos + cy - 0.5
      if (sx < 0 || sy < 0 || sx > W - 1 || sy > H - 1) { o[v * size + u] = fill; continue }
      const x0 = Math.floor(sx)
      const y0 = Math.floor(sy)
      const fx = sx - x0
      const fy = sy - y0
      const p = y0 * W + x0
      const x1 = x0 + 1 < W ? 1 : 0
      const y1 = y0 + 1 < H ? W : 0
      const t = data[p]! + (data[p + x1]! - data[p]!) * fx
      const b = data[p + y1]! + (data[p + y1 + x1]! - data[p + y1]!) * fx
      o[v * size + u] = t + (b - t) * fy
    }
  }
  return { width: size, height: size, data: o }
}

/**
 * Runs `c` on windows around a candidate (centre ±15 % of its side, sizes ×0.85…×1.2).
 * Returns +1 (+ a little per extra accepting window) when some window passes every stage,
 * otherwise a negative value growing with the number of stages the best window missed.
 */
export function verifyWindow(c: Cascade, g: Gray, cx: number, cy: number, side: number, angle: number, fill: number): number {
  let accepted = 0
  let bestStage = 0
  for (const f of [0.85, 1, 1.15, 1.3]) {
    const win = c.winW
    const size = Math.round(win * PATCH)
    const patch = samplePatch(g, cx, cy, side * f, angle, win, size, fill)
    if (!scratch || scratch.size < size) scratch = { ii: allocIntegral((size + 1) * (size + 1)), row: new Int32Array(size + 1), size }
    levelIntegral(patch, size, size, scratch.ii, scratch.row)
    const lo = Math.round(size / 2 - win / 2 - win * 0.15)
    const hi = Math.round(size / 2 - win / 2 + win * 0.15)
    scanLevel(c, scratch.ii, { step: 1, minStd: 0, x0: lo, y0: lo, x1: hi, y1: hi }, () => { accepted++ }, (st) => { if (st > bestStage) bestStage = st })
  }
  if (accepted > 0) return 1 + 0.25 * Math.log2(accepted)
  return -0.35 * (c.nStages - bestStage)
}
