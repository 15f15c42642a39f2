/**
 * The working image every phase searches: the bitmap in grey, area-reduced so that the smallest
 * face searched fills the cascade's window (never enlarged), and what the scans need to know
 * about it. Also the padded copy the large-face probe scans.
 */
import type { Bitmap } from '../types.ts'
import { cascade } from './cascade.ts'
import { toGray } from './gray.ts'
import type { Gray } from './haar.ts'
import { Octaves } from './pyramid.ts'
import type { Tuning } from './tuning.ts'

/** What a scan reads: the image as octaves, what lies outside it, and the flat-window threshold. */
export interface ScanSource {
  octaves: Octaves
  /** Grey value outside the image, or negative for the nearest edge pixel. */
  outside: number
  /** Windows flatter than this σ (grey levels) are not evaluated. */
  minStd: number
}

export interface WorkingImage extends ScanSource {
  gray: Gray
  /** Bitmap pixels per working pixel. */
  sourcePerPixel: number
  /** The shorter side, in working pixels. */
  shortSide: number
  /** Mean grey level. */
  mean: number
}

/** How much a width × height bitmap is reduced (≥ 1) for the given tuning. */
export function reductionFor(width: number, height: number, tuning: Tuning): number {
  const window = cascade('alt2').winW
  const minWindow = Math.max(window, tuning.minFace * Math.min(width, height) * tuning.windowPerFace)
  return Math.max(1, minWindow / window)
}

export function prepareWorkingImage(bitmap: Bitmap, tuning: Tuning): WorkingImage {
  const gray = toGray(bitmap, reductionFor(bitmap.width, bitmap.height, tuning))
  const sourcePerPixel = bitmap.width / gray.width
  const { mean, std } = greyStats(gray)
  return {
    gray,
    sourcePerPixel,
    shortSide: Math.min(bitmap.width, bitmap.height) / sourcePerPixel,
    mean,
    octaves: new Octaves(gray),
    outside: tuning.replicateEdges ? -1 : mean,
    minStd: flatThreshold(std, tuning),
  }
}

/** Windows flatter than this are skipped: below the absolute floor or a share of the image's σ. */
export function flatThreshold(imageStd: number, tuning: Tuning): number {
  return Math.min(tuning.flatStd, tuning.flatStdShare * imageStd)
}

/** Mean and σ from every 3rd pixel of every 3rd row (plenty for a threshold and a fill). */
export function greyStats(image: Gray): { mean: number; std: number } {
  const data = image.data
  let sum = 0
  let sumOfSquares = 0
  let count = 0
  for (let y = 0; y < image.height; y += 3) {
    const row = y * image.width
    for (let x = 0; x < image.width; x += 3) {
      const value = data[row + x]!
      sum += value
      sumOfSquares += value * value
      count++
    }
  }
  const mean = sum / count
  return { mean, std: Math.sqrt(Math.max(0, sumOfSquares / count - mean * mean)) }
}

/**
 * `image` on a canvas `padX` px wider on the left and right and `padY` px on top and bottom,
 * filled with `outside`, or with the nearest edge pixel when `outside` is negative.
 */
export function padGray(image: Gray, padX: number, padY: number, outside: number): Gray {
  const sourceWidth = image.width
  const width = sourceWidth + 2 * padX
  const height = image.height + 2 * padY
  const out = new Float32Array(width * height)
  if (outside >= 0) out.fill(outside)
  const source = image.data
  for (let y = 0; y < height; y++) {
    const inside = y >= padY && y < padY + image.height
    if (!inside && outside >= 0) continue
    const sourceRow = Math.min(image.height - 1, Math.max(0, y - padY)) * sourceWidth
    const outRow = y * width
    // Plain loops: per-row subarray/set/fill calls cost more than the copying itself.
    for (let x = 0; x < sourceWidth; x++) out[outRow + padX + x] = source[sourceRow + x]!
    if (outside < 0) {
      const leftEdge = source[sourceRow]!
      const rightEdge = source[sourceRow + sourceWidth - 1]!
      for (let x = 0; x < padX; x++) {
        out[outRow + x] = leftEdge
        out[outRow + padX + sourceWidth + x] = rightEdge
      }
    }
  }
  return { width, height, data: out }
}
