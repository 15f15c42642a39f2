/**
 * Grouping of raw window hits into detections, and non-maximum suppression of detections.
 * `groupHits` is OpenCV's `groupRectangles` rule (union-find over "similar" rectangles, average
 * per cluster, clusters with too few members dropped); we also keep the evidence per cluster
 * (member count, best and summed window score) for scoring.
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
  x: number
  y: number
  w: number
  h: number
  /** Number of raw windows merged. */
  n: number
  /** Best window score. */
  best: number
  /** Sum of the positive parts of the window scores. */
  mass: number
  /** Deepest stage any member reached (when hits carry `stages`). */
  maxStages: number
}

/** OpenCV's SimilarRects: corners within eps·(mean of the smaller sides). */
function similar(a: Hit, b: Hit, eps: number): boolean {
  const delta = eps * (Math.min(a.w, b.w) + Math.min(a.h, b.h)) * 0.5
  return Math.abs(a.x - b.x) <= delta && Math.abs(a.y - b.y) <= delta
    && Math.abs(a.x + a.w - b.x - b.w) <= delta && Math.abs(a.y + a.h - b.y - b.h) <= delta
}

/** Clusters raw hits (eps 0.2 like OpenCV) and averages each cluster. Keeps clusters with n ≥ minHits. */
export function groupHits(hits: readonly Hit[], minHits: number, eps = 0.2): Cluster[] {
  const n = hits.length
  const parent = new Int32Array(n)
  for (let i = 0; i < n; i++) parent[i] = i
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!
      i = parent[i]!
    }
    return i
  }
  // Sort by x so only nearby hits are compared (similar hits differ in x by at most delta).
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => hits[a]!.x - hits[b]!.x)
  for (let oi = 0; oi < n; oi++) {
    const a = hits[order[oi]!]!
    for (let oj = oi + 1; oj < n; oj++) {
      const b = hits[order[oj]!]!
      if (b.x - a.x > eps * Math.max(a.w, a.h, b.w, b.h)) break
      if (similar(a, b, eps)) {
        const ra = find(order[oi]!)
        const rb = find(order[oj]!)
        if (ra !== rb) parent[ra] = rb
      }
    }
  }
  const acc = new Map<number, Omit<Cluster, never>>()
  for (let i = 0; i < n; i++) {
    const r = find(i)
    const h = hits[i]!
    let c = acc.get(r)
    if (!c) acc.set(r, (c = { x: 0, y: 0, w: 0, h: 0, n: 0, best: -Infinity, mass: 0, maxStages: 0 }))
    c.x += h.x; c.y += h.y; c.w += h.w; c.h += h.h; c.n++
    c.best = Math.max(c.best, h.score)
    c.mass += Math.max(0, h.score)
    c.maxStages = Math.max(c.maxStages, h.stages ?? 0)
  }
  const out: Cluster[] = []
  for (const c of acc.values()) {
    if (c.n < minHits) continue
    out.push({ x: c.x / c.n, y: c.y / c.n, w: c.w / c.n, h: c.h / c.n, n: c.n, best: c.best, mass: c.mass, maxStages: c.maxStages })
  }
  return out
}

export function iou(a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }): number {
  const iw = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x)
  const ih = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y)
  if (iw <= 0 || ih <= 0) return 0
  const inter = iw * ih
  return inter / (a.w * a.h + b.w * b.h - inter)
}

/** Share of the smaller box covered by the intersection. */
export function overlapSmall(a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }): number {
  const iw = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x)
  const ih = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y)
  if (iw <= 0 || ih <= 0) return 0
  return (iw * ih) / Math.min(a.w * a.h, b.w * b.h)
}

/**
 * Greedy non-maximum suppression: boxes sorted by `score` descending; a box is dropped when it
 * overlaps a kept one by IoU > iouMax or covers / is covered by more than `containMax` of the smaller.
 */
export function nms<T extends { x: number; y: number; w: number; h: number; score: number }>(boxes: readonly T[], iouMax = 0.3, containMax = 0.6): T[] {
  const sorted = [...boxes].sort((a, b) => b.score - a.score)
  const kept: T[] = []
  for (const b of sorted) {
    if (kept.every((k) => iou(k, b) <= iouMax && overlapSmall(k, b) <= containMax)) kept.push(b)
  }
  return kept
}
