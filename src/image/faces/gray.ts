/** RGBA → grey (Rec. 601 luma, OpenCV's weights), area-reduced by any factor ≥ 1 in one pass. */
import type { Bitmap } from '../types.ts'
import type { Gray } from './haar.ts'

const KR = 4899 / 16384
const KG = 9617 / 16384
const KB = 1868 / 16384
const INV = 1 / 16384

/** Luma of source row `r` into `out` (W floats); reads 32-bit pixels when the buffer allows. */
function lumaRow(bitmap: Bitmap, u32: Uint32Array | undefined, r: number, out: Float32Array): void {
  const W = bitmap.width
  if (u32) {
    const base = r * W
    for (let x = 0; x < W; x++) {
      const v = u32[base + x]!
      out[x] = (v & 255) * KR + ((v >>> 8) & 255) * KG + ((v >>> 16) & 255) * KB
    }
    return
  }
  const d = bitmap.data
  for (let x = 0, j = r * W * 4; x < W; x++, j += 4) out[x] = d[j]! * KR + d[j + 1]! * KG + d[j + 2]! * KB
}

/**
 * Grey image of `bitmap` reduced by `factor` ≥ 1: each output pixel is the area average of the
 * source pixels it covers (fractional edges weighted), so small faces are not aliased away.
 * Every source row is converted once. Alpha is ignored.
 */
export function toGray(bitmap: Bitmap, factor = 1): Gray {
  const { width: W, height: H, data } = bitmap
  // Little-endian 32-bit view when aligned (every platform Bun runs on is little-endian).
  const u32 = data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, W * H) : undefined
  if (factor <= 1.0001) {
    const out = new Float32Array(W * H)
    if (u32) {
      // Straight into the output (same values as lumaRow).
      for (let i = 0; i < W * H; i++) {
        const v = u32[i]!
        out[i] = (v & 255) * KR + ((v >>> 8) & 255) * KG + ((v >>> 16) & 255) * KB
      }
      return { width: W, height: H, data: out }
    }
    const row = new Float32Array(W)
    for (let y = 0; y < H; y++) {
      lumaRow(bitmap, u32, y, row)
      out.set(row, y * W)
    }
    return { width: W, height: H, data: out }
  }
  const w = Math.max(1, Math.round(W / factor))
  const h = Math.max(1, Math.round(H / factor))
  const fx = W / w
  const fy = H / h
  // Horizontal: output column x covers source [x·fx, (x+1)·fx): first/last columns weighted.
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
    xw0[x] = ia === ib ? b - a : ia + 1 - a
    xw1[x] = ia === ib ? 0 : b - ib
  }
  const luma = new Float32Array(W)
  const hrow = new Float32Array(w)
  const out = new Float32Array(w * h)
  const fr = Math.fround
  for (let r = 0; r < H; r++) {
    if (u32) {
      // Fused: luma computed where it is summed, in 14-bit fixed point (r·4899 + g·9617 + b·1868
      // is exact, and so is its scaling by 2⁻¹⁴): the same float32 values, in the same order, as
      // lumaRow's.
      const base = r * W
      for (let x = 0; x < w; x++) {
        const i0 = xs0[x]!
        const i1 = xs1[x]!
        let v = u32[base + i0]!
        let s = fr(((v & 255) * 4899 + ((v >>> 8) & 255) * 9617 + ((v >>> 16) & 255) * 1868) * INV) * xw0[x]!
        if (i1 > i0) {
          v = u32[base + i1]!
          s += fr(((v & 255) * 4899 + ((v >>> 8) & 255) * 9617 + ((v >>> 16) & 255) * 1868) * INV) * xw1[x]!
          for (let k = i0 + 1; k < i1; k++) {
            v = u32[base + k]!
            s += fr(((v & 255) * 4899 + ((v >>> 8) & 255) * 9617 + ((v >>> 16) & 255) * 1868) * INV)
          }
        }
        hrow[x] = s
      }
    } else lumaRow(bitmap, u32, r, luma)
    for (let x = 0; !u32 && x < w; x++) {
      const i0 = xs0[x]!
      const i1 = xs1[x]!
      let s = luma[i0]! * xw0[x]!
      if (i1 > i0) {
        s += luma[i1]! * xw1[x]!
        for (let k = i0 + 1; k < i1; k++) s += luma[k]!
      }
      hrow[x] = s
    }
    // Vertical: source row r spreads over the output rows whose span it overlaps.
    const y0 = Math.min(h - 1, Math.floor(r / fy))
    for (let y = y0; y < h && y * fy < r + 1; y++) {
      const wy = Math.min(r + 1, (y + 1) * fy) - Math.max(r, y * fy)
      if (wy <= 0) continue
      const o = y * w
      for (let x = 0; x < w; x++) out[o + x]! += hrow[x]! * wy
    }
  }
  const norm = 1 / (fx * fy)
  for (let i = 0; i < out.length; i++) out[i]! *= norm
  return { width: w, height: h, data: out }
}
