/**
 * Viola–Jones evaluation on an image pyramid: integral images (sum and squared sum), variance
 * normalisation over the window's inner area, stage-wise early rejection. Numerically the same
 * rules as OpenCV's `CascadeClassifier` (feature sum / (area·σ) against node thresholds, leaf
 * sums against stage thresholds), so the BSD cascades behave as they were trained.
 * Buffers are typed arrays that callers reuse; nothing is allocated per window.
 */
import type { Cascade } from './cascade.ts'

/** A grey image, one float per pixel (0–255). */
export interface Gray {
  width: number
  height: number
  data: Float32Array
}

export interface Integral {
  width: number
  height: number
  /** Entries per row: width + 1. */
  stride: number
  sum: Int32Array
  /** Squared sums, modulo 2³² (wrap-around): a window's difference of four corners, taken `| 0`,
   *  is exact as long as the window's own sum of squares is below 2³¹ (255²·18² ≈ 2.1·10⁷). */
  sq: Int32Array
}

/** What one level scan works in: its integral images and one row of rounded grey values. */
export interface ScanBuffers {
  integral: Integral
  row: Int32Array
}

export function allocScanBuffers(maxPixels: number, maxRowWidth: number): ScanBuffers {
  const integral = { width: 0, height: 0, stride: 0, sum: new Int32Array(maxPixels), sq: new Int32Array(maxPixels) }
  return { integral, row: new Int32Array(maxRowWidth) }
}

/**
 * Where output sample `index` of a downscale by `step` reads the source (pixel centres aligned):
 * the first source pixel and the weight of the next one, clamped to the last pixel.
 */
function bilinearSource(index: number, step: number, size: number): [number, number] {
  let source = (index + 0.5) * step - 0.5
  if (source < 0) source = 0
  let first = Math.floor(source)
  if (first >= size - 1) {
    first = size - 1
    source = first
  }
  return [first, source - first]
}

/**
 * Resamples `image` (bilinear, pixel centres aligned, like OpenCV's INTER_LINEAR) to
 * levelWidth × levelHeight and writes the integral images of the rounded result into `buffers`
 * (which must hold (levelWidth + 1)·(levelHeight + 1) entries and a row of levelWidth + 1).
 */
export function levelIntegral(image: Gray, levelWidth: number, levelHeight: number, buffers: ScanBuffers): void {
  const { width: imageWidth, height: imageHeight, data } = image
  const { integral, row } = buffers
  const stride = levelWidth + 1
  integral.width = levelWidth
  integral.height = levelHeight
  integral.stride = stride
  const sums = integral.sum
  const squares = integral.sq
  for (let x = 0; x <= levelWidth; x++) {
    sums[x] = 0
    squares[x] = 0
  }
  const stepX = imageWidth / levelWidth
  const stepY = imageHeight / levelHeight
  const sameSize = levelWidth === imageWidth && levelHeight === imageHeight
  // Horizontal sample positions once per level: left source column and weight of the right one.
  const leftColumns = new Int32Array(levelWidth)
  const rightWeights = new Float32Array(levelWidth)
  for (let x = 0; x < levelWidth; x++) {
    const [column, weight] = bilinearSource(x, stepX, imageWidth)
    leftColumns[x] = column
    rightWeights[x] = weight
  }
  for (let y = 0; y < levelHeight; y++) {
    if (sameSize) {
      const base = y * imageWidth
      for (let x = 0; x < levelWidth; x++) row[x] = (data[base + x]! + 0.5) | 0
    } else {
      const [topRow, bottomWeight] = bilinearSource(y, stepY, imageHeight)
      const topBase = topRow * imageWidth
      const bottomBase = topRow + 1 < imageHeight ? topBase + imageWidth : topBase
      for (let x = 0; x < levelWidth; x++) {
        const left = leftColumns[x]!
        const rightWeight = rightWeights[x]!
        const right = left + 1 < imageWidth ? left + 1 : left
        const top = data[topBase + left]! + (data[topBase + right]! - data[topBase + left]!) * rightWeight
        const bottom = data[bottomBase + left]! + (data[bottomBase + right]! - data[bottomBase + left]!) * rightWeight
        row[x] = (top + (bottom - top) * bottomWeight + 0.5) | 0
      }
    }
    const rowStart = (y + 1) * stride
    const rowAbove = y * stride
    sums[rowStart] = 0
    squares[rowStart] = 0
    let rowSum = 0
    let rowSquares = 0
    for (let x = 0; x < levelWidth; x++) {
      const value = row[x]!
      rowSum = (rowSum + value) | 0
      rowSquares = (rowSquares + value * value) | 0
      sums[rowStart + x + 1] = (sums[rowAbove + x + 1]! + rowSum) | 0
      squares[rowStart + x + 1] = (squares[rowAbove + x + 1]! + rowSquares) | 0
    }
  }
}

/*
 * The per-window evaluators below take positional parameters on purpose: they run for every window
 * (hundreds of thousands per image), where an options object would cost an allocation or a lookup.
 */

/** One stage as a specialised function: (integral sums, window offset, stride, σ·area) → leaf sum. */
export type StageFn = (sums: Int32Array, at: number, stride: number, norm: number) => number

/** A few stages from COMPILED_STAGES on in one function: returns the stage reached (its end when
 *  all pass), the last passed stage's margin in margin[0]. */
export type TailFn = (sums: Int32Array, at: number, stride: number, norm: number, margin: Float64Array) => number

export interface Compiled {
  stages: StageFn[]
  tails: TailFn[]
  /** First stage after the tails (evaluated by `evalLateStages`). */
  tailEnd: number
  thresholds: Float64Array
}

const compiled = new WeakMap<Cascade, Compiled>()

/** Source text of a number literal (−0 as 0). */
const literal = (value: number) => (Object.is(value, -0) ? '0' : String(value))

/** Rows `row1`, `row2`, … that a piece of generated code reads (see `compileCascade`). */
function rowsRead(code: string, maxRow: number): number[] {
  const rows: number[] = []
  for (let y = 1; y <= maxRow; y++) if (code.includes(`row${y}]`) || code.includes(`row${y} `)) rows.push(y)
  return rows
}

/**
 * A Haar feature as the integral-image corners it reads, `[x, y, weight]`: each rectangle adds its
 * four corners (+ − − +), corners shared by adjacent rectangles are merged, and corners whose
 * weights cancel are dropped. Both the compiled and the interpreted stages read features this way.
 */
function featureCorners(cascade: Cascade, node: number): Array<[number, number, number]> {
  const corners = new Map<number, [number, number, number]>()
  const add = (x: number, y: number, weight: number) => {
    const key = y * 256 + x
    const corner = corners.get(key)
    if (corner) corner[2] += weight
    else corners.set(key, [x, y, weight])
  }
  for (let rect = 0; rect < cascade.nodeNRects[node]!; rect++) {
    const base = node * 12 + rect * 4
    const x = cascade.nodeRects[base]!
    const y = cascade.nodeRects[base + 1]!
    const width = cascade.nodeRects[base + 2]!
    const height = cascade.nodeRects[base + 3]!
    const weight = cascade.nodeWeights[node * 3 + rect]!
    add(x, y, weight)
    add(x + width, y, -weight)
    add(x, y + height, -weight)
    add(x + width, y + height, weight)
  }
  return [...corners.values()].filter(([, , weight]) => weight !== 0)
}

/**
 * Turns the first (hot) stages into straight-line code: every Haar feature becomes a weighted
 * sum of its distinct integral-image corners (shared corners of adjacent rectangles merged), with
 * the thresholds and leaf values as numeric literals. The source text is built only from the
 * embedded cascade's numbers (nothing from the image or the caller), once per process; it saves
 * ~15–20 % of the scan time over `evalLateStages`. The rare later stages stay interpreted (below).
 */
export function compileCascade(cascade: Cascade): Compiled {
  const known = compiled.get(cascade)
  if (known) return known
  const featureSum = (node: number): string => {
    const terms: string[] = []
    for (const [x, y, weight] of featureCorners(cascade, node)) {
      const read = `sums[at${y ? ` + row${y}` : ''}${x ? ` + ${x}` : ''}]`
      if (weight === 1) terms.push(`+${read}`)
      else if (weight === -1) terms.push(`-${read}`)
      else terms.push(`${weight > 0 ? '+' : ''}${weight}*${read}`)
    }
    return terms.join(' ') || '0'
  }
  const tree = (weak: number, child: number): string => {
    const node = cascade.weakNode[weak]! + child
    const branch = (next: number) =>
      next <= 0 ? `leafSum += ${literal(cascade.leaves[cascade.weakLeaf[weak]! - next]!)};` : tree(weak, next)
    const threshold = literal(cascade.nodeThr[node]!)
    return (
      `if ((${featureSum(node)}) < ${threshold} * norm) { ${branch(cascade.nodeLeft[node]!)} } ` +
      `else { ${branch(cascade.nodeRight[node]!)} }`
    )
  }
  const stageCode = (stage: number): string => {
    const trees: string[] = []
    for (let weak = cascade.stageWeak[stage]!; weak < cascade.stageWeak[stage + 1]!; weak++) trees.push(tree(weak, 0))
    return trees.join('\n')
  }
  const maxRow = Math.max(cascade.winH, cascade.winW)
  const rowOffsets = (rows: number[]) => rows.map((y) => `const row${y} = ${y} * stride;`)
  const stages: StageFn[] = []
  for (let stage = 0; stage < Math.min(cascade.nStages, COMPILED_STAGES); stage++) {
    const code = stageCode(stage)
    // Only the row offsets this stage reads.
    const body = ['let leafSum = 0;', ...rowOffsets(rowsRead(code, maxRow)), code, 'return leafSum;']
    stages.push(new Function('sums', 'at', 'stride', 'norm', body.join('\n')) as StageFn)
  }
  // The next stages in a few functions of two stages each (stage by stage, early return): each is
  // called for every window that reaches it, often enough to be optimised, unlike one function
  // per late stage (or one long function, which the JIT also leaves unoptimised).
  const tails: TailFn[] = []
  for (let first = COMPILED_STAGES; first < Math.min(cascade.nStages, TAIL_END); first += TAIL_CHUNK) {
    const end = Math.min(cascade.nStages, TAIL_END, first + TAIL_CHUNK)
    const rows = new Set<number>()
    const parts: string[] = []
    for (let stage = first; stage < end; stage++) {
      const code = stageCode(stage)
      for (const y of rowsRead(code, maxRow)) rows.add(y)
      const threshold = literal(cascade.stageThr[stage]!)
      const passOrReturn = [`if (leafSum < ${threshold}) return ${stage};`, `margin[0] = leafSum - ${threshold};`]
      parts.push('leafSum = 0;', code, ...passOrReturn)
    }
    const body = ['let leafSum = 0;', ...rowOffsets([...rows].sort((a, b) => a - b)), ...parts, `return ${end};`]
    tails.push(new Function('sums', 'at', 'stride', 'norm', 'margin', body.join('\n')) as TailFn)
  }
  // (scanLevel calls at most two of them: TAIL_END − COMPILED_STAGES ≤ 2·TAIL_CHUNK.)
  const tailEnd = Math.max(COMPILED_STAGES, Math.min(cascade.nStages, TAIL_END))
  const result: Compiled = { stages, tails, tailEnd, thresholds: cascade.stageThr }
  compiled.set(cascade, result)
  return result
}

/**
 * The later stages, interpreted from flat arrays: one hot loop that the JIT optimises after a few
 * windows, whereas one generated function per late stage would run rarely and stay interpreted
 * (they only see windows that already look like faces). Each node's feature is its list of
 * distinct integral-image corners with integer weights.
 */
interface FlatFeatures {
  /** Per node: index of its first corner (length nodes + 1). */
  cornerStart: Uint32Array
  cornerX: Uint8Array
  cornerY: Uint8Array
  /** Integer corner weights (Haar rectangle weights are −1, 2, 3): exact integer sums. */
  cornerWeight: Int32Array
  /** Corner offsets in the integral image, per stride. */
  offsetsByStride: Map<number, Int32Array>
}
const flatFeatures = new WeakMap<Cascade, FlatFeatures>()

function flatten(cascade: Cascade): FlatFeatures {
  const known = flatFeatures.get(cascade)
  if (known) return known
  const nodes = cascade.nodeNRects.length
  const cornerStart = new Uint32Array(nodes + 1)
  const cornerX: number[] = []
  const cornerY: number[] = []
  const cornerWeight: number[] = []
  for (let node = 0; node < nodes; node++) {
    for (const [x, y, weight] of featureCorners(cascade, node)) {
      cornerX.push(x)
      cornerY.push(y)
      cornerWeight.push(weight)
    }
    cornerStart[node + 1] = cornerX.length
  }
  const flat: FlatFeatures = {
    cornerStart,
    cornerX: Uint8Array.from(cornerX),
    cornerY: Uint8Array.from(cornerY),
    cornerWeight: Int32Array.from(cornerWeight),
    offsetsByStride: new Map(),
  }
  flatFeatures.set(cascade, flat)
  return flat
}

function cornerOffsets(flat: FlatFeatures, stride: number): Int32Array {
  let offsets = flat.offsetsByStride.get(stride)
  if (!offsets) {
    // Patches of the focused pass come in many sizes: keep the map from growing without bound.
    if (flat.offsetsByStride.size > 256) flat.offsetsByStride.clear()
    offsets = new Int32Array(flat.cornerX.length)
    for (let i = 0; i < offsets.length; i++) offsets[i] = flat.cornerY[i]! * stride + flat.cornerX[i]!
    flat.offsetsByStride.set(stride, offsets)
  }
  return offsets
}

/** What `evalLateStages` needs for one level: the cascade, its flat features, their offsets. */
interface LateStages {
  cascade: Cascade
  flat: FlatFeatures
  offsets: Int32Array
  first: number
}

/** Margin of the last stage `evalLateStages` passed (a module variable: no allocation per window). */
let lateMargin = 0

/** The stages from `late.first` on for the window at `at`; returns the stage reached. */
function evalLateStages(late: LateStages, sums: Int32Array, at: number, norm: number): number {
  const { nStages, stageWeak, stageThr, weakNode, weakLeaf, nodeLeft, nodeRight, nodeThr, leaves } = late.cascade
  const { cornerStart, cornerWeight } = late.flat
  const offsets = late.offsets
  let stage = late.first
  for (; stage < nStages; stage++) {
    let leafSum = 0
    const weakEnd = stageWeak[stage + 1]!
    for (let weak = stageWeak[stage]!; weak < weakEnd; weak++) {
      const firstNode = weakNode[weak]!
      let child = 0
      for (;;) {
        const node = firstNode + child
        let feature = 0
        const cornerEnd = cornerStart[node + 1]!
        for (let corner = cornerStart[node]!; corner < cornerEnd; corner++) {
          feature = (feature + cornerWeight[corner]! * sums[at + offsets[corner]!]!) | 0
        }
        const next = feature < nodeThr[node]! * norm ? nodeLeft[node]! : nodeRight[node]!
        if (next <= 0) {
          leafSum += leaves[weakLeaf[weak]! - next]!
          break
        }
        child = next
      }
    }
    if (leafSum < stageThr[stage]!) break
    lateMargin = leafSum - stageThr[stage]!
  }
  return stage
}

/** Stages run as generated code (the hot ones); the rest go through `evalLateStages`. */
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
  minStages?: number
  /** Stop after this many reported windows. */
  maxHits?: number
}

/** A window that passed: top-left in level pixels, stages passed, margin of the last one passed. */
export type OnHit = (x: number, y: number, stages: number, score: number) => void

/**
 * Runs the cascade on the windows of one level. `onHit` gets each window that passes at least
 * `minStages` stages (score = the last passed stage's sum minus its threshold, in that stage's
 * units). Returns how many windows were evaluated (not skipped as flat).
 */
export function scanLevel(cascade: Cascade, integral: Integral, options: ScanOptions, onHit: OnHit): number {
  const { stride, sum: sums, sq: squares } = integral
  const code = compileCascade(cascade)
  const winW = cascade.winW
  const winH = cascade.winH
  const xEnd = integral.width - winW
  const yEnd = integral.height - winH
  if (xEnd < 0 || yEnd < 0) return 0
  const stages = code.stages
  const thresholds = code.thresholds
  const nStages = cascade.nStages
  const minStages = Math.min(nStages, options.minStages ?? nStages)
  // Variance over the window's inner area (a 1-px border left out, as OpenCV does): its corners.
  const area = (winW - 2) * (winH - 2)
  const topLeft = stride + 1
  const topRight = stride + winW - 1
  const bottomLeft = (winH - 1) * stride + 1
  const bottomRight = (winH - 1) * stride + winW - 1
  const minVariance = options.minStd * options.minStd * area * area
  const step = options.step
  const firstStage = stages[0]!
  const firstThreshold = thresholds[0]!
  const hotEnd = Math.min(COMPILED_STAGES, nStages)
  const tailCount = code.tails.length
  const firstTail = code.tails[0]!
  const secondTail = code.tails[1]!
  const tailEnd = tailCount ? code.tailEnd : hotEnd
  const flat = flatten(cascade)
  const late: LateStages = { cascade, flat, offsets: cornerOffsets(flat, stride), first: tailEnd }
  const maxHits = options.maxHits ?? Infinity
  let hits = 0
  let evaluated = 0
  for (let y = 0; y <= yEnd; y += step) {
    for (let x = 0; x <= xEnd; x += step) {
      const at = y * stride + x
      const sum = sums[at + bottomRight]! - sums[at + topRight]! - sums[at + bottomLeft]! + sums[at + topLeft]!
      const sumOfSquares =
        (squares[at + bottomRight]! - squares[at + topRight]! - squares[at + bottomLeft]! + squares[at + topLeft]!) | 0
      let norm = area * sumOfSquares - sum * sum
      if (norm < minVariance) continue
      evaluated++
      norm = norm > 0 ? Math.sqrt(norm) : 1
      let leafSum = firstStage(sums, at, stride, norm)
      if (leafSum < firstThreshold) continue
      let margin = leafSum - firstThreshold
      let stage = 1
      for (; stage < hotEnd; stage++) {
        leafSum = stages[stage]!(sums, at, stride, norm)
        if (leafSum < thresholds[stage]!) break
        margin = leafSum - thresholds[stage]!
      }
      if (stage === hotEnd && tailCount) {
        const tailStart = stage
        stage = firstTail(sums, at, stride, norm, tailMargin)
        if (tailCount > 1 && stage === tailStart + TAIL_CHUNK) stage = secondTail(sums, at, stride, norm, tailMargin)
        if (stage > tailStart) margin = tailMargin[0]!
      }
      if (stage === tailEnd && tailEnd < nStages) {
        stage = evalLateStages(late, sums, at, norm)
        if (stage > tailEnd) margin = lateMargin
      }
      if (stage >= minStages) {
        onHit(x, y, stage, margin)
        if (++hits >= maxHits) return evaluated
      }
    }
  }
  return evaluated
}
