/**
 * Image type and header dimensions from the first bytes of a body, without decoding anything.
 *
 * Used twice: while a download streams in (so a pixel bomb is refused before the rest arrives) and by
 * ingest on stored bytes. It therefore works on any prefix of the file and tells "I need more bytes"
 * (`NEED_MORE_BYTES`) apart from "this is not an image we accept" (any other error text).
 *
 * Only JPEG, PNG, GIF and WebP are accepted: the formats profile pictures use and our decoder handles.
 * SVG (active content), BMP/TIFF (decoder bugs), AVIF (no decoder) and HTML error pages are refused.
 */
import type { Result } from '../result.ts'
import { err, ok } from '../result.ts'
import type { SourceFormat } from '../url/types.ts'

export interface ImageHeader {
  format: SourceFormat
  /** Pixel width/height as the header declares them (for animations: the canvas / logical screen). */
  width: number
  height: number
}

/** The error text when the prefix is consistent with an accepted image but too short to tell its size. */
export const NEED_MORE_BYTES = 'need more bytes'

export function isNeedMoreBytes(error: string): boolean {
  return error === NEED_MORE_BYTES
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const
const ascii = (text: string): number[] => Array.from(text, (c) => c.charCodeAt(0))

/** Magic numbers; a body shorter than one of these that matches its start may still be that format. */
const MAGICS: ReadonlyArray<{ format: SourceFormat; bytes: readonly number[] }> = [
  { format: 'jpg', bytes: [0xff, 0xd8, 0xff] },
  { format: 'png', bytes: PNG_SIGNATURE },
  { format: 'gif', bytes: ascii('GIF87a') },
  { format: 'gif', bytes: ascii('GIF89a') },
  // RIFF????WEBP: the size field is a wildcard (-1).
  { format: 'webp', bytes: [...ascii('RIFF'), -1, -1, -1, -1, ...ascii('WEBP')] },
]

function matchesMagic(bytes: Uint8Array, magic: readonly number[]): 'yes' | 'prefix' | 'no' {
  const n = Math.min(bytes.length, magic.length)
  for (let i = 0; i < n; i++) {
    const m = magic[i]
    if (m !== -1 && bytes[i] !== m) return 'no'
  }
  return bytes.length >= magic.length ? 'yes' : 'prefix'
}

export function probeImage(bytes: Uint8Array): Result<ImageHeader, string> {
  let couldBe = false
  for (const { format, bytes: magic } of MAGICS) {
    const match = matchesMagic(bytes, magic)
    if (match === 'prefix') couldBe = true
    if (match !== 'yes') continue
    const header = format === 'jpg' ? probeJpeg(bytes)
      : format === 'png' ? probePng(bytes)
      : format === 'gif' ? probeGif(bytes)
      : probeWebp(bytes)
    if (!header.ok) return header
    const { width, height } = header.value
    if (width < 1 || height < 1) return err(`${format}: zero image dimension (${width}×${height})`)
    return header
  }
  return couldBe ? err(NEED_MORE_BYTES) : err(`not a JPEG, PNG, GIF or WebP image (starts with ${describeStart(bytes)})`)
}

function describeStart(bytes: Uint8Array): string {
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ')
  return head === '' ? 'nothing' : head
}

const u16be = (b: Uint8Array, i: number): number => ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0)
const u16le = (b: Uint8Array, i: number): number => (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8)
const u24le = (b: Uint8Array, i: number): number => (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16)
const u32be = (b: Uint8Array, i: number): number => ((b[i] ?? 0) * 2 ** 24) + (((b[i + 1] ?? 0) << 16) | ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0))

function probePng(b: Uint8Array): Result<ImageHeader, string> {
  // The first chunk must be IHDR (length 13): width and height are 4-byte big-endian at 16 and 20.
  if (b.length < 24) return err(NEED_MORE_BYTES)
  if (u32be(b, 8) !== 13 || String.fromCharCode(...b.subarray(12, 16)) !== 'IHDR') {
    return err('png: first chunk is not IHDR')
  }
  const width = u32be(b, 16)
  const height = u32be(b, 20)
  // The PNG spec caps dimensions at 2^31-1; anything above is a corrupt or hostile header.
  if (width > 0x7fffffff || height > 0x7fffffff) return err('png: dimension out of range')
  return ok({ format: 'png', width, height })
}

function probeGif(b: Uint8Array): Result<ImageHeader, string> {
  // Logical screen descriptor right after the 6-byte signature: width, height as 2-byte little-endian.
  if (b.length < 10) return err(NEED_MORE_BYTES)
  return ok({ format: 'gif', width: u16le(b, 6), height: u16le(b, 8) })
}

function probeWebp(b: Uint8Array): Result<ImageHeader, string> {
  // RIFF header (12 bytes), then the first chunk: fourcc (4) + size (4) + payload from offset 20.
  if (b.length < 16) return err(NEED_MORE_BYTES)
  const chunk = String.fromCharCode(...b.subarray(12, 16))
  switch (chunk) {
    case 'VP8 ': {
      // Lossy: 3-byte frame tag (bit 0 clear = key frame), start code 9d 01 2a, then 14-bit width/height.
      if (b.length < 30) return err(NEED_MORE_BYTES)
      if (((b[20] ?? 0) & 1) !== 0) return err('webp: first VP8 frame is not a key frame')
      if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return err('webp: bad VP8 start code')
      return ok({ format: 'webp', width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff })
    }
    case 'VP8L': {
      // Lossless: signature 0x2f, then width-1 (14 bits) and height-1 (14 bits), little-endian bit packed.
      if (b.length < 25) return err(NEED_MORE_BYTES)
      if (b[20] !== 0x2f) return err('webp: bad VP8L signature')
      const bits = (b[21] ?? 0) | ((b[22] ?? 0) << 8) | ((b[23] ?? 0) << 16) | ((b[24] ?? 0) << 24)
      return ok({ format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 })
    }
    case 'VP8X': {
      // Extended (alpha, animation, metadata): 4 bytes of flags, then canvas width-1, height-1 as 24-bit LE.
      if (b.length < 30) return err(NEED_MORE_BYTES)
      return ok({ format: 'webp', width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 })
    }
    default:
      return err(`webp: unknown first chunk ${JSON.stringify(chunk)}`)
  }
}

/**
 * Walk the JPEG marker segments up to the first start-of-frame. SOF0–SOF15 carry the size, except
 * C4 (DHT), C8 (JPG extension) and CC (DAC), which share the range but are tables.
 */
function probeJpeg(b: Uint8Array): Result<ImageHeader, string> {
  let i = 2 // after SOI (ff d8)
  for (;;) {
    if (i >= b.length) return err(NEED_MORE_BYTES)
    if (b[i] !== 0xff) return err(`jpeg: expected a marker at byte ${i}`)
    // Any number of 0xff fill bytes may precede a marker.
    while (i < b.length && b[i] === 0xff) i++
    if (i >= b.length) return err(NEED_MORE_BYTES)
    const marker = b[i] ?? 0
    i++
    if (marker === 0x00) return err('jpeg: stuffed byte where a marker was expected')
    if (marker === 0xd9) return err('jpeg: end of image before any frame header')
    if (marker === 0xda) return err('jpeg: scan data before any frame header')
    // Standalone markers carry no length: TEM, RSTn, SOI.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue
    if (i + 2 > b.length) return err(NEED_MORE_BYTES)
    const length = u16be(b, i)
    if (length < 2) return err(`jpeg: bad segment length ${length}`)
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc
    if (isSof) {
      // length(2) precision(1) height(2) width(2) components(1)
      if (length < 8) return err('jpeg: frame header too short')
      if (i + 7 > b.length) return err(NEED_MORE_BYTES)
      const height = u16be(b, i + 3)
      const width = u16be(b, i + 5)
      // Height 0 means "defined later by a DNL marker": legal but exotic, and unsafe to size-check.
      if (height === 0) return err('jpeg: height deferred to a DNL marker')
      return ok({ format: 'jpg', width, height })
    }
    i += length
  }
}
