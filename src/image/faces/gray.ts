/** RGBA → grey (Rec. 601 luma, as OpenCV), optionally area-downscaled by an integer-free factor. */
import type { Bitmap } from '../types.ts'
import type { Gray } from './haar.ts'

/**
 * Grey image of `bitmap` reduced by `factor` ≥ 1 (box/area average over the source pixels each
 * output pixel covers, fractional edges weighted), so small faces are not aliased away.
 * Transparent pixels are taken as they are (alpha ignored).
 */
export function toGray(bitmap: Bitmap, factor = 1): Gray {
  const { width: W, height: H, data } = bitmap
  if (factor <= 1.0001) {
    const out = new Float32Array(W * H)
    for (let i = 0, j = 0; i < out.length; i++, j += 4) out[i] = (data[j]! * 4899 + data[j + 1]! * 9617 + data[j + 2]! * 1868) / 16384
    return { width: W, height: H, data: out }
  }
  const w = Math.max(1, Math.round(W / factor))
  const h = Math.max(1, Math.round(H / factor))
  const fx = W / w
  const fy = H / h
  // Horizontal pass into a row of w sums per source row, then vertical accumulation.
  const xs0 = new Int32Array(w)
  const xs1 = new Int32Array(w)
  const xw0 = new Float32Array(w)
  const xw1 = new Float32Array(w)
  for (let x = 0; x < w; x++) {
    const a = x * fx
    const b = Math.min(W, (x + 1) * fx)
    const ia = Math.floor(a)
    const ib = Math.min(W - 1, Math.ceil(b) - 1)
    xs0[x] = ia
    xs1[x] = ib
    xw0[x] = ia + 1 - a // weight of the first column
    xw1[x] = b - ib // weight of the last column
  }
  const rowLuma = new Float32Array(W)
  const acc = new Float32Array(w)
  const out = new Float32Array(w * h)
  let sy = 0 // next source row to consume
  for (let y = 0; y < h; y++) {
    const a = y * fy
    const b = Math.min(H, (y + 1) * fy)
    acc.fill(0)
    for (let r = Math.floor(a); r < Math.ceil(b) && r < H; r++) {
      const wy = Math.min(r + 1, b) - Math.max(r, a)
      const base = r * W * 4
      for (let x = 0, j = base; x < W; x++, j += 4) rowLuma[x] = (data[j]! * 4899 + data[j + 1]! * 9617 + data[j + 2]! * 1868) / 16384
      for (let x = 0; x < w; x++) {
        const i0 = xs0[x]!
        const i1 = xs1[x]!
        let s: number
        if (i0 === i1) s = rowLuma[i0]! * (xw0[x]! + xw1[x]! - 1)
        else {
          s = rowLuma[i0]! * xw0[x]! + rowLuma[i1]! * xw1[x]!
          for (let k = i0 + 1; k < i1; k++) s += rowLuma[k]!
        }
        acc[x]! += s * wy
      }
      sy = r + 1
    }
    const norm = 1 / (fx * (b - a))
    const o = y * w
    for (let x = 0; x < w; x++) out[o + x] = acc[x]! * norm
  }
  void sy
  return { width: w, height: h, data: out }
}
