/** Colour values of `b_`, `bo_`: a name, or `rgb:` + 3/4/6/8 hex digits (the last pair is alpha). */
import type { Rgba } from './types.ts'

/**
 * Named colours, CSS values (Cloudinary documents "any named colour"; the CSS basic 16 plus the
 * names avatar URLs use in practice). `transparent` and `none` both mean fully transparent.
 */
const NAMED_COLORS: ReadonlyMap<string, string> = new Map([
  // CSS basic colours
  ['black', '000000'],
  ['silver', 'c0c0c0'],
  ['gray', '808080'],
  ['grey', '808080'],
  ['white', 'ffffff'],
  ['maroon', '800000'],
  ['red', 'ff0000'],
  ['purple', '800080'],
  ['fuchsia', 'ff00ff'],
  ['magenta', 'ff00ff'],
  ['green', '008000'],
  ['lime', '00ff00'],
  ['olive', '808000'],
  ['yellow', 'ffff00'],
  ['navy', '000080'],
  ['blue', '0000ff'],
  ['teal', '008080'],
  ['aqua', '00ffff'],
  ['cyan', '00ffff'],
  // common extended names
  ['orange', 'ffa500'],
  ['pink', 'ffc0cb'],
  ['brown', 'a52a2a'],
  ['gold', 'ffd700'],
  ['indigo', '4b0082'],
  ['violet', 'ee82ee'],
  ['beige', 'f5f5dc'],
  ['khaki', 'f0e68c'],
  ['coral', 'ff7f50'],
  ['salmon', 'fa8072'],
  ['turquoise', '40e0d0'],
  ['lightgray', 'd3d3d3'],
  ['lightgrey', 'd3d3d3'],
  ['darkgray', 'a9a9a9'],
  ['darkgrey', 'a9a9a9'],
  // transparency
  ['transparent', '00000000'],
  ['none', '00000000'],
])

const HEX_DIGITS = /^[0-9a-f]+$/

/** Parses a colour; undefined when it is not one. Names and hex digits are case-insensitive. */
export function parseColor(text: string): Rgba | undefined {
  const lower = text.toLowerCase()
  const hex = lower.startsWith('rgb:') ? lower.slice(4) : NAMED_COLORS.get(lower)
  if (hex === undefined || !HEX_DIGITS.test(hex)) return undefined
  switch (hex.length) {
    case 3:
    case 4: {
      // short form: each digit doubled (`f00` → `ff0000`)
      const [r, g, b, a] = [...hex].map((digit) => parseInt(digit + digit, 16))
      return { r: r ?? 0, g: g ?? 0, b: b ?? 0, a: a ?? 255 }
    }
    case 6:
    case 8: {
      const byteAt = (i: number): number => parseInt(hex.slice(i * 2, i * 2 + 2), 16)
      return { r: byteAt(0), g: byteAt(1), b: byteAt(2), a: hex.length === 8 ? byteAt(3) : 255 }
    }
    default:
      return undefined
  }
}

const hexByte = (n: number): string => n.toString(16).padStart(2, '0')

/** The one spelling a colour has in a canonical key: `rgb:rrggbbaa`. */
export const canonicalColor = (c: Rgba): string => `rgb:${hexByte(c.r)}${hexByte(c.g)}${hexByte(c.b)}${hexByte(c.a)}`
