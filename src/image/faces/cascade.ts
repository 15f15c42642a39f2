/**
 * Boosted Haar cascades (Viola–Jones, Lienhart's extended set without tilted features) as flat
 * typed arrays, decoded from the compact binary that `scripts/build-face-cascades.ts` makes out of
 * OpenCV's XML files (layout documented there). Decoded once per process, lazily.
 */
import { ALT2, DEFAULT, EYE } from './cascades.gen.ts'

export interface Cascade {
  /** Training window (20×20 for alt2, 24×24 for default). */
  winW: number
  winH: number
  nStages: number
  /** Per stage: index of its first weak classifier, and one past its last (length nStages + 1). */
  stageWeak: Uint32Array
  /** Per stage: rejection threshold (OpenCV's minus 1e-5). */
  stageThr: Float64Array
  /** Per weak classifier: first node and first leaf. */
  weakNode: Uint32Array
  weakLeaf: Uint32Array
  /** Per node: children (≤ 0 = leaf −child, else node index within the tree), feature, threshold. */
  nodeLeft: Int8Array
  nodeRight: Int8Array
  nodeThr: Float64Array
  leaves: Float64Array
  /** Per node, its feature's rectangles (1–3) in window coordinates: x, y, w, h, weight. */
  nodeRects: Uint8Array
  nodeNRects: Uint8Array
  nodeWeights: Float64Array
  /** Largest depth of any tree (1 = stumps). */
  maxNodes: number
}

const THRESHOLD_EPS = 1e-5

export function decodeCascade(bytes: Uint8Array): Cascade {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const magic = String.fromCharCode(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!)
  if (magic !== 'HSC1') throw new Error('not a face cascade (bad magic)')
  // Readers of the next little-endian field.
  let at = 4
  const advance = (bytesRead: number) => {
    const start = at
    at += bytesRead
    return start
  }
  const u8 = () => view.getUint8(advance(1))
  const i8 = () => view.getInt8(advance(1))
  const u16 = () => view.getUint16(advance(2), true)
  const u32 = () => view.getUint32(advance(4), true)
  const f32 = () => view.getFloat32(advance(4), true)
  const winW = u8()
  const winH = u8()
  const nStages = u16()
  const nFeatures = u16()
  const nWeak = u32()
  const nNodes = u32()
  const nLeaves = u32()
  const stageWeak = new Uint32Array(nStages + 1)
  const stageThr = new Float64Array(nStages)
  for (let stage = 0; stage < nStages; stage++) {
    stageWeak[stage + 1] = stageWeak[stage]! + u16()
    stageThr[stage] = f32() - THRESHOLD_EPS
  }
  const weakNode = new Uint32Array(nWeak + 1)
  const weakLeaf = new Uint32Array(nWeak + 1)
  let maxNodes = 0
  for (let weak = 0; weak < nWeak; weak++) {
    const nodes = u8()
    const leaves = u8()
    maxNodes = Math.max(maxNodes, nodes)
    weakNode[weak + 1] = weakNode[weak]! + nodes
    weakLeaf[weak + 1] = weakLeaf[weak]! + leaves
  }
  const nodeLeft = new Int8Array(nNodes)
  const nodeRight = new Int8Array(nNodes)
  const nodeFeature = new Uint16Array(nNodes)
  const nodeThr = new Float64Array(nNodes)
  for (let node = 0; node < nNodes; node++) {
    nodeLeft[node] = i8()
    nodeRight[node] = i8()
    nodeFeature[node] = u16()
    nodeThr[node] = f32()
  }
  const leaves = new Float64Array(nLeaves)
  for (let leaf = 0; leaf < nLeaves; leaf++) leaves[leaf] = f32()
  // Per feature: its rectangles, five numbers each (x, y, w, h, weight).
  const featureRects: number[][] = []
  for (let feature = 0; feature < nFeatures; feature++) {
    const count = u8()
    const rects: number[] = []
    for (let rect = 0; rect < count; rect++) rects.push(u8(), u8(), u8(), u8(), i8())
    featureRects.push(rects)
  }
  if (at !== bytes.length) throw new Error('face cascade: trailing bytes')
  const nodeRects = new Uint8Array(nNodes * 12)
  const nodeNRects = new Uint8Array(nNodes)
  const nodeWeights = new Float64Array(nNodes * 3)
  for (let node = 0; node < nNodes; node++) {
    const rects = featureRects[nodeFeature[node]!]!
    const count = rects.length / 5
    nodeNRects[node] = count
    for (let rect = 0; rect < count; rect++) {
      for (let field = 0; field < 4; field++) nodeRects[node * 12 + rect * 4 + field] = rects[rect * 5 + field]!
      nodeWeights[node * 3 + rect] = rects[rect * 5 + 4]!
    }
  }
  return {
    winW,
    winH,
    nStages,
    stageWeak,
    stageThr,
    weakNode,
    weakLeaf,
    nodeLeft,
    nodeRight,
    nodeThr,
    leaves,
    nodeRects,
    nodeNRects,
    nodeWeights,
    maxNodes,
  }
}

const cache = new Map<string, Cascade>()

const SOURCES = { alt2: ALT2, default: DEFAULT, eye: EYE }

/** The embedded cascades: faces `alt2` (trees, 20×20) and `default` (stumps, 24×24), `eye` (20×20). */
export function cascade(name: keyof typeof SOURCES): Cascade {
  let decoded = cache.get(name)
  if (!decoded) {
    decoded = decodeCascade(Buffer.from(SOURCES[name], 'base64'))
    cache.set(name, decoded)
  }
  return decoded
}
