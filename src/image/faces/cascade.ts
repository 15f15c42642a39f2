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
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const magic = String.fromCharCode(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!)
  if (magic !== 'HSC1') throw new Error('not a face cascade (bad magic)')
  let o = 4
  const winW = dv.getUint8(o++)
  const winH = dv.getUint8(o++)
  const nStages = dv.getUint16(o, true); o += 2
  const nFeatures = dv.getUint16(o, true); o += 2
  const nWeak = dv.getUint32(o, true); o += 4
  const nNodes = dv.getUint32(o, true); o += 4
  const nLeaves = dv.getUint32(o, true); o += 4
  const stageWeak = new Uint32Array(nStages + 1)
  const stageThr = new Float64Array(nStages)
  for (let s = 0; s < nStages; s++) {
    stageWeak[s + 1] = stageWeak[s]! + dv.getUint16(o, true); o += 2
    stageThr[s] = dv.getFloat32(o, true) - THRESHOLD_EPS; o += 4
  }
  const weakNode = new Uint32Array(nWeak + 1)
  const weakLeaf = new Uint32Array(nWeak + 1)
  let maxNodes = 0
  for (let w = 0; w < nWeak; w++) {
    const nn = dv.getUint8(o++)
    const nl = dv.getUint8(o++)
    maxNodes = Math.max(maxNodes, nn)
    weakNode[w + 1] = weakNode[w]! + nn
    weakLeaf[w + 1] = weakLeaf[w]! + nl
  }
  const nodeLeft = new Int8Array(nNodes)
  const nodeRight = new Int8Array(nNodes)
  const nodeFeat = new Uint16Array(nNodes)
  const nodeThr = new Float64Array(nNodes)
  for (let n = 0; n < nNodes; n++) {
    nodeLeft[n] = dv.getInt8(o++)
    nodeRight[n] = dv.getInt8(o++)
    nodeFeat[n] = dv.getUint16(o, true); o += 2
    nodeThr[n] = dv.getFloat32(o, true); o += 4
  }
  const leaves = new Float64Array(nLeaves)
  for (let l = 0; l < nLeaves; l++) { leaves[l] = dv.getFloat32(o, true); o += 4 }
  const featRects: number[][] = []
  for (let f = 0; f < nFeatures; f++) {
    const n = dv.getUint8(o++)
    const rects: number[] = []
    for (let r = 0; r < n; r++) {
      rects.push(dv.getUint8(o), dv.getUint8(o + 1), dv.getUint8(o + 2), dv.getUint8(o + 3), dv.getInt8(o + 4))
      o += 5
    }
    featRects.push(rects)
  }
  if (o !== bytes.length) throw new Error('face cascade: trailing bytes')
  const nodeRects = new Uint8Array(nNodes * 12)
  const nodeNRects = new Uint8Array(nNodes)
  const nodeWeights = new Float64Array(nNodes * 3)
  for (let n = 0; n < nNodes; n++) {
    const r = featRects[nodeFeat[n]!]!
    const k = r.length / 5
    nodeNRects[n] = k
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < 4; j++) nodeRects[n * 12 + i * 4 + j] = r[i * 5 + j]!
      nodeWeights[n * 3 + i] = r[i * 5 + 4]!
    }
  }
  return { winW, winH, nStages, stageWeak, stageThr, weakNode, weakLeaf, nodeLeft, nodeRight, nodeThr, leaves, nodeRects, nodeNRects, nodeWeights, maxNodes }
}

const cache = new Map<string, Cascade>()

const SOURCES = { alt2: ALT2, default: DEFAULT, eye: EYE }

/** The embedded cascades: faces `alt2` (trees, 20×20) and `default` (stumps, 24×24), `eye` (20×20). */
export function cascade(name: keyof typeof SOURCES): Cascade {
  let c = cache.get(name)
  if (!c) {
    c = decodeCascade(Buffer.from(SOURCES[name], 'base64'))
    cache.set(name, c)
  }
  return c
}
