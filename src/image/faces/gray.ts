/** RGBA → grey (Rec. 601 luma, OpenCV's weights), area-reduced by any factor ≥ 1 in one pass. */
import type { Bitmap } from '../types.ts'
import type { Gray } from './haar.ts'

/** Luma weights in 14-bit fixed point (OpenCV's), and their scale. */
const RED_WEIGHT = 4899
const GREEN_WEIGHT = 9617
const BLUE_WEIGHT = 1868
const FIXED_ONE = 16384
const RED = RED_WEIGHT / FIXED_ONE
const GREEN = GREEN_WEIGHT / FIXED_ONE
const BLUE = BLUE_WEIGHT / FIXED_ONE
const INVERSE_ONE = 1 / FIXED_ONE

/** Luma of source row `sourceRow` into `out` (one float per pixel); reads 32-bit pixels when it can. */
function lumaRow(bitmap: Bitmap, pixels32: Uint32Array | undefined, sourceRow: number, out: Float32Array): void {
  const width = bitmap.width
  if (pixels32) {
    const base = sourceRow * width
    for (let x = 0; x < width; x++) {
      const pixel = pixels32[base + x]!
      out[x] = (pixel & 255) * RED + ((pixel >>> 8) & 255) * GREEN + ((pixel >>> 16) & 255) * BLUE
    }
    return
  }
  const data = bitmap.data
  for (let x = 0, at = sourceRow * width * 4; x < width; x++, at += 4) {
    out[x] = data[at]! * RED + data[at + 1]! * GREEN + data[at + 2]! * BLUE
  }
}

/** Luma of a little-endian RGBA pixel, computed in fixed point and rounded to float32 like lumaRow's. */
function fixedLuma(pixel: number): number {
  const red = pixel & 255
  const green = (pixel >>> 8) & 255
  const blue = (pixel >>> 16) & 255
  return Math.fround((red * RED_WEIGHT + green * GREEN_WEIGHT + blue * BLUE_WEIGHT) * INVERSE_ONE)
}

/**
 * Grey image of `bitmap` reduced by `factor` ≥ 1: each output pixel is the area average of the
 * source pixels it covers (fractional edges weighted), so small faces are not aliased away.
 * Every source row is converted once. Alpha is ignored.
 */
export function toGray(bitmap: Bitmap, factor = 1): Gray {
  const { width: sourceWidth, height: sourceHeight, data } = bitmap
  // Little-endian 32-bit view when aligned (every platform Bun runs on is little-endian).
  const pixels32 =
    data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, sourceWidth * sourceHeight) : undefined
  if (factor <= 1.0001) return fullSizeGray(bitmap, pixels32)
  const width = Math.max(1, Math.round(sourceWidth / factor))
  const height = Math.max(1, Math.round(sourceHeight / factor))
  const spanX = sourceWidth / width
  const spanY = sourceHeight / height
  // Horizontal: output column x covers source [x·spanX, (x+1)·spanX): first/last columns weighted.
  const firstColumn = new Int32Array(width)
  const lastColumn = new Int32Array(width)
  const firstWeight = new Float32Array(width)
  const lastWeight = new Float32Array(width)
  for (let x = 0; x < width; x++) {
    const start = x * spanX
    const end = Math.min(sourceWidth, (x + 1) * spanX)
    const first = Math.floor(start)
    const last = Math.min(sourceWidth - 1, Math.ceil(end) - 1)
    firstColumn[x] = first
    lastColumn[x] = last
    firstWeight[x] = first === last ? end - start : first + 1 - start
    lastWeight[x] = first === last ? 0 : end - last
  }
  const luma = new Float32Array(sourceWidth)
  const rowSums = new Float32Array(width)
  const out = new Float32Array(width * height)
  for (let sourceRow = 0; sourceRow < sourceHeight; sourceRow++) {
    if (pixels32) {
      // Fused: luma computed where it is summed, in 14-bit fixed point (r·4899 + g·9617 + b·1868
      // is exact, and so is its scaling by 2⁻¹⁴): the same float32 values, in the same order, as
      // lumaRow's.
      const base = sourceRow * sourceWidth
      for (let x = 0; x < width; x++) {
        const first = firstColumn[x]!
        const last = lastColumn[x]!
        let sum = fixedLuma(pixels32[base + first]!) * firstWeight[x]!
        if (last > first) {
          sum += fixedLuma(pixels32[base + last]!) * lastWeight[x]!
          for (let column = first + 1; column < last; column++) sum += fixedLuma(pixels32[base + column]!)
        }
        rowSums[x] = sum
      }
    } else {
      lumaRow(bitmap, pixels32, sourceRow, luma)
      for (let x = 0; x < width; x++) {
        const first = firstColumn[x]!
        const last = lastColumn[x]!
        let sum = luma[first]! * firstWeight[x]!
        if (last > first) {
          sum += luma[last]! * lastWeight[x]!
          for (let column = first + 1; column < last; column++) sum += luma[column]!
        }
        rowSums[x] = sum
      }
    }
    // Vertical: the source row spreads over the output rows whose span it overlaps.
    const firstRow = Math.min(height - 1, Math.floor(sourceRow / spanY))
    for (let y = firstRow; y < height && y * spanY < sourceRow + 1; y++) {
      const rowWeight = Math.min(sourceRow + 1, (y + 1) * spanY) - Math.max(sourceRow, y * spanY)
      if (rowWeight <= 0) continue
      const outRow = y * width
      for (let x = 0; x < width; x++) out[outRow + x]! += rowSums[x]! * rowWeight
    }
  }
  const norm = 1 / (spanX * spanY)
  for (let i = 0; i < out.length; i++) out[i]! *= norm
  return { width, height, data: out }
}

/** The grey image at full size (no reduction asked). */
function fullSizeGray(bitmap: Bitmap, pixels32: Uint32Array | undefined): Gray {
  const { width, height } = bitmap
  const out = new Float32Array(width * height)
  if (pixels32) {
    // Straight into the output (same values as lumaRow).
    for (let i = 0; i < width * height; i++) {
      const pixel = pixels32[i]!
      out[i] = (pixel & 255) * RED + ((pixel >>> 8) & 255) * GREEN + ((pixel >>> 16) & 255) * BLUE
    }
    return { width, height, data: out }
  }
  const row = new Float32Array(width)
  for (let y = 0; y < height; y++) {
    lumaRow(bitmap, pixels32, y, row)
    out.set(row, y * width)
  }
  return { width, height, data: out }
}
