/**
 * The WebAssembly memory this thread holds, for a worker to say when it has grown.
 *
 * A WebAssembly memory only grows: a codec instance kept for the worker's life (mozjpeg's encoder,
 * libwebp's decoder) keeps the size its largest image needed until the worker ends (after one
 * 4000² JPEG encode mozjpeg holds 266 MB, against 17 MB at start). JavaScript cannot list the
 * memories of a thread, and `process.memoryUsage()` is the whole process's, so this module notes
 * every memory of every module instantiated after it is loaded (loading it installs the noting):
 * a worker imports it before the codecs.
 * They are noted weakly, so a decoder instance made for one call (imagescript's) drops out once
 * the collector has freed it with its memory.
 */

const memories: Array<WeakRef<WebAssembly.Memory>> = []

/** Notes the memories among an instance's exports and, one level down, its imports (a memory made in JavaScript). */
function note(instance: WebAssembly.Instance, imports?: unknown): void {
  const found = new Set<WebAssembly.Memory>()
  for (const value of Object.values(instance.exports)) if (value instanceof WebAssembly.Memory) found.add(value)
  if (imports && typeof imports === 'object') {
    for (const namespace of Object.values(imports)) {
      if (!namespace || typeof namespace !== 'object') continue
      for (const value of Object.values(namespace)) if (value instanceof WebAssembly.Memory) found.add(value)
    }
  }
  for (const memory of found) {
    if (!memories.some((ref) => ref.deref() === memory)) memories.push(new WeakRef(memory))
  }
}

/** What `instantiate` and `instantiateStreaming` resolve to: an instance, or a module and its instance. */
function noteResult(result: unknown, imports: unknown): void {
  const instance = result instanceof WebAssembly.Instance ? result : (result as { instance?: unknown })?.instance
  if (instance instanceof WebAssembly.Instance) note(instance, imports)
}

/**
 * Wraps the three ways to instantiate a module in proxies, so `instanceof WebAssembly.Instance` and
 * every argument form keep working.
 */
function install(): void {
  const wasm = WebAssembly as unknown as Record<string, unknown>
  wasm.Instance = new Proxy(WebAssembly.Instance, {
    construct(target, args, newTarget) {
      const instance = Reflect.construct(target, args, newTarget) as WebAssembly.Instance
      note(instance, args[1])
      return instance
    },
  })
  for (const name of ['instantiate', 'instantiateStreaming'] as const) {
    const original = WebAssembly[name] as ((...args: unknown[]) => Promise<unknown>) | undefined
    if (typeof original !== 'function') continue
    wasm[name] = new Proxy(original, {
      apply(target, self, args) {
        return Reflect.apply(target, self, args).then((result: unknown) => {
          noteResult(result, args[1])
          return result
        })
      },
    })
  }
}

install()

/** Bytes of the WebAssembly memories still alive (some may be garbage the collector has not freed yet). */
export function wasmMemoryBytes(): number {
  let bytes = 0
  for (let i = memories.length - 1; i >= 0; i--) {
    const memory = memories[i]!.deref()
    if (memory) bytes += memory.buffer.byteLength
    else memories.splice(i, 1)
  }
  return bytes
}

/** Still above the limit after a collection once: the kept memories only grow, so it stays above. */
let keptAbove = false

/**
 * What the thread really keeps: above `collectAbove`, garbage is collected first, so memory of a
 * finished decoder instance (freed by the collector, not by a restart) does not count. The
 * collection waits for the next turn: a WeakRef read in this one may keep its target alive until
 * the turn ends. Once the kept memory alone is above, no further job pays for a collection.
 */
export async function heldWasmBytes(collectAbove: number): Promise<number> {
  const bytes = wasmMemoryBytes()
  if (bytes <= collectAbove || keptAbove) return bytes
  await new Promise((resolve) => setTimeout(resolve, 0))
  Bun.gc(true)
  const kept = wasmMemoryBytes()
  keptAbove = kept > collectAbove
  return kept
}
