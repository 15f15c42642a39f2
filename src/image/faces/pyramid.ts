/** Multi-scale sliding-window scanning with one cascade over a grey image (the probe pass). */
import type { Cascade } from './cascade.ts'
import { allocIntegral, levelIntegral, scanLevel, type Gray, type Integral } from './haar.ts'
import type { Hit } from './group.ts'

export interface PyramidOptions {
  /** Smallest window side, in pixels of `g`. */
  minWin: number
  /** Largest window side, in pixels of `g` (default: the shorter side). */
  maxWin?: number
  /** Ratio between successive window sizes (OpenCV default 1.1). */
  scaleFactor: number
  /** Window step in level pixels. */
  step: number
  minStd: number
  /** Report windows passing at least this many stages (default all). */
  accept?: number
  /** Levels with windows below this are skipped (the ladder stays anchored at minWin). */
  skipBelow?: number
  /**
   * Windows larger than this (px of g) use the denser `coarseScale`/`coarseStep`: those levels
   * are small, so density costs little there and keeps large faces well sampled.
   */
  denseFrom?: number
  coarseScale?: number
  coarseStep?: number
}

/** Integral images reused across calls (grown when needed; never read before written). */
let scratch: { ii: Integral; row: Int32Array } | undefined

export interface PyramidStats { windows: number; levels: number }

/** 2×2 box reduction (the next octave), so coarse levels average noise instead of sampling it. */
export function halve(g: Gray): Gray {
  const w = g.width >> 1
  const h = g.height >> 1
  const out = new Float32Array(w * h)
  const d = g.data
  const W = g.width
  for (let y = 0; y < h; y++) {
    const a = 2 * y * W
    const b = a + W
    const o = y * w
    for (let x = 0; x < w; x++) {
      const i = 2 * x
      out[o + x] = (d[a + i]! + d[a + i + 1]! + d[b + i]! + d[b + i + 1]!) * 0.25
    }
  }
  return { width: w, height: h, data: out }
}

/** Octaves of g (g, g/2, g/4, …) down to `minSide` px on the shorter side; built lazily. */
export class Octaves {
  private list: Gray[]
  constructor(g: Gray, private minSide = 24) { this.list = [g] }
  /** The coarsest octave no coarser than `factor` (so it is resampled by a factor in [1, 2)). */
  for(factor: number): { img: Gray; scale: number } {
    let o = 0
    while (2 ** (o + 1) <= factor) o++
    while (this.list.length <= o) {
      const last = this.list[this.list.length - 1]!
      if (Math.min(last.width, last.height) >> 1 < this.minSide) break
      this.list.push(halve(last))
    }
    o = Math.min(o, this.list.length - 1)
    return { img: this.list[o]!, scale: 2 ** o }
  }
}

/**
 * Scans `g` at window sizes minWin·scaleFactor^k (the image is resampled per level, the cascade
 * keeps its training size) and returns every reported window in pixels of `g`.
 */
export function scanPyramid(c: Cascade, g: Gray, opt: PyramidOptions, stats?: PyramidStats, octaves = new Octaves(g)): Hit[] {
  const hits: Hit[] = []
  const maxWin = Math.min(opt.maxWin ?? Infinity, g.width, g.height)
  let factor = opt.minWin / c.winW
  const lw0 = Math.max(1, Math.round(g.width / Math.max(factor, 0.25)))
  const lh0 = Math.max(1, Math.round(g.height / Math.max(factor, 0.25)))
  const need = (lw0 + 1) * (lh0 + 1)
  if (!scratch || scratch.ii.sum.length < need || scratch.row.length < lw0 + 1) scratch = { ii: allocIntegral(need), row: new Int32Array(lw0 + 1) }
  const { ii, row } = scratch
  for (; ; ) {
    if (c.winW * factor > maxWin + 1e-9) break
    const dense = opt.denseFrom !== undefined && c.winW * factor > opt.denseFrom
    if (opt.skipBelow !== undefined && c.winW * factor < opt.skipBelow * 0.999) {
      factor *= dense ? (opt.coarseScale ?? opt.scaleFactor) : opt.scaleFactor
      continue
    }
    const lw = Math.round(g.width / factor)
    const lh = Math.round(g.height / factor)
    if (lw < c.winW || lh < c.winH) break
    levelIntegral(octaves.for(factor).img, lw, lh, ii, row)
    const f = factor
    // Dense levels: the largest windows (few, cheap) are scanned more finely still.
    const rel = (c.winW * factor) / Math.min(g.width, g.height)
    const step = dense ? Math.max(1, Math.min(opt.coarseStep ?? opt.step, rel > 0.55 ? 1 : rel > 0.35 ? 2 : Infinity)) : opt.step
    const n = scanLevel(c, ii, { step, minStd: opt.minStd, accept: opt.accept }, (x, y, stages, score) => {
      hits.push({ x: x * f, y: y * f, w: c.winW * f, h: c.winH * f, score, stages })
    })
    if (stats) { stats.windows += n; stats.levels++ }
    factor *= dense ? (opt.coarseScale ?? opt.scaleFactor) : opt.scaleFactor
  }
  return hits
}
