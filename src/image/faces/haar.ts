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
  /** Squared sums, modulo 2³² (wrap-around): a window's difference of four corners, taken `| 0`,
   *  is exact as long as the window's own sum of squares is below 2³¹ (255²·18² ≈ 2.1·10⁷). */
  sq: Int32Array
}

export function allocIntegral(maxPixels: number): Integral {
  return { width: 0, height: 0, stride: 0, sum: new Int32Array(maxPixels), sq: new Int32Array(maxPixels) }
}

/**
 * Resamples `g` (bilinear, pixel centres aligned, like OpenCV's INTER_LINEAR) to lw×lh and writes
 * the integral images of the rounded result into `ii` (which must hold (lw+1)·(lh+1) entries).
 */
export function levelIntegral(g: Gray, lw: number, lh: number, ii: Integral, row: Int32Array): void {
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
      for (let x = 0; x < lw; x++) row[x] = (data[base + x]! + 0.5) | 0
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
        row[x] = (top + (bot - top) * ay + 0.5) | 0
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
      rs = (rs + v) | 0
      rq = (rq + v * v) | 0
      S[o + x + 1] = (S[p + x + 1]! + rs) | 0
      Q[o + x + 1] = (Q[p + x + 1]! + rq) | 0
    }
  }
}

/** One stage of a cascade as a specialised function: (integral, window offset, stride, σ·area) → leaf sum. */
export type StageFn = (S: Int32Array, p: number, st: number, nf: number) => number

/** A few stages from COMPILED_STAGES on in one function: returns the stage reached (its end when
 *  all pass), the last passed stage's margin in m[0]. */
export type TailFn = (S: Int32Array, p: number, st: number, nf: number, m: Float64Array) => number

export interface Compiled { stages: StageFn[]; tails: TailFn[]; tailEnd: number; thresholds: Float64Array; winW: number; winH: number }

const compiled = new WeakMap<Cascade, Compiled>()

/**
 * Turns the first (hot) stages into straight-line code: every Haar feature becomes a weighted
 * sum of its distinct integral-image corners (shared corners of adjacent rectangles merged), with
 * the thresholds and leaf values as numeric literals. The source text is built only from the
 * embedded cascade's numbers (nothing from the image or the caller), once per process; it saves
 * ~15–20 % of the scan time over `evalFrom`. The rare later stages stay interpreted (below).
 */
export function compileCascade(c: Cascade): Compiled {
  const hit = compiled.get(c)
  if (hit) return hit
  const num = (v: number) => (Object.is(v, -0) ? '0' : String(v))
  const feature = (n: number): string => {
    const corners = new Map<string, number>()
    const add = (x: number, y: number, k: number) => {
      const key = `${x},${y}`
      corners.set(key, (corners.get(key) ?? 0) + k)
    }
    for (let r = 0; r < c.nodeNRects[n]!; r++) {
      const b = n * 12 + r * 4
      const x = c.nodeRects[b]!, y = c.nodeRects[b + 1]!, w = c.nodeRects[b + 2]!, h = c.nodeRects[b + 3]!
      const wt = c.nodeWeights[n * 3 + r]!
      add(x, y, wt); add(x + w, y, -wt); add(x, y + h, -wt); add(x + w, y + h, wt)
    }
    const terms: string[] = []
    for (const [key, k] of corners) {
      if (k === 0) continue
      const [x, y] = key.split(',').map(Number) as [number, number]
      const idx = `S[p${y ? ` + r${y}` : ''}${x ? ` + ${x}` : ''}]`
      terms.push(k === 1 ? `+${idx}` : k === -1 ? `-${idx}` : `${k > 0 ? '+' : ''}${k}*${idx}`)
    }
    return terms.join(' ') || '0'
  }
  const tree = (wk: number, idx: number): string => {
    const n = c.weakNode[wk]! + idx
    const leaf = (child: number) => (child <= 0 ? `s += ${num(c.leaves[c.weakLeaf[wk]! - child]!)};` : tree(wk, child))
    return `if ((${feature(n)}) < ${num(c.nodeThr[n]!)} * nf) { ${leaf(c.nodeLeft[n]!)} } else { ${leaf(c.nodeRight[n]!)} }`
  }
  const stages: StageFn[] = []
  const maxY = Math.max(c.winH, c.winW)
  for (let s = 0; s < Math.min(c.nStages, COMPILED_STAGES); s++) {
    const trees: string[] = []
    for (let wk = c.stageWeak[s]!; wk < c.stageWeak[s + 1]!; wk++) trees.push(tree(wk, 0))
    const code = trees.join('\n')
    const body: string[] = ['let s = 0;']
    // Only the row offsets this stage reads.
    for (let y = 1; y <= maxY; y++) if (code.includes(`r${y}]`) || code.includes(`r${y} `)) body.push(`const r${y} = ${y} * st;`)
    body.push(code, 'return s;')
    stages.push(new Function('S', 'p', 'st', 'nf', body.join('\n')) as StageFn)
  }
  // The next stages in a few functions of two stages each (stage by stage, early return): each is
  // called for every window that reaches it, often enough to be optimised, unlike one function
  // per late stage (or one long function, which the JIT also leaves unoptimised).
  const tails: TailFn[] = []
  for (let s0 = COMPILED_STAGES; s0 < Math.min(c.nStages, TAIL_END); s0 += TAIL_CHUNK) {
    const s1 = Math.min(c.nStages, TAIL_END, s0 + TAIL_CHUNK)
    const used = new Set<number>()
    const parts: string[] = []
    for (let s = s0; s < s1; s++) {
      const trees: string[] = []
      for (let wk = c.stageWeak[s]!; wk < c.stageWeak[s + 1]!; wk++) trees.push(tree(wk, 0))
      const code = trees.join('\n')
      for (let y = 1; y <= maxY; y++) if (code.includes(`r${y}]`) || code.includes(`r${y} `)) used.add(y)
      parts.push(`s = 0;\n${code}\nif (s < ${num(c.stageThr[s]!)}) return ${s};\nm[0] = s - ${num(c.stageThr[s]!)};`)
    }
    const body = ['let s = 0;', ...[...used].sort((a, b) => a - b).map((y) => `const r${y} = ${y} * st;`), ...parts, `return ${s1};`]
    tails.push(new Function('S', 'p', 'st', 'nf', 'm', body.join('\n')) as TailFn)
  }
  // (scanLevel calls at most two of them: TAIL_END − COMPILED_STAGES ≤ 2·TAIL_CHUNK.)
  const tailEnd = Math.max(COMPILED_STAGES, Math.min(c.nStages, TAIL_END))
  const out: Compiled = { stages, tails, tailEnd, thresholds: c.stageThr, winW: c.winW, winH: c.winH }
  compiled.set(c, out)
  return out
}

/**
 * The later stages, interpreted from flat arrays: one hot loop that the JIT optimises after a few
 * windows, whereas one generated function per late stage would run rarely and stay interpreted
 * (they only see windows that already look like faces). Each node's feature is its list of
 * distinct integral-image corners with integer weights.
 */
interface Flat {
  cornerStart: Uint32Array
  dx: Uint8Array
  dy: Uint8Array
  /** Integer corner weights (Haar rectangle weights are −1, 2, 3): exact integer sums. */
  coef: Int32Array
  offsets: Map<number, Int32Array>
}
const flats = new WeakMap<Cascade, Flat>()

function flatOf(c: Cascade): Flat {
  let f = flats.get(c)
  if (f) return f
  const n = c.nodeNRects.length
  const start = new Uint32Array(n + 1)
  const dx: number[] = []
  const dy: number[] = []
  const coef: number[] = []
  for (let i = 0; i < n; i++) {
    const corners = new Map<number, number>()
    for (let r = 0; r < c.nodeNRects[i]!; r++) {
      const b = i * 12 + r * 4
      const x = c.nodeRects[b]!, y = c.nodeRects[b + 1]!, w = c.nodeRects[b + 2]!, h = c.nodeRects[b + 3]!
      const wt = c.nodeWeights[i * 3 + r]!
      for (const [cx, cy, k] of [[x, y, wt], [x + w, y, -wt], [x, y + h, -wt], [x + w, y + h, wt]] as const) {
        const key = cy * 256 + cx
        corners.set(key, (corners.get(key) ?? 0) + k)
      }
    }
    for (const [key, k] of corners) {
      if (k === 0) continue
      dx.push(key & 255); dy.push(key >> 8); coef.push(k)
    }
    start[i + 1] = dx.length
  }
  f = { cornerStart: start, dx: Uint8Array.from(dx), dy: Uint8Array.from(dy), coef: Int32Array.from(coef), offsets: new Map() }
  flats.set(c, f)
  return f
}

function offsetsFor(f: Flat, stride: number): Int32Array {
  let o = f.offsets.get(stride)
  if (!o) {
    if (f.offsets.size > 256) f.offsets.clear()
    o = new Int32Array(f.dx.length)
    for (let i = 0; i < o.length; i++) o[i] = f.dy[i]! * stride + f.dx[i]!
    f.offsets.set(stride, o)
  }
  return o
}

let genericLast = 0

/** Stages from `from` on for the window at p; returns the stage reached, margin in genericLast. */
function evalFrom(c: Cascade, f: Flat, off: Int32Array, S: Int32Array, p: number, nf: number, from: number): number {
  const { nStages, stageWeak, stageThr, weakNode, weakLeaf, nodeLeft, nodeRight, nodeThr, leaves } = c
  const start = f.cornerStart
  const coef = f.coef
  let st = from
  for (; st < nStages; st++) {
    let sum = 0
    const wEnd = stageWeak[st + 1]!
    for (let wk = stageWeak[st]!; wk < wEnd; wk++) {
      const nb = weakNode[wk]!
      let idx = 0
      for (;;) {
        const n = nb + idx
        let v = 0
        const e = start[n + 1]!
        for (let j = start[n]!; j < e; j++) v = (v + coef[j]! * S[p + off[j]!]!) | 0
        const next = v < nodeThr[n]! * nf ? nodeLeft[n]! : nodeRight[n]!
        if (next <= 0) {
          sum += leaves[weakLeaf[wk]! - next]!
          break
        }
        idx = next
      }
    }
    if (sum < stageThr[st]!) break
    genericLast = sum - stageThr[st]!
  }
  return st
}

/** Stages run as generated code (the hot ones); the rest go through `evalFrom`. */
const COMPILED_STAGES = 6
/** Stages from COMPILED_STAGES up to here (exclusive) run in generated functions of TAIL_CHUNK stages. */
const TAIL_END = 10
const TAIL_CHUNK = 2
const tailMargin = new Float64Array(1)

export interface ScanOptions {
  /** Window step in level pixels. */
  step: number
  /** Skip windows whose standard deviation (grey levels) is below this (flat areas). */
  minStd: number
  /** Report windows that pass at least this many stages (default: all of them). */
  accept?: number
  /** Stop after this many reported windows. */
  maxHits?: number
  /** Only windows with their top-left inside this region of the level (default all). */
  x0?: number
  y0?: number
  x1?: number
  y1?: number
}

/**
 * Runs the cascade on the windows of one level. `hit(x, y, stages, score)` gets each window that
 * passes at least `accept` stages (top-left in level pixels; `stages` passed; score = the last
 * passed stage's sum minus its threshold, in that stage's units). Returns windows evaluated.
 */
export function scanLevel(c: Cascade, ii: Integral, opt: ScanOptions, hit: (x: number, y: number, stages: number, score: number) => void): number {
  const { stride, sum: S, sq: Q } = ii
  const cc = compileCascade(c)
  const winW = c.winW
  const winH = c.winH
  const xEnd = Math.min(ii.width - winW, opt.x1 ?? Infinity)
  const yEnd = Math.min(ii.height - winH, opt.y1 ?? Infinity)
  const xStart = Math.max(0, opt.x0 ?? 0)
  const yStart = Math.max(0, opt.y0 ?? 0)
  if (xEnd < xStart || yEnd < yStart) return 0
  const stages = cc.stages
  const thr = cc.thresholds
  const nStages = c.nStages
  const accept = Math.min(nStages, opt.accept ?? nStages)
  const area = (winW - 2) * (winH - 2)
  const nTl = stride + 1
  const nTr = stride + winW - 1
  const nBl = (winH - 1) * stride + 1
  const nBr = (winH - 1) * stride + winW - 1
  const minVar = opt.minStd * opt.minStd * area * area
  const step = opt.step
  const s0 = stages[0]!
  const t0 = thr[0]!
  const nHot = Math.min(COMPILED_STAGES, nStages)
  const flat = flatOf(c)
  const off = offsetsFor(flat, stride)
  const nTails = cc.tails.length
  const tail0 = cc.tails[0]!
  const tail1 = cc.tails[1]!
  const tailEnd = nTails ? cc.tailEnd : nHot
  const maxHits = opt.maxHits ?? Infinity
  let hits = 0
  let count = 0
  for (let y = yStart; y <= yEnd; y += step) {
    for (let x = xStart; x <= xEnd; x += step) {
      const p = y * stride + x
      const s = S[p + nBr]! - S[p + nTr]! - S[p + nBl]! + S[p + nTl]!
      const q = (Q[p + nBr]! - Q[p + nTr]! - Q[p + nBl]! + Q[p + nTl]!) | 0
      let nf = area * q - s * s
      if (nf < minVar) continue
      count++
      nf = nf > 0 ? Math.sqrt(nf) : 1
      let sum = s0(S, p, stride, nf)
      if (sum < t0) continue
      let last = sum - t0
      let st = 1
      for (; st < nHot; st++) {
        sum = stages[st]!(S, p, stride, nf)
        if (sum < thr[st]!) break
        last = sum - thr[st]!
      }
      if (st === nHot && nTails) {
        const t0 = st
        st = tail0(S, p, stride, nf, tailMargin)
        if (nTails > 1 && st === t0 + TAIL_CHUNK) st = tail1(S, p, stride, nf, tailMargin)
        if (st > t0) last = tailMargin[0]!
      }
      if (st === tailEnd && tailEnd < nStages) {
        st = evalFrom(c, flat, off, S, p, nf, tailEnd)
        if (st > tailEnd) last = genericLast
      }
      if (st >= accept) {
        hit(x, y, st, last)
        if (++hits >= maxHits) return count
      }
    }
  }
  return count
}
