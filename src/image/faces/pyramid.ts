/** Multi-scale sliding-window detection with one cascade over a grey image. */
import type { Cascade } from './cascade.ts'
import { allocIntegral, levelIntegral, scanLevel, type Gray } from './haar.ts'
import type { Hit } from './group.ts'

export interface PyramidOptions {
  /** Smallest window side, in pixels of `g`. */
  minWin: number
  /** Largest window side, in pixels of `g` (default: the shorter side). */
  maxWin?: number
  /** Ratio between successive window sizes (OpenCV default 1.1). */
  scaleFactor: number
  /** Window step in level pixels: `step(levelFactor)`. */
  step: (factor: number) => number
  minStd: number
  /** Coarse-to-fine stage count (see ScanOptions.coarse); 0 = off. */
  coarse?: number
  /** Restrict windows to this region of `g` (pixels of g); default the whole image. */
  region?: { x: number; y: number; w: number; h: number }
}

export interface PyramidStats { windows: number; levels: number }

/**
 * Scans `g` at window sizes minWin·scaleFactor^k (the image is resampled per level, the cascade
 * keeps its training size) and returns every accepted window in pixels of `g`.
 */
export function scanPyramid(c: Cascade, g: Gray, opt: PyramidOptions, stats?: PyramidStats): Hit[] {
  const hits: Hit[] = []
  const maxWin = Math.min(opt.maxWin ?? Infinity, g.width, g.height)
  const first = opt.minWin / c.winW
  let factor = Math.max(first, 1e-6)
  const lw0 = Math.max(1, Math.round(g.width / Math.max(factor, 0.25)))
  const lh0 = Math.max(1, Math.round(g.height / Math.max(factor, 0.25)))
  const ii = allocIntegral((lw0 + 1) * (lh0 + 1))
  const row = new Int32Array(lw0 + 1)
  for (; ; factor *= opt.scaleFactor) {
    const win = c.winW * factor
    if (win > maxWin + 1e-9) break
    const lw = Math.round(g.width / factor)
    const lh = Math.round(g.height / factor)
    if (lw < c.winW || lh < c.winH) break
    levelIntegral(g, lw, lh, ii, row)
    const r = opt.region
    const scanOpt = { step: opt.step(factor), minStd: opt.minStd, coarse: opt.coarse ?? 0 } as Parameters<typeof scanLevel>[2]
    if (r) {
      scanOpt.x0 = Math.floor(r.x / factor)
      scanOpt.y0 = Math.floor(r.y / factor)
      scanOpt.x1 = Math.ceil((r.x + r.w) / factor) - c.winW
      scanOpt.y1 = Math.ceil((r.y + r.h) / factor) - c.winH
    }
    const n = scanLevel(c, ii, scanOpt, (x, y, score) => {
      hits.push({ x: x * factor, y: y * factor, w: c.winW * factor, h: c.winH * factor, score })
    })
    if (stats) { stats.windows += n; stats.levels++ }
  }
  return hits
}
