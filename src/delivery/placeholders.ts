/**
 * Default images for `d_<name>` (HEADSHOT_PLACEHOLDERS_DIR): served, transformed like the requested
 * picture, when a network has no picture. Names come from URLs, so the resolved real path must stay
 * inside the folder (no `..`, no symlink escapes; lessons from ipx's traversal bugs).
 */
import { realpath, readFile, stat } from 'node:fs/promises'
import { sep } from 'node:path'
import { resolve } from 'node:path'
import { sha256Hex } from '../lib/hash.ts'
import { orientedSize } from '../image/transform.ts'
import { probeImage } from '../lib/image-header.ts'
import { checkWork, type WorkBudget } from '../image/budget.ts'
import { planChain } from '../image/pipeline.ts'
import type { DeriveInput, DeriveOutput, ImageLimits } from '../image/types.ts'
import { LruCache } from '../lib/lru.ts'
import { SingleFlight } from '../lib/single-flight.ts'
import { canonicalChain } from '../url/canonical.ts'
import { derivativeKey } from '../ingest/derivatives.ts'
import type { Component, ImageFormat } from '../url/types.ts'

export interface Placeholder {
  bytes: Uint8Array
  format: ImageFormat
  width: number
  height: number
  hash: string
}

export interface Placeholders {
  load(name: string): Promise<Placeholder | undefined>
}

/** A placeholder as served: derived with the request's chain and format. */
export interface RenderedPlaceholder {
  bytes: Uint8Array
  format: ImageFormat
  hash: string
}

export interface PlaceholderRenderer {
  /**
   * The placeholder `name` transformed like the picture it stands in for; undefined when there is
   * no such placeholder. Limits are checked on the plan first (400 when exceeded), and so is
   * `budget` when the variant has to be derived; `signal` is the client's (see SingleFlight).
   * `charge` is called just before a new variant would be transformed; it may throw to refuse it.
   */
  render(
    name: string,
    chain: Component[],
    output: (source: ImageFormat) => ImageFormat,
    options?: { budget?: WorkBudget; signal?: AbortSignal; charge?: () => void },
  ): Promise<RenderedPlaceholder | undefined>
}

/**
 * Placeholders are tiny and shared by every missing picture: their derivatives are kept in memory
 * (bounded), and concurrent misses for one of them share one transformation.
 */
export function createPlaceholderRenderer(
  placeholders: Placeholders,
  derive: (input: DeriveInput, options?: { signal?: AbortSignal }) => Promise<DeriveOutput>,
  limits: ImageLimits,
): PlaceholderRenderer {
  const outputs = new LruCache<RenderedPlaceholder>(32_000_000, (v) => v.bytes.byteLength)
  const flights = new SingleFlight<RenderedPlaceholder>()
  return {
    async render(name, chain, output, { budget, signal, charge } = {}) {
      const placeholder = await placeholders.load(name)
      if (!placeholder) return undefined
      const format = output(placeholder.format)
      const size = { width: placeholder.width, height: placeholder.height }
      const plan = planChain(chain, size, limits)
      const key = `${placeholder.hash}/${derivativeKey(canonicalChain(chain), format)}`
      const cached = outputs.get(key)
      if (cached) return cached
      if (budget) checkWork(plan, { size, format: placeholder.format }, format, budget)
      if (!flights.has(key)) charge?.()
      const run = async (wanted: AbortSignal) => {
        const input = { bytes: placeholder.bytes, format: placeholder.format, chain, output: format, faces: [], budget }
        const derived = await derive(input, { signal: wanted })
        const rendered = { bytes: derived.bytes, format: derived.format, hash: sha256Hex(derived.bytes) }
        outputs.set(key, rendered)
        return rendered
      }
      return flights.run(key, run, signal)
    },
  }
}

const MAX_PLACEHOLDER_BYTES = 5_000_000

export function createPlaceholders(dir: string): Placeholders {
  // A placeholder answers every missing picture that names it: read and hash it once per version of
  // the file (path, size, mtime), not on every miss.
  const loaded = new Map<string, Placeholder>()
  return {
    async load(name) {
      // The URL parser already allows only `[A-Za-z0-9_.-]` segments without `.`/`..`; check again here.
      if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(name) || name.split('/').some((s) => s === '.' || s === '..'))
        return undefined
      let root: string
      let file: string
      try {
        root = await realpath(dir)
        file = await realpath(resolve(root, name))
      } catch {
        return undefined
      }
      if (!file.startsWith(root + sep)) return undefined
      // The size is checked before anything is read: a huge file never reaches memory.
      const info = await stat(file).catch(() => undefined)
      if (!info?.isFile() || info.size === 0 || info.size > MAX_PLACEHOLDER_BYTES) return undefined
      const version = `${file}\u0000${info.size}\u0000${info.mtimeMs}`
      const known = loaded.get(version)
      if (known) return known
      const bytes = new Uint8Array(await readFile(file).catch(() => new Uint8Array()))
      if (bytes.byteLength === 0 || bytes.byteLength > MAX_PLACEHOLDER_BYTES) return undefined
      const header = probeImage(bytes)
      if (!header.ok) return undefined
      const upright = orientedSize(header.value, header.value.orientation)
      const placeholder = { bytes, format: header.value.format, ...upright, hash: sha256Hex(bytes) }
      if (loaded.size >= 64) loaded.clear() // a handful of default images in practice; stay bounded
      loaded.set(version, placeholder)
      return placeholder
    },
  }
}
