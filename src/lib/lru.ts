/**
 * A small LRU map bounded by total weight (e.g. bytes): a Map from key to node plus a doubly linked
 * list in recency order, so a hit, an insert and an eviction are each O(1). (Re-inserting into the
 * Map on every hit, as an insertion-ordered Map LRU does, is slow in Bun once the map has churned,
 * and evicting by iterating the Map walks over its deleted slots.)
 */
interface Node<V> {
  key: string
  value: V
  weight: number
  /** Towards the least recently used end. */
  older: Node<V> | undefined
  /** Towards the most recently used end. */
  newer: Node<V> | undefined
}

export class LruCache<V> {
  private readonly nodes = new Map<string, Node<V>>()
  /** Least recently used: evicted first. */
  private oldest: Node<V> | undefined
  /** Most recently used. */
  private newest: Node<V> | undefined
  private total = 0

  constructor(
    private readonly maxWeight: number,
    /** An entry's weight; the key is passed so that callers bounding bytes can count it too (`keyBytes`). */
    private readonly weigh: (value: V, key: string) => number = () => 1,
  ) {}

  get(key: string): V | undefined {
    const node = this.nodes.get(key)
    if (node === undefined) return undefined
    if (node !== this.newest) {
      this.unlink(node)
      this.append(node)
    }
    return node.value
  }

  /** The value without making it more recent. */
  peek(key: string): V | undefined {
    return this.nodes.get(key)?.value
  }

  has(key: string): boolean {
    return this.nodes.has(key)
  }

  set(key: string, value: V): void {
    const weight = this.weigh(value, key)
    const old = this.nodes.get(key)
    if (old !== undefined) {
      this.remove(old)
    }
    if (weight > this.maxWeight) return
    const node: Node<V> = { key, value, weight, older: undefined, newer: undefined }
    this.nodes.set(key, node)
    this.append(node)
    this.total += weight
    while (this.total > this.maxWeight && this.oldest !== undefined) this.remove(this.oldest)
  }

  delete(key: string): boolean {
    const node = this.nodes.get(key)
    if (node === undefined) return false
    this.remove(node)
    return true
  }

  clear(): void {
    this.nodes.clear()
    this.oldest = undefined
    this.newest = undefined
    this.total = 0
  }

  get size(): number {
    return this.nodes.size
  }

  get weight(): number {
    return this.total
  }

  /** Keys from the least to the most recently used (tests, diagnostics). */
  *keys(): IterableIterator<string> {
    for (let node = this.oldest; node !== undefined; node = node.newer) yield node.key
  }

  private remove(node: Node<V>): void {
    this.nodes.delete(node.key)
    this.unlink(node)
    this.total -= node.weight
  }

  private unlink(node: Node<V>): void {
    if (node.older) node.older.newer = node.newer
    else this.oldest = node.newer
    if (node.newer) node.newer.older = node.older
    else this.newest = node.older
    node.older = undefined
    node.newer = undefined
  }

  private append(node: Node<V>): void {
    node.older = this.newest
    node.newer = undefined
    if (this.newest) this.newest.newer = node
    else this.oldest = node
    this.newest = node
  }
}

/** Bytes a string key holds in memory (UTF-16 code units), for weights that count keys. */
export const keyBytes = (key: string): number => key.length * 2
