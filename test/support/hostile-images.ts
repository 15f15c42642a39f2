/**
 * Hostile image files, written in code (nothing binary is committed): pixel and decompression bombs
 * that look small, malformed streams, truncations and polyglots. Each writer produces a file that
 * is *valid up to the point of the attack*, so it gets past the checks a careless server would stop
 * at (magic bytes, a small header) and reaches the code it targets.
 */
import { deflateSync } from 'node:zlib'

const ascii = (text: string): number[] => Array.from(text, (c) => c.charCodeAt(0))
const be32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
const le16 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff]
const le24 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff]
const le32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]

export function concat(...parts: Array<Uint8Array | number[]>): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0)
  const out = new Uint8Array(total)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

// --- PNG ---------------------------------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (const b of bytes) crc = CRC_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

/** One PNG chunk: length, type, data, CRC over type and data. */
export function pngChunk(type: string, data: Uint8Array | number[]): Uint8Array {
  const body = concat(ascii(type), data)
  return concat(be32(data.length), body, be32(crc32(body)))
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

export interface PngOptions {
  width: number
  height: number
  /** 6 = RGBA (default), 2 = RGB, 0 = grey. */
  colourType?: number
  /** Chunks between IHDR and IDAT (zTXt, iCCP, tEXt…). */
  before?: Uint8Array[]
  /** The IDAT payload (zlib); default: every row filter 0 and zero pixels, deflated. */
  idat?: Uint8Array
  /** Bytes after IEND (a polyglot's payload). */
  trailer?: Uint8Array
}

/** A PNG whose pixel data is all zeros unless `idat` says otherwise. */
export function png(options: PngOptions): Uint8Array {
  const colourType = options.colourType ?? 6
  const channels = colourType === 6 ? 4 : colourType === 2 ? 3 : colourType === 4 ? 2 : 1
  const ihdr = [...be32(options.width), ...be32(options.height), 8, colourType, 0, 0, 0]
  const idat = options.idat ?? deflateSync(new Uint8Array((options.width * channels + 1) * options.height))
  return concat(
    PNG_SIGNATURE,
    pngChunk('IHDR', ihdr),
    ...(options.before ?? []),
    pngChunk('IDAT', idat),
    pngChunk('IEND', []),
    options.trailer ?? [],
  )
}

/**
 * A decompression bomb: `width`×`height` RGBA of zeros. The IDAT deflates ~1000:1, so a 6000² image
 * (144 MB of pixels) is a file of ~140 KB.
 */
export function pngBomb(width: number, height: number): Uint8Array {
  return png({ width, height })
}

/** A zTXt chunk whose text inflates to `inflatedBytes` (metadata bombs aimed at text readers). */
export function zTxtBomb(inflatedBytes: number): Uint8Array {
  return pngChunk('zTXt', concat(ascii('Comment'), [0, 0], deflateSync(new Uint8Array(inflatedBytes))))
}

/** An iCCP chunk whose "profile" inflates to `inflatedBytes` of zeros (not a valid ICC profile). */
export function iccpBomb(inflatedBytes: number): Uint8Array {
  return pngChunk('iCCP', concat(ascii('icc'), [0, 0], deflateSync(new Uint8Array(inflatedBytes))))
}

// --- GIF ---------------------------------------------------------------------------------------

export interface GifFrame {
  left?: number
  top?: number
  width: number
  height: number
  /** LZW minimum code size byte (2..8 are legal; anything else is an attack on the decoder). */
  minCodeSize?: number
  /** The LZW stream (split into sub-blocks here); default: one clear code and end-of-information. */
  lzw?: Uint8Array
}

/**
 * A GIF89a with a 2-colour global table and the given frames. The default LZW stream (clear, end)
 * codes no pixels at all: a frame's *declared* size is what a decoder allocates.
 */
export function gif(screen: { width: number; height: number }, frames: readonly GifFrame[]): Uint8Array {
  const parts: Array<Uint8Array | number[]> = [
    ascii('GIF89a'),
    [...le16(screen.width), ...le16(screen.height), 0x80, 0, 0],
    [0, 0, 0, 255, 255, 255],
  ]
  for (const frame of frames) {
    const minCodeSize = frame.minCodeSize ?? 2
    parts.push([
      0x2c,
      ...le16(frame.left ?? 0),
      ...le16(frame.top ?? 0),
      ...le16(frame.width),
      ...le16(frame.height),
      0,
    ])
    parts.push([minCodeSize])
    // Clear (4) then end (5) with 3-bit codes: 0b101_100 → 0x2c.
    const lzw = frame.lzw ?? new Uint8Array([0x2c])
    for (let at = 0; at < lzw.length; at += 255) {
      const block = lzw.subarray(at, at + 255)
      parts.push([block.length], block)
    }
    parts.push([0])
  }
  parts.push([0x3b])
  return concat(...parts)
}

/**
 * GIF's LZW coding of `count` palette indices (`index(i)`), as encoders write it: a clear code
 * first, the table reset with a clear code whenever it fills (4096 codes). Runs of one colour
 * compress ~1000:1, so a 6000² frame (144 MB decoded) is a few tens of KB.
 */
export function gifLzw(count: number, index: (i: number) => number = () => 0, minCodeSize = 2): Uint8Array {
  const clear = 1 << minCodeSize
  const end = clear + 1
  const table = new Int32Array(4096 << 8).fill(-1)
  const out: number[] = []
  let bits = 0
  let bitCount = 0
  let codeSize = minCodeSize + 1
  let next = end + 1
  const emit = (code: number) => {
    bits |= code << bitCount
    bitCount += codeSize
    while (bitCount >= 8) {
      out.push(bits & 0xff)
      bits >>>= 8
      bitCount -= 8
    }
  }
  emit(clear)
  let prefix = index(0)
  for (let i = 1; i < count; i++) {
    const k = index(i)
    const key = (prefix << 8) | k
    const found = table[key]!
    if (found >= 0) {
      prefix = found
      continue
    }
    emit(prefix)
    if (next === 4096) {
      emit(clear)
      table.fill(-1)
      next = end + 1
      codeSize = minCodeSize + 1
    } else {
      if (next >= 1 << codeSize) codeSize++
      table[key] = next++
    }
    prefix = k
  }
  emit(prefix)
  emit(end)
  if (bitCount > 0) out.push(bits & 0xff)
  return new Uint8Array(out)
}

/** A frame of `width`×`height` pixels of colour 0, validly coded. */
export const solidFrame = (width: number, height: number, at: { left?: number; top?: number } = {}): GifFrame => ({
  ...at,
  width,
  height,
  lzw: gifLzw(width * height),
})

// --- JPEG --------------------------------------------------------------------------------------

/** The marker segments of a JPEG, up to and including the first SOS (its entropy data is `scan`). */
export interface JpegSegment {
  marker: number
  /** Bytes after the length field (SOS: its header only; scan data follows in `scan`). */
  data: Uint8Array
  /** For SOS: the entropy-coded data up to the next marker. */
  scan?: Uint8Array
}

/** Splits a JPEG into its segments (SOS with their scans), stopping at EOI. */
export function jpegSegments(bytes: Uint8Array): JpegSegment[] {
  const segments: JpegSegment[] = []
  let i = 2
  while (i + 4 <= bytes.length) {
    const marker = bytes[i + 1]!
    if (marker === 0xd9) break
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!
    const data = bytes.subarray(i + 4, i + 2 + length)
    i += 2 + length
    if (marker !== 0xda) {
      segments.push({ marker, data })
      continue
    }
    let end = i
    while (end + 1 < bytes.length && !(bytes[end] === 0xff && bytes[end + 1] !== 0 && !isRst(bytes[end + 1]!))) end++
    segments.push({ marker, data, scan: bytes.subarray(i, end) })
    i = end
  }
  return segments
}
const isRst = (marker: number) => marker >= 0xd0 && marker <= 0xd7

export function jpegFromSegments(segments: readonly JpegSegment[]): Uint8Array {
  const parts: Array<Uint8Array | number[]> = [[0xff, 0xd8]]
  for (const s of segments) {
    parts.push([0xff, s.marker, ...[((s.data.length + 2) >> 8) & 0xff, (s.data.length + 2) & 0xff]], s.data)
    if (s.scan) parts.push(s.scan)
  }
  parts.push([0xff, 0xd9])
  return concat(...parts)
}

/** The JPEG with its frame header (SOFn) claiming another size; the scans are left as they were. */
export function jpegWithSize(bytes: Uint8Array, width: number, height: number): Uint8Array {
  const segments = jpegSegments(bytes).map((s) => {
    if (s.marker < 0xc0 || s.marker > 0xcf || s.marker === 0xc4 || s.marker === 0xc8 || s.marker === 0xcc) return s
    const data = new Uint8Array(s.data)
    data.set([(height >> 8) & 0xff, height & 0xff, (width >> 8) & 0xff, width & 0xff], 1)
    return { ...s, data }
  })
  return jpegFromSegments(segments)
}

/** A progressive JPEG with its last scan repeated until there are `scans` of them (a CPU bomb). */
export function jpegManyScans(progressive: Uint8Array, scans: number): Uint8Array {
  const segments = jpegSegments(progressive)
  const sosIndices = segments.flatMap((s, i) => (s.marker === 0xda ? [i] : []))
  const last = sosIndices[sosIndices.length - 1]
  if (last === undefined) throw new Error('no scan in this JPEG')
  const repeat = segments[last]!
  const extra = Array.from({ length: Math.max(0, scans - sosIndices.length) }, () => repeat)
  return jpegFromSegments([...segments.slice(0, last + 1), ...extra, ...segments.slice(last + 1)])
}

// --- WebP --------------------------------------------------------------------------------------

/** RIFF container around chunks (sizes padded to even, as RIFF wants). */
export function riffWebp(chunks: ReadonlyArray<{ fourcc: string; data: Uint8Array | number[] }>): Uint8Array {
  const body: Array<Uint8Array | number[]> = [ascii('WEBP')]
  for (const { fourcc, data } of chunks) {
    body.push(ascii(fourcc), le32(data.length), data)
    if (data.length % 2 === 1) body.push([0])
  }
  const payload = concat(...body)
  return concat(ascii('RIFF'), le32(payload.length), payload)
}

/**
 * A lossless (VP8L) bitstream of `width`×`height` pixels of one colour, in a handful of bytes:
 * no transforms, no colour cache, and five "simple" prefix codes of one symbol each, so every
 * pixel costs zero bits. A decoder allocates the whole canvas for it: 16383² is 1 GB of RGBA.
 */
export function vp8lSolid(width: number, height: number): Uint8Array {
  const bits: number[] = []
  const put = (value: number, count: number) => {
    for (let i = 0; i < count; i++) bits.push((value >>> i) & 1)
  }
  put(0x2f, 8) // signature
  put(width - 1, 14)
  put(height - 1, 14)
  put(0, 1) // alpha hint
  put(0, 3) // version
  put(0, 1) // no transform
  put(0, 1) // no colour cache
  put(0, 1) // no meta prefix codes
  for (let code = 0; code < 5; code++) {
    put(1, 1) // simple code
    put(0, 1) // one symbol
    put(1, 1) // 8-bit symbol
    put(code === 3 ? 255 : 0, 8) // green, red, blue, alpha (opaque), distance
  }
  const out = new Uint8Array(Math.ceil(bits.length / 8) + 4)
  bits.forEach((bit, i) => {
    out[i >> 3]! |= bit << (i & 7)
  })
  return out
}

/** A VP8X file whose canvas says `canvas` while the image inside (lossless) is `image`. */
export function webpCanvasLie(canvas: { width: number; height: number }, image: { width: number; height: number }) {
  return riffWebp([
    { fourcc: 'VP8X', data: [0, 0, 0, 0, ...le24(canvas.width - 1), ...le24(canvas.height - 1)] },
    { fourcc: 'VP8L', data: vp8lSolid(image.width, image.height) },
  ])
}

/** An animated WebP: VP8X with the animation flag, ANIM, and one ANMF frame holding a 10×10 VP8L. */
export function animatedWebp(): Uint8Array {
  const frame = vp8lSolid(10, 10)
  const framePayload = concat(ascii('VP8L'), le32(frame.length), frame, frame.length % 2 ? [0] : [])
  return riffWebp([
    { fourcc: 'VP8X', data: [0x02, 0, 0, 0, ...le24(9), ...le24(9)] },
    { fourcc: 'ANIM', data: [0, 0, 0, 0, 0, 0] },
    { fourcc: 'ANMF', data: concat(le24(0), le24(0), le24(9), le24(9), le24(100), [0], framePayload) },
  ])
}

// --- other formats and polyglots ---------------------------------------------------------------

/** An ISO-BMFF `ftyp` box as AVIF and HEIC files start (no decoder of ours reads them). */
export function isoBmff(brand: 'avif' | 'heic'): Uint8Array {
  const ftyp = concat(ascii('ftyp'), ascii(brand), [0, 0, 0, 0], ascii('mif1'), ascii(brand))
  const meta = concat(be32(12), ascii('meta'), [0, 0, 0, 0])
  return concat(be32(ftyp.length + 4), ftyp, meta)
}

export const HTML_PAYLOAD = '<html><body><script>alert(document.domain)</script></body></html>'

/**
 * A GIF that is also JavaScript, `GIF89a/*…*​/=alert(…)`: the screen width's two bytes are `/*`,
 * opening a comment that hides the binary; after the trailer the script closes it and assigns.
 */
export function gifJavascriptPolyglot(): Uint8Array {
  const image = gif({ width: 0x2a2f, height: 1 }, [solidFrame(1, 1)]) // 0x2a2f little-endian = '/*'
  return concat(image, ascii('*/=alert(document.domain);//'))
}

/** A minimal ZIP (one stored, empty file) to append to an image. */
export function zipArchive(): Uint8Array {
  const name = ascii('x.html')
  const local = concat(ascii('PK\u0003\u0004'), [20, 0, 0, 0, 0, 0, 0, 0, 0, 0], be32(0), be32(0), be32(0))
  const fileHeader = concat(local.subarray(0, 26), le16(name.length), le16(0), name)
  const central = concat(
    ascii('PK\u0001\u0002'),
    [20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    be32(0),
    be32(0),
    be32(0),
    le16(name.length),
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    name,
  )
  const end = concat(
    ascii('PK\u0005\u0006'),
    [0, 0, 0, 0, 1, 0, 1, 0],
    le32(central.length),
    le32(fileHeader.length),
    [0, 0],
  )
  return concat(fileHeader, central, end)
}

export const SVG_PAYLOAD =
  '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)"><rect/></svg>'

/** `bytes` cut at each of the offsets that matter: 1, 10, 100, half, and one byte short. */
export function truncations(bytes: Uint8Array): Array<{ at: number; bytes: Uint8Array }> {
  const offsets = [1, 10, 100, Math.floor(bytes.length / 2), bytes.length - 1]
  return [...new Set(offsets.filter((at) => at > 0 && at < bytes.length))].map((at) => ({
    at,
    bytes: bytes.slice(0, at),
  }))
}
