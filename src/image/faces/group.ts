/**
 * Grouping of raw window hits into clusters (OpenCV's `groupRectangles` rule: union-find over
 * "similar" rectangles, averaged per cluster), and non-maximum suppression of detections.
 */

export interface Hit {
  x: number
  y: number
  w: number
  h: number
  /** Window score (last passed stage's margin). */
  score: number
  /** Stages passed (the cascade's stage count = accepted). */
  stages?: number
}

export interface Cluster {
  /** The members' mean rectangle. */
  x: number
  y: number
  w: number
  h: number
  /** Number of raw windows merged. */
  members: number
  /** Deepest stage any member reached (when hits carry `stages`). */
  maxStages: number
}

interface Box {
  x: number
  y: number
  w: number
  h: number
}

/** OpenCV's SimilarRects: corners within eps·(mean of the smaller sides). */
function similar(a: Hit, b: Hit, eps: number): boolean {
  const delta = eps * (Math.min(a.w, b.w) + Math.min(a.h, b.h)) * 0.5
  return (
    Math.abs(a.x - b.x) <= delta &&
    Math.abs(a.y - b.y) <= delta &&
    Math.abs(a.x + a.w - b.x - b.w) <= delta &&
    Math.abs(a.y + a.h - b.y - b.h) <= delta
  )
}

/** Clusters raw hits (eps 0.2 like OpenCV) and averages each; keeps clusters of at least `minHits`. */
export function groupHits(hits: readonly Hit[], minHits: number, eps = 0.2): Cluster[] {
  const count = hits.length
  const parent = new Int32Array(count)
  for (let i = 0; i < count; i++) parent[i] = i
  const root = (start: number): number => {
    let i = start
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!
      i = parent[i]!
    }
    return i
  }
  // Sorted by x so only nearby hits are compared (similar hits differ in x by at most delta).
  const byX = Array.from({ length: count }, (_, i) => i).sort((a, b) => hits[a]!.x - hits[b]!.x)
  for (let first = 0; first < count; first++) {
    const a = hits[byX[first]!]!
    for (let second = first + 1; second < count; second++) {
      const b = hits[byX[second]!]!
      if (b.x - a.x > eps * Math.max(a.w, a.h, b.w, b.h)) break
      if (similar(a, b, eps)) {
        const rootA = root(byX[first]!)
        const rootB = root(byX[second]!)
        if (rootA !== rootB) parent[rootA] = rootB
      }
    }
  }
  const sums = new Map<number, Cluster>()
  for (let i = 0; i < count; i++) {
    const cluster = root(i)
    const hit = hits[i]!
    let sum = sums.get(cluster)
    if (!sum) {
      sum = { x: 0, y: 0, w: 0, h: 0, members: 0, maxStages: 0 }
      sums.set(cluster, sum)
    }
    sum.x += hit.x
    sum.y += hit.y
    sum.w += hit.w
    sum.h += hit.h
    sum.members++
    sum.maxStages = Math.max(sum.maxStages, hit.stages ?? 0)
  }
  const clusters: Cluster[] = []
  for (const sum of sums.values()) {
    if (sum.members < minHits) continue
    const { members, maxStages } = sum
    const mean = { x: sum.x / members, y: sum.y / members, w: sum.w / members, h: sum.h / members }
    clusters.push({ ...mean, members, maxStages })
  }
  return clusters
}

export function iou(a: Box, b: Box): number {
  const overlapW = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x)
  const overlapH = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y)
  if (overlapW <= 0 || overlapH <= 0) return 0
  const overlap = overlapW * overlapH
  return overlap / (a.w * a.h + b.w * b.h - overlap)
}

/** Share of the smaller box covered by the intersection. */
export function overlapSmall(a: Box, b: Box): number {
  const overlapW = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x)
  const overlapH = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y)
  if (overlapW <= 0 || overlapH <= 0) return 0
  return (overlapW * overlapH) / Math.min(a.w * a.h, b.w * b.h)
}

/**
 * Greedy non-maximum suppression: boxes sorted by `score` descending; a box is dropped when it
 * overlaps a kept one by IoU > iouMax or covers / is covered by more than `containMax` of the smaller.
 */
export function nms<T extends Box & { score: number }>(boxes: readonly T[], iouMax = 0.3, containMax = 0.6): T[] {
  const sorted = [...boxes].sort((a, b) => b.score - a.score)
  const kept: T[] = []
  for (const box of sorted) {
    if (kept.every((other) => iou(other, box) <= iouMax && overlapSmall(other, box) <= containMax)) kept.push(box)
  }
  return kept
}
