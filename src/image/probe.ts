/**
 * Header-only facts about an encoded image: format, size, alpha, EXIF orientation.
 *
 * Why this exists: limits must be checked and the output size planned BEFORE any pixel work
 * (a 4 MP JPEG decode blocks ~0.4 s), and `f_auto` must pick png vs jpg without decoding.
 * Everything here reads at most the first few kilobytes of metadata and never allocates pixels.
 */
import type { SourceFormat } from '../url/types.ts'

export interface ProbeResult {
  format: SourceFormat
  /** Stored pixel size (before EXIF orientation). */
  width: number
  height: number
  /**
   * Whether the file can carry transparency: PNG colour type 4/6 or a tRNS chunk, WebP alpha flags,
   * always for GIF (transparency hides in per-frame extensions), never for JPEG.
   */
  mayHaveAlpha: boolean
  /** EXIF orientation 1–8 (JPEG only; 1 = as stored). */
  orientation: number
}

/** The format from the magic bytes, or undefined for anything we cannot decode. */
export function sniffFormat(bytes: Uint8Array): SourceFormat | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpg'
  if (bytes.length >= 8 && bytes[0] === 0x89 && ascii(bytes, 1, 3) === 'PNG') return 'png'
  if (bytes.length >= 6 && (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a')) return 'gif'
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'webp'
  return undefined
}

/**
 * Reads the header. Returns undefined when the bytes are not a well-formed image of a format
 * we support (the caller turns that into its own error).
 */
export function probeImage(bytes: Uint8Array): ProbeResult | undefined {
  const format = sniffFormat(bytes)
  switch (format) {
    case 'jpg': return probeJpeg(bytes)
    case 'png': return probePng(bytes)
    case 'gif': return probeGif(bytes)
    case 'webp': return probeWebp(bytes)
    case undefined: return undefined
  }
}

function ascii(b: Uint8Array, at: number, n: number): string {
  let s = ''
  for (let i = at; i < at + n && i < b.length; i++) s += String.fromCharCode(b[i]!)
  return s
}
const u16be = (b: Uint8Array, i: number) => ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0)
const u16le = (b: Uint8Array, i: number) => (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8)
const u24le = (b: Uint8Array, i: number) => u16le(b, i) | ((b[i + 2] ?? 0) << 16)
const u32be = (b: Uint8Array, i: number) => (u16be(b, i) * 65536) + u16be(b, i + 2)

function probePng(b: Uint8Array): ProbeResult | undefined {
  if (b.length < 33 || ascii(b, 12, 4) !== 'IHDR') return undefined
  const width = u32be(b, 16)
  const height = u32be(b, 20)
  const colorType = b[25]
  let mayHaveAlpha = colorType === 4 || colorType === 6
  // tRNS (palette or single-colour transparency) must come before the first IDAT.
  for (let at = 8; !mayHaveAlpha && at + 8 <= b.length;) {
    const len = u32be(b, at)
    const type = ascii(b, at + 4, 4)
    if (type === 'tRNS') mayHaveAlpha = true
    if (type === 'IDAT' || type === 'IEND') break
    at += 12 + len
  }
  return valid({ format: 'png', width, height, mayHaveAlpha, orientation: 1 })
}

function probeGif(b: Uint8Array): ProbeResult | undefined {
  if (b.length < 10) return undefined
  return valid({ format: 'gif', width: u16le(b, 6), height: u16le(b, 8), mayHaveAlpha: true, orientation: 1 })
}

function probeWebp(b: Uint8Array): ProbeResult | undefined {
  const chunk = ascii(b, 12, 4)
  if (chunk === 'VP8X' && b.length >= 30) {
    const flags = b[20] ?? 0
    return valid({ format: 'webp', width: u24le(b, 24) + 1, height: u24le(b, 27) + 1, mayHaveAlpha: (flags & 0x10) !== 0, orientation: 1 })
  }
  if (chunk === 'VP8L' && b.length >= 25 && b[20] === 0x2f) {
    const bits = ((b[21] ?? 0) | ((b[22] ?? 0) << 8) | ((b[23] ?? 0) << 16) | ((b[24] ?? 0) << 24)) >>> 0
    const width = (bits & 0x3fff) + 1
    const height = ((bits >>> 14) & 0x3fff) + 1
    const alphaUsed = ((bits >>> 28) & 1) === 1
    return valid({ format: 'webp', width, height, mayHaveAlpha: alphaUsed, orientation: 1 })
  }
  if (chunk === 'VP8 ' && b.length >= 30 && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) {
    return valid({ format: 'webp', width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff, mayHaveAlpha: false, orientation: 1 })
  }
  return undefined
}

function probeJpeg(b: Uint8Array): ProbeResult | undefined {
  let orientation = 1
  let at = 2
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return undefined
    const marker = b[at + 1]!
    if (marker === 0xff) { at++; continue } // fill byte
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { at += 2; continue } // no length
    const len = u16be(b, at + 2)
    if (len < 2) return undefined
    if (marker === 0xe1 && ascii(b, at + 4, 6) === 'Exif\0\0') {
      orientation = exifOrientation(b, at + 10, Math.min(b.length, at + 2 + len))
    }
    // SOFn: baseline, extended, progressive, lossless… (not DHT C4, JPG C8, DAC CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return valid({ format: 'jpg', width: u16be(b, at + 7), height: u16be(b, at + 5), mayHaveAlpha: false, orientation })
    }
    if (marker === 0xda || marker === 0xd9) return undefined // scan data before any frame header
    at += 2 + len
  }
  return undefined
}

/** Tag 0x0112 of IFD0 in a TIFF block starting at `tiff`; 1 when absent or malformed. */
function exifOrientation(b: Uint8Array, tiff: number, end: number): number {
  const little = ascii(b, tiff, 2) === 'II'
  if (!little && ascii(b, tiff, 2) !== 'MM') return 1
  const r16 = (i: number) => (little ? u16le(b, i) : u16be(b, i))
  const r32 = (i: number) => (little ? (u16le(b, i) + u16le(b, i + 2) * 65536) : u32be(b, i))
  const ifd = tiff + r32(tiff + 4)
  if (ifd + 2 > end) return 1
  const count = r16(ifd)
  for (let k = 0; k < count; k++) {
    const entry = ifd + 2 + k * 12
    if (entry + 12 > end) break
    if (r16(entry) === 0x0112) {
      const v = r16(entry + 8)
      return v >= 1 && v <= 8 ? v : 1
    }
  }
  return 1
}

function valid(p: ProbeResult): ProbeResult | undefined {
  return p.width > 0 && p.height > 0 ? p : undefined
}
