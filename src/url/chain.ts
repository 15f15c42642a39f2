/**
 * Questions asked of a parsed transformation chain (pure): the last value a key takes, which parts
 * belong to the derivative and which only to the response, and whether faces are needed.
 */
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
