/**
 * Viola–Jones evaluation on an image pyramid: integral images (sum and squared sum), variance
 * normalisation over the window's inner area, stage-wise early rejection. Numerically the same
 * rules as OpenCV's `CascadeClassifier` (feature sum / (area·σ) against node thresholds, leaf
 * sums against stage thresholds), so the BSD cascades behave as they were trained.
 * All buffers are typed arrays allocated per call; no per-window allocation.
 */
import type { Cascade } from './cascade.ts'

/** A grey image, one float per pixel (0–255). */
export interface Gray { width: number; height: number; data: Float32Array }

export interface Integral {
  width: number
  height: number
  /** (width + 1) */
  stride: number
  sum: Int32Array
  sq: Float64Array
}

export function allocIntegral(maxPixels: number): Integral {
  return { width: 0, height: 0, stride: 0, sum: new Int32Array(maxPixels), sq: new Float64Array(maxPixels) }
}

/**
 * Resamples `g` (bilinear, pixel centres aligned, like OpenCV's INTER_LINEAR) to lw×lh and writes
 * the integral images of the rounded result into `ii` (which must hold (lw+1)·(lh+1) entries).
 */
export function levelIntegral(g: Gray, lw: number, lh: number, ii: Integral, row: Float32Array): void {
  const { width: gw, height: gh, data } = g
  const stride = lw + 1
  ii.width = lw
  ii.height = lh
  ii.stride = stride
  const S = ii.sum
  const Q = ii.sq
  for (let x = 0; x <= lw; x++) { S[x] = 0; Q[x] = 0 }
  const fx = gw / lw
  const fy = gh / lh
  const same = lw === gw && lh === gh
  // Horizontal sample positions once per level.
  const x0s = new Int32Array(lw)
  const axs = new Float32Array(lw)
  for (let x = 0; x < lw; x++) {
    let sx = (x + 0.5) * fx - 0.5
    if (sx < 0) sx = 0
    let ix = Math.floor(sx)
    if (ix >= gw - 1) { ix = gw - 1; sx = ix }
    x0s[x] = ix
    axs[x] = sx - ix
  }
  for (let y = 0; y < lh; y++) {
    if (same) {
      const base = y * gw
      for (let x = 0; x < lw; x++) row[x] = Math.round(data[base + x]!)
    } else {
      let sy = (y + 0.5) * fy - 0.5
      if (sy < 0) sy = 0
      let iy = Math.floor(sy)
      if (iy >= gh - 1) { iy = gh - 1; sy = iy }
      const ay = sy - iy
      const r0 = iy * gw
      const r1 = iy + 1 < gh ? r0 + gw : r0
      for (let x = 0; x < lw; x++) {
        const ix = x0s[x]!
        const ax = axs[x]!
        const ix1 = ix + 1 < gw ? ix + 1 : ix
        const top = data[r0 + ix]! + (data[r0 + ix1]! - data[r0 + ix]!) * ax
        const bot = data[r1 + ix]! + (data[r1 + ix1]! - data[r1 + ix]!) * ax
        row[x] = Math.round(top + (bot - top) * ay)
      }
    }
    const o = (y + 1) * stride
    const p = y * stride
    S[o] = 0
    Q[o] = 0
    let rs = 0
    let rq = 0
    for (let x = 0; x < lw; x++) {
      const v = row[x]!
      rs += v
      rq += v * v
      S[o + x + 1] = S[p + x + 1]! + rs
      Q[o + x + 1] = Q[p + x + 1]! + rq
    }
  }
}

/** Rectangle corner offsets of every node for one integral stride (tl, tr, bl, br per rect). */
function nodeOffsets(c: Cascade, stride: number): Int32Array {
  const n = c.nodeNRects.length
  const off = new Int32Array(n * 12)
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < c.nodeNRects[i]!; r++) {
      const b = i * 12 + r * 4
      const x = c.nodeRects[b]!
      const y = c.nodeRects[b + 1]!
      const w = c.nodeRects[b + 2]!
      const h = c.nodeRects[b + 3]!
      off[b] = y * stride + x
      off[b + 1] = y * stride + x + w
      off[b + 2] = (y + h) * stride + x
      off[b + 3] = (y + h) * stride + x + w
    }
  }
  return off
}

export interface ScanOptions {
  /** Window step in level pixels. */
  step: number
  /** Skip windows whose standard deviation (grey levels) is below this (flat areas). */
  minStd: number
  /** Only windows with their top-left inside this region of the level (default all). */
  x0?: number
  y0?: number
  x1?: number
  y1?: number
}

/**
 * Runs the cascade on every window of one level. `hit(x, y, score)` gets each window that passes
 * all stages (top-left in level pixels; score = the last stage's sum minus its threshold).
 * Returns the number of windows evaluated.
 */
export function scanLevel(c: Cascade, ii: Integral, opt: ScanOptions, hit: (x: number, y: number, score: number) => void): number {
  const { stride, sum: S, sq: Q } = ii
  const winW = c.winW
  const winH = c.winH
  const xEnd = Math.min(ii.width - winW, opt.x1 ?? Infinity)
  const yEnd = Math.min(ii.height - winH, opt.y1 ?? Infinity)
  if (xEnd < 0 || yEnd < 0) return 0
  const off = nodeOffsets(c, stride)
  const { nStages, stageWeak, stageThr, weakNode, weakLeaf, nodeLeft, nodeRight, nodeThr, leaves, nodeNRects, nodeWeights } = c
  const nTl = stride + 1
  const nTr = stride + winW - 1
  const nBl = (winH - 1) * stride + 1
  const nBr = (winH - 1) * stride + winW - 1
  const area = (winW - 2) * (winH - 2)
  const minVar = opt.minStd * opt.minStd * area * area
  const step = opt.step
  let count = 0
  for (let y = Math.max(0, opt.y0 ?? 0); y <= yEnd; y += step) {
    for (let x = Math.max(0, opt.x0 ?? 0); x <= xEnd; x += step) {
      const p = y * stride + x
      const s = S[p + nBr]! - S[p + nTr]! - S[p + nBl]! + S[p + nTl]!
      const q = Q[p + nBr]! - Q[p + nTr]! - Q[p + nBl]! + Q[p + nTl]!
      let nf = area * q - s * s
      if (nf < minVar) continue
      count++
      nf = nf > 0 ? Math.sqrt(nf) : 1
      let st = 0
      let sum = 0
      for (; st < nStages; st++) {
        sum = 0
        const wEnd = stageWeak[st + 1]!
        for (let wk = stageWeak[st]!; wk < wEnd; wk++) {
          const nb = weakNode[wk]!
          let idx = 0
          for (;;) {
            const n = nb + idx
            const b = n * 12
            const w3 = n * 3
            let v = nodeWeights[w3]! * (S[p + off[b + 3]!]! - S[p + off[b + 1]!]! - S[p + off[b + 2]!]! + S[p + off[b]!]!)
              + nodeWeights[w3 + 1]! * (S[p + off[b + 7]!]! - S[p + off[b + 5]!]! - S[p + off[b + 6]!]! + S[p + off[b + 4]!]!)
            if (nodeNRects[n] === 3) v += nodeWeights[w3 + 2]! * (S[p + off[b + 11]!]! - S[p + off[b + 9]!]! - S[p + off[b + 10]!]! + S[p + off[b + 8]!]!)
            const next = v < nodeThr[n]! * nf ? nodeLeft[n]! : nodeRight[n]!
            if (next <= 0) {
              sum += leaves[weakLeaf[wk]! - next]!
              break
            }
            idx = next
          }
        }
        if (sum < stageThr[st]!) break
      }
      if (st === nStages) hit(x, y, sum - stageThr[nStages - 1]!)
    }
  }
  return count
}
