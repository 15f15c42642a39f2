/**
 * Image facts from the first bytes of a file, without decoding anything: format, size, whether it
 * may carry transparency, and its EXIF orientation.
 *
 * One reader serves two jobs. While a download streams in, it refuses a pixel bomb before the rest
 * arrives, so it works on any prefix of the file and tells "I need more bytes" (`NEED_MORE_BYTES`)
 * apart from "this is not an image we accept" (any other error text). Before a transformation, it
 * lets limits be checked and the output planned before a single pixel is decoded.
 *
 * Only JPEG, PNG, GIF and WebP are accepted: the formats profile pictures use and our decoders
 * handle. SVG (active content), BMP/TIFF (decoder bugs), AVIF (no decoder) and HTML error pages are
 * refused.
 */
import { err, ok, type Result } from '../result.ts'
import type { ImageFormat } from '../url/types.ts'

export interface ImageHeader {
  format: ImageFormat
  /**
   * Stored pixel size as the header declares it (for animations: the canvas / logical screen): the
   * size a decode yields.
   */
  width: number
  height: number
  /**
   * What decoding costs, when more than `width`×`height`: a GIF's first frame may reach far beyond
   * its logical screen (a 1×1 screen over a 4000² frame in 11 KB), and the decoder decodes the whole
   * frame before it keeps the screen's part. The rectangle from the screen's origin that holds the
   * screen and that frame; size limits and the work budget count it (`decodeSize`).
   */
  decode?: { width: number; height: number }
  /**
   * Whether the file can carry transparency: PNG colour type 4/6 or a tRNS chunk (among the bytes
   * read), WebP alpha flags, always for GIF (transparency hides in per-frame extensions), never JPEG.
   */
  mayHaveAlpha: boolean
  /** EXIF orientation 1–8 (JPEG only; 1 = as stored). */
  orientation: number
}

/** The error text when the prefix is consistent with an accepted image but too short to tell its size. */
export const NEED_MORE_BYTES = 'need more bytes'

export function isNeedMoreBytes(error: string): boolean {
  return error === NEED_MORE_BYTES
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const
const asciiCodes = (text: string): number[] => Array.from(text, (c) => c.charCodeAt(0))

/** Magic numbers; a body shorter than one of these that matches its start may still be that format. */
const MAGICS: ReadonlyArray<{ format: ImageFormat; bytes: readonly number[] }> = [
  { format: 'jpg', bytes: [0xff, 0xd8, 0xff] },
  { format: 'png', bytes: PNG_SIGNATURE },
  { format: 'gif', bytes: asciiCodes('GIF87a') },
  { format: 'gif', bytes: asciiCodes('GIF89a') },
  // RIFF????WEBP: the size field is a wildcard (-1).
  { format: 'webp', bytes: [...asciiCodes('RIFF'), -1, -1, -1, -1, ...asciiCodes('WEBP')] },
]

function matchesMagic(bytes: Uint8Array, magic: readonly number[]): 'yes' | 'prefix' | 'no' {
  const n = Math.min(bytes.length, magic.length)
  for (let i = 0; i < n; i++) {
    const m = magic[i]
    if (m !== -1 && bytes[i] !== m) return 'no'
  }
  return bytes.length >= magic.length ? 'yes' : 'prefix'
}

/** The format from the magic bytes, or undefined for anything we cannot decode. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  return MAGICS.find(({ bytes: magic }) => matchesMagic(bytes, magic) === 'yes')?.format
}

/** The pixels decoding works through: `header.decode` when set, else the image's own size. */
export function decodeSize(header: ImageHeader): { width: number; height: number } {
  return header.decode ?? { width: header.width, height: header.height }
}

export function probeImage(bytes: Uint8Array): Result<ImageHeader, string> {
  let couldBe = false
  for (const { format, bytes: magic } of MAGICS) {
    const match = matchesMagic(bytes, magic)
    if (match === 'prefix') couldBe = true
    if (match !== 'yes') continue
    const header =
      format === 'jpg'
        ? probeJpeg(bytes)
        : format === 'png'
          ? probePng(bytes)
          : format === 'gif'
            ? probeGif(bytes)
            : probeWebp(bytes)
    if (!header.ok) return header
    const { width, height } = header.value
    if (width < 1 || height < 1) return err(`${format}: zero image dimension (${width}x${height})`)
    return header
  }
  return couldBe
    ? err(NEED_MORE_BYTES)
    : err(`not a JPEG, PNG, GIF or WebP image (starts with ${describeStart(bytes)})`)
}

function describeStart(bytes: Uint8Array): string {
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ')
  return head === '' ? 'nothing' : head
}

function ascii(b: Uint8Array, at: number, length: number): string {
  let text = ''
  for (let i = at; i < at + length && i < b.length; i++) text += String.fromCharCode(b[i]!)
  return text
}
const u16be = (b: Uint8Array, i: number): number => ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0)
const u16le = (b: Uint8Array, i: number): number => (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8)
const u24le = (b: Uint8Array, i: number): number => u16le(b, i) | ((b[i + 2] ?? 0) << 16)
const u32be = (b: Uint8Array, i: number): number => u16be(b, i) * 65536 + u16be(b, i + 2)
const u32le = (b: Uint8Array, i: number): number => u16le(b, i) + u16le(b, i + 2) * 65536

const opaque = { mayHaveAlpha: false, orientation: 1 } as const

function probePng(b: Uint8Array): Result<ImageHeader, string> {
  // The first chunk must be IHDR (length 13): width and height are 4-byte big-endian at 16 and 20,
  // the colour type at 25 (a shorter prefix is enough for the size; its alpha is then unknown).
  if (b.length < 24) return err(NEED_MORE_BYTES)
  if (u32be(b, 8) !== 13 || ascii(b, 12, 4) !== 'IHDR') return err('png: first chunk is not IHDR')
  const width = u32be(b, 16)
  const height = u32be(b, 20)
  // The PNG spec caps dimensions at 2^31-1; anything above is a corrupt or hostile header.
  if (width > 0x7fffffff || height > 0x7fffffff) return err('png: dimension out of range')
  const colourType = b[25]
  let mayHaveAlpha = colourType === undefined || colourType === 4 || colourType === 6
  // tRNS (palette or single-colour transparency) must come before the first IDAT.
  for (let at = 8; !mayHaveAlpha && at + 8 <= b.length; ) {
    const type = ascii(b, at + 4, 4)
    if (type === 'tRNS') mayHaveAlpha = true
    if (type === 'IDAT' || type === 'IEND') break
    at += 12 + u32be(b, at)
  }
  return ok({ format: 'png', width, height, mayHaveAlpha, orientation: 1 })
}

function probeGif(b: Uint8Array): Result<ImageHeader, string> {
  // Logical screen descriptor right after the 6-byte signature: width, height as 2-byte little-endian.
  if (b.length < 13) return err(NEED_MORE_BYTES)
  const screenWidth = u16le(b, 6)
  const screenHeight = u16le(b, 8)
  // The screen says nothing about the frames: a 1×1 screen may hold an 8000×8000 first frame, and
  // that frame is what a decoder allocates (then it keeps the screen's part: the image is the
  // screen). Walk to the first image descriptor and count the area it reaches, so limits and the
  // budget see the real cost (a "frame bomb" is refused from its header). Only the first frame is
  // ever decoded (codecs.ts), so later ones cost nothing.
  const packed = b[10] ?? 0
  let at = 13 + ((packed & 0x80) !== 0 ? 3 * 2 ** ((packed & 0x07) + 1) : 0)
  for (;;) {
    if (at >= b.length) return err(NEED_MORE_BYTES)
    const block = b[at]
    if (block === 0x2c) {
      // Image descriptor: left, top, width, height (2-byte LE each).
      if (at + 9 > b.length) return err(NEED_MORE_BYTES)
      const reachWidth = Math.max(screenWidth, u16le(b, at + 1) + u16le(b, at + 5))
      const reachHeight = Math.max(screenHeight, u16le(b, at + 3) + u16le(b, at + 7))
      const header: ImageHeader = {
        format: 'gif',
        width: screenWidth,
        height: screenHeight,
        mayHaveAlpha: true,
        orientation: 1,
      }
      if (reachWidth * reachHeight > screenWidth * screenHeight)
        header.decode = { width: reachWidth, height: reachHeight }
      return ok(header)
    }
    if (block === 0x21) {
      // Extension: introducer, label, then data sub-blocks ended by a zero-length one.
      at += 2
      for (;;) {
        if (at >= b.length) return err(NEED_MORE_BYTES)
        const size = b[at]!
        at += 1 + size
        if (size === 0) break
      }
      continue
    }
    if (block === 0x3b) return err('gif: no image before the trailer')
    return err(`gif: unexpected block 0x${(block ?? 0).toString(16)} before the first image`)
  }
}

function probeWebp(b: Uint8Array): Result<ImageHeader, string> {
  // RIFF header (12 bytes), then the first chunk: fourcc (4) + size (4) + payload from offset 20.
  if (b.length < 16) return err(NEED_MORE_BYTES)
  const chunk = ascii(b, 12, 4)
  switch (chunk) {
    case 'VP8 ': {
      // Lossy: 3-byte frame tag (bit 0 clear = key frame), start code 9d 01 2a, then 14-bit width/height.
      if (b.length < 30) return err(NEED_MORE_BYTES)
      if (((b[20] ?? 0) & 1) !== 0) return err('webp: first VP8 frame is not a key frame')
      if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return err('webp: bad VP8 start code')
      return ok({ format: 'webp', width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff, ...opaque })
    }
    case 'VP8L': {
      // Lossless: signature 0x2f, then width-1 and height-1 (14 bits each) and an alpha bit, packed LE.
      if (b.length < 25) return err(NEED_MORE_BYTES)
      if (b[20] !== 0x2f) return err('webp: bad VP8L signature')
      const bits = u32le(b, 21)
      const width = (bits & 0x3fff) + 1
      const height = ((bits >>> 14) & 0x3fff) + 1
      return ok({ format: 'webp', width, height, mayHaveAlpha: ((bits >>> 28) & 1) === 1, orientation: 1 })
    }
    case 'VP8X': {
      // Extended (alpha, animation, metadata): flags (alpha = 0x10), then canvas width-1, height-1 as 24-bit LE.
      if (b.length < 30) return err(NEED_MORE_BYTES)
      const mayHaveAlpha = ((b[20] ?? 0) & 0x10) !== 0
      return ok({ format: 'webp', width: u24le(b, 24) + 1, height: u24le(b, 27) + 1, mayHaveAlpha, orientation: 1 })
    }
    default:
      return err(`webp: unknown first chunk ${JSON.stringify(chunk)}`)
  }
}

/**
 * Walk the JPEG marker segments up to the first start-of-frame, reading the EXIF orientation on the
 * way (APP1 comes first). SOF0–SOF15 carry the size, except C4 (DHT), C8 (JPG extension) and CC
 * (DAC), which share the range but are tables.
 */
function probeJpeg(b: Uint8Array): Result<ImageHeader, string> {
  let orientation = 1
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
    if (marker === 0xe1 && ascii(b, i + 2, 6) === 'Exif\0\0') {
      orientation = exifOrientation(b, i + 8, Math.min(b.length, i + length))
    }
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc
    if (isSof) {
      // length(2) precision(1) height(2) width(2) components(1)
      if (length < 8) return err('jpeg: frame header too short')
      if (i + 7 > b.length) return err(NEED_MORE_BYTES)
      const height = u16be(b, i + 3)
      const width = u16be(b, i + 5)
      // Height 0 means "defined later by a DNL marker": legal but exotic, and unsafe to size-check.
      if (height === 0) return err('jpeg: height deferred to a DNL marker')
      return ok({ format: 'jpg', width, height, mayHaveAlpha: false, orientation })
    }
    i += length
  }
}

/** Tag 0x0112 of IFD0 in a TIFF block starting at `tiff`; 1 when absent or malformed. */
function exifOrientation(b: Uint8Array, tiff: number, end: number): number {
  const little = ascii(b, tiff, 2) === 'II'
  if (!little && ascii(b, tiff, 2) !== 'MM') return 1
  const read16 = (i: number) => (little ? u16le(b, i) : u16be(b, i))
  const read32 = (i: number) => (little ? u32le(b, i) : u32be(b, i))
  const ifd = tiff + read32(tiff + 4)
  if (ifd + 2 > end) return 1
  const count = read16(ifd)
  for (let k = 0; k < count; k++) {
    const entry = ifd + 2 + k * 12
    if (entry + 12 > end) break
    if (read16(entry) === 0x0112) {
      const value = read16(entry + 8)
      return value >= 1 && value <= 8 ? value : 1
    }
  }
  return 1
}
