/** Multi-scale sliding-window scanning with one cascade over a grey image (the probe pass). */
import type { Cascade } from './cascade.ts'
import type { Hit } from './group.ts'
import { allocScanBuffers, levelIntegral, scanLevel, type Gray, type ScanBuffers } from './haar.ts'

export interface PyramidOptions {
  /** Smallest window side, in pixels of the image. */
  minWindow: number
  /** Largest window side, in pixels of the image (default: its shorter side). */
  maxWindow?: number
  /** Ratio between successive window sizes (OpenCV's default is 1.1). */
  scaleFactor: number
  /** Window step in level pixels. */
  step: number
  /** Windows flatter than this σ (grey levels) are not evaluated. */
  minStd: number
  /** Report windows passing at least this many stages (default: all of them). */
  minStages?: number
  /** Levels with windows below this are skipped (the ladder stays anchored at minWindow). */
  skipBelow?: number
  /** The image's octaves when the caller already has them (built here otherwise). */
  octaves?: Octaves
  /** Told how many windows each level evaluated (tools only). */
  countWindows?: (evaluated: number) => void
}

/** Buffers reused across calls (grown when needed; never read before written). */
let buffers: ScanBuffers | undefined

/** 2×2 box reduction (the next octave), so coarse levels average noise instead of sampling it. */
export function halve(image: Gray): Gray {
  const width = image.width >> 1
  const height = image.height >> 1
  const out = new Float32Array(width * height)
  const data = image.data
  const sourceWidth = image.width
  for (let y = 0; y < height; y++) {
    const topRow = 2 * y * sourceWidth
    const bottomRow = topRow + sourceWidth
    const outRow = y * width
    for (let x = 0; x < width; x++) {
      const column = 2 * x
      const sum =
        data[topRow + column]! + data[topRow + column + 1]! + data[bottomRow + column]! + data[bottomRow + column + 1]!
      out[outRow + x] = sum * 0.25
    }
  }
  return { width, height, data: out }
}

/** Octaves of an image (itself, half, quarter, …) down to `minSide` px on the shorter side; built lazily. */
export class Octaves {
  private list: Gray[]
  constructor(
    image: Gray,
    private minSide = 24,
  ) {
    this.list = [image]
  }

  /** The coarsest octave no coarser than `factor` (so it is resampled by a factor in [1, 2)). */
  forReduction(factor: number): { image: Gray; scale: number } {
    let octave = 0
    while (2 ** (octave + 1) <= factor) octave++
    while (this.list.length <= octave) {
      const last = this.list[this.list.length - 1]!
      if (Math.min(last.width, last.height) >> 1 < this.minSide) break
      this.list.push(halve(last))
    }
    octave = Math.min(octave, this.list.length - 1)
    return { image: this.list[octave]!, scale: 2 ** octave }
  }
}

/**
 * Scans `image` at window sizes minWindow·scaleFactor^k (the image is resampled per level, the
 * cascade keeps its training size) and returns every reported window in pixels of `image`.
 */
export function scanPyramid(cascade: Cascade, image: Gray, options: PyramidOptions): Hit[] {
  const hits: Hit[] = []
  const maxWindow = Math.min(options.maxWindow ?? Infinity, image.width, image.height)
  let factor = options.minWindow / cascade.winW
  // The first level is the largest: buffers sized for it serve every level.
  const firstWidth = Math.max(1, Math.round(image.width / Math.max(factor, 0.25)))
  const firstHeight = Math.max(1, Math.round(image.height / Math.max(factor, 0.25)))
  const need = (firstWidth + 1) * (firstHeight + 1)
  if (!buffers || buffers.integral.sum.length < need || buffers.row.length < firstWidth + 1) {
    buffers = allocScanBuffers(need, firstWidth + 1)
  }
  const levelBuffers = buffers
  const octaves = options.octaves ?? new Octaves(image)
  const scan = { step: options.step, minStd: options.minStd, minStages: options.minStages }
  for (; ; factor *= options.scaleFactor) {
    if (cascade.winW * factor > maxWindow + 1e-9) break
    if (options.skipBelow !== undefined && cascade.winW * factor < options.skipBelow * 0.999) continue
    const levelWidth = Math.round(image.width / factor)
    const levelHeight = Math.round(image.height / factor)
    if (levelWidth < cascade.winW || levelHeight < cascade.winH) break
    levelIntegral(octaves.forReduction(factor).image, levelWidth, levelHeight, levelBuffers)
    const levelFactor = factor
    const windowW = cascade.winW * levelFactor
    const windowH = cascade.winH * levelFactor
    const evaluated = scanLevel(cascade, levelBuffers.integral, scan, (x, y, stages, score) => {
      hits.push({ x: x * levelFactor, y: y * levelFactor, w: windowW, h: windowH, score, stages })
    })
    options.countWindows?.(evaluated)
  }
  return hits
}
