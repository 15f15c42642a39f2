/**
 * Canonical text of a transformation: the derivative cache key.
 *
 * Rules: keys sorted alphabetically; every value written in exactly one spelling (numbers in
 * shortest form so `dpr_2` ≡ `dpr_2.0`; relative lengths always with a decimal point so `w_1.0`
 * ≠ `w_1`; colours as `rgb:rrggbbaa`; radii as four corners; effect levels and `q_auto` levels
 * written out even when defaulted; flags sorted); empty components dropped.
 *
 * The text is itself valid transformation syntax: `parseComponent(canonicalComponent(c))`
 * gives back a Component equal to `c` for every `c` the parser produces. Because the parser is
 * a function of the text and the canonical text is a function of the Component, two URLs that
 * parse to equal Components share a key, and different Components never do.
 */
import { canonicalColor } from './colors.ts'
import type { Angle, Component, Effect, Flag, Gravity, Length, Quality, Radius } from './types.ts'

/**
 * Shortest round-tripping decimal. The parser's bounds keep every value in the range where JS
 * never switches to exponent notation (1e-6 ≤ |n| < 1e21), so the result is parseable again.
 */
const number = (n: number): string => String(n + 0) // `+ 0`: no `-0`

/** Pixels print as integers; relative lengths always carry a decimal point (`1.0`, `0.5`). */
const length = (l: Length): string =>
  l.kind === 'px' ? number(l.value) : Number.isInteger(l.value) ? `${number(l.value)}.0` : number(l.value)

/** A gravity as its `g_` value is written canonically (`face:center`, `north_east`, `auto`). */
export function gravity(g: Gravity): string {
  switch (g.kind) {
    case 'compass':
      return g.value
    case 'auto':
      return 'auto'
    case 'face':
      return g.fallback === 'north' ? g.mode : `${g.mode}:${g.fallback}`
  }
}

const quality = (q: Quality): string =>
  q.kind === 'auto' ? `auto:${q.level}` : q.chroma === undefined ? number(q.value) : `${number(q.value)}:${q.chroma}`

const radius = (r: Radius): string => (r.kind === 'max' ? 'max' : r.corners.map(number).join(':'))

const angles = (list: readonly Angle[]): string =>
  list.map((a) => (a.kind === 'deg' ? number(a.value) : a.value)).join('.')

/**
 * Level-less effects (grayscale, negate) and automatic pixelation (level 0) print bare; every
 * other level is written out, so `e_sepia` and `e_sepia:80` share a key.
 */
const effect = (e: Effect): string =>
  e.level === 0 && LEVEL_ZERO_IS_BARE.has(e.name) ? e.name : `${e.name}:${number(e.level)}`
const LEVEL_ZERO_IS_BARE: ReadonlySet<string> = new Set(['grayscale', 'negate', 'pixelate', 'pixelate_faces'])

function flags(list: readonly Flag[], attachmentName: string | undefined): string {
  return [...new Set(list)]
    .sort()
    .map((flag) => (flag === 'attachment' && attachmentName !== undefined ? `attachment:${attachmentName}` : flag))
    .join('.')
}

/** `key → text` for every field that is set; the key is the URL key, so sorting is by it. */
function params(c: Component): Array<[string, string]> {
  const out: Array<[string, string]> = []
  if (c.angles !== undefined && c.angles.length > 0) out.push(['a', angles(c.angles)])
  if (c.aspectRatio !== undefined) out.push(['ar', number(c.aspectRatio)])
  if (c.background !== undefined) out.push(['b', canonicalColor(c.background)])
  if (c.border !== undefined) out.push(['bo', `${number(c.border.width)}px_solid_${canonicalColor(c.border.color)}`])
  if (c.crop !== undefined) out.push(['c', c.crop])
  if (c.defaultImage !== undefined) out.push(['d', c.defaultImage.split('/').join(':')])
  if (c.dpr !== undefined) out.push(['dpr', number(c.dpr)])
  if (c.effect !== undefined) out.push(['e', effect(c.effect)])
  if (c.format !== undefined) out.push(['f', c.format])
  if (c.flags !== undefined && c.flags.length > 0) out.push(['fl', flags(c.flags, c.attachmentName)])
  if (c.gravity !== undefined) out.push(['g', gravity(c.gravity)])
  if (c.height !== undefined) out.push(['h', length(c.height)])
  if (c.opacity !== undefined) out.push(['o', number(c.opacity)])
  if (c.quality !== undefined) out.push(['q', quality(c.quality)])
  if (c.radius !== undefined) out.push(['r', radius(c.radius)])
  if (c.named !== undefined && c.named.length > 0) out.push(['t', c.named.join('.')])
  if (c.width !== undefined) out.push(['w', length(c.width)])
  if (c.x !== undefined) out.push(['x', length(c.x)])
  if (c.y !== undefined) out.push(['y', length(c.y)])
  if (c.zoom !== undefined) out.push(['z', number(c.zoom)])
  return out
}

/** The canonical text of one component (`''` for an empty one). */
export function canonicalComponent(c: Component): string {
  return params(c)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}_${value}`)
    .join(',')
}

/** The canonical text of a chain: components joined by `/`, empty ones dropped. */
export function canonicalChain(components: readonly Component[]): string {
  return components
    .map(canonicalComponent)
    .filter((text) => text !== '')
    .join('/')
}
