/**
 * Questions asked of a parsed transformation chain (pure): the last value a key takes, which parts
 * belong to the derivative and which only to the response, and whether faces are needed.
 */
import { canonicalChain } from './canonical.ts'
import type { Component } from './types.ts'

/** The value of the last component that sets it: later components override earlier ones. */
export function lastDefined<T>(chain: readonly Component[], pick: (c: Component) => T | undefined): T | undefined {
  for (let i = chain.length - 1; i >= 0; i--) {
    const value = pick(chain[i]!)
    if (value !== undefined) return value
  }
  return undefined
}

/** The chain without `d_`: it chooses what to serve when there is no picture, not how to derive one. */
export function withoutDefaultImage(chain: readonly Component[]): Component[] {
  return chain
    .map((c) => {
      if (c.defaultImage === undefined) return c
      const { defaultImage: _, ...rest } = c
      return rest
    })
    .filter((c) => Object.keys(c).length > 0)
}

/** Does this chain look at faces (face gravity, auto gravity, *_faces effects)? */
export function needsFaces(chain: readonly Component[]): boolean {
  return chain.some(
    (c) =>
      c.gravity?.kind === 'face' ||
      c.gravity?.kind === 'auto' ||
      c.effect?.name === 'blur_faces' ||
      c.effect?.name === 'pixelate_faces',
  )
}

/** `fl_attachment[:name]`: the download name, defaulting to the public id (as Cloudinary does). */
export function attachmentName(chain: readonly Component[], publicId: string): string | undefined {
  for (let i = chain.length - 1; i >= 0; i--) {
    const component = chain[i]!
    if (!component.flags?.includes('attachment')) continue
    const name = component.attachmentName || publicId.split('/').pop() || 'image'
    // Header-safe: the parser limits fl_attachment names; public ids can hold anything.
    return name.replace(/[^A-Za-z0-9_.\- !]/g, '_')
  }
  return undefined
}

/**
 * `fl_getinfo` asks for a different response (JSON about the result), not a different image: it
 * is taken out of the chain, so the derivative key and the derived pixels are the image's own.
 */
export function withoutGetinfo(chain: readonly Component[]): { chain: Component[]; getinfo: boolean } {
  let getinfo = false
  const rest = chain
    .map((c) => {
      if (!c.flags?.includes('getinfo')) return c
      getinfo = true
      const flags = c.flags.filter((f) => f !== 'getinfo')
      const { flags: _, ...others } = c
      return flags.length > 0 ? { ...others, flags } : others
    })
    .filter((c) => Object.keys(c).length > 0)
  return { chain: rest, getinfo }
}

/** Fields that only change how the result is encoded or delivered, never its pixels or size. */
const DELIVERY_ONLY: ReadonlySet<string> = new Set(['quality', 'format', 'flags', 'attachmentName'])

const isDprOnly = (c: Component): boolean => c.dpr !== undefined && Object.keys(c).length === 1

/**
 * `…/c_fill,h_100,w_100/dpr_2.0/…`: a component holding only `dpr_N` (as Cloudinary's newer URL
 * builder writes it) scales the result N×. When the last component with a size (`w_`/`h_`) has no
 * dpr of its own and only delivery-only components (`q_`, `f_`, `fl_`) stand between the two, the
 * dpr is moved into it: that component then resamples the source once at the larger size (better
 * quality), and the chain shares its derivative key with the equivalent `c_fill,dpr_2.0,h_100,w_100`.
 * Otherwise the component stays on its own and resamples the previous result (image/geometry.ts).
 */
export function foldDpr(chain: readonly Component[]): Component[] {
  const out: Component[] = []
  for (const c of chain) {
    if (isDprOnly(c)) {
      let i = out.length - 1
      while (i >= 0 && Object.keys(out[i]!).every((key) => DELIVERY_ONLY.has(key))) i--
      const target = out[i]
      if (target && target.dpr === undefined && (target.width !== undefined || target.height !== undefined)) {
        out[i] = { ...target, dpr: c.dpr! }
        continue
      }
    }
    out.push(c)
  }
  return out
}

/**
 * Flags that change the response (headers) or nothing at all, never the bytes of the image:
 * `fl_attachment` (Content-Disposition), `fl_immutable_cache` (Cache-Control), and flags our
 * encoders satisfy anyway. They stay out of the stored derivative's key, so `fl_attachment:<any
 * name>` serves the one stored image instead of deriving and storing a copy per name.
 */
const FLAGS_WITHOUT_PIXELS: ReadonlySet<string> = new Set([
  'attachment',
  'immutable_cache',
  'lossy',
  'strip_profile',
  'force_strip',
  'keep_iptc',
  'keep_attribution',
  'preserve_transparency',
])

/** The canonical text that names the derived image: the chain without flags that change no pixel. */
export function derivedImageKey(chain: readonly Component[]): string {
  const pixelsOnly = chain
    .map((c) => {
      if (c.flags === undefined && c.attachmentName === undefined) return c
      const { flags, attachmentName: _, ...rest } = c
      const kept = (flags ?? []).filter((flag) => !FLAGS_WITHOUT_PIXELS.has(flag))
      return kept.length > 0 ? { ...rest, flags: kept } : rest
    })
    .filter((c) => Object.keys(c).length > 0)
  return canonicalChain(pixelsOnly)
}
