/**
 * Decoding and encoding between file bytes and our straight-RGBA `Bitmap`.
 *
 * - JPEG decode at full size: `@jsquash/jpeg` (mozjpeg's libjpeg-turbo decoder in WASM), 5–10× faster
 *   than imagescript's `Image.decode` (whose JS loop copies every RGB pixel through a subarray). Greyscale
 *   and RGB only: CMYK/YCCK files, and any file the decoder fails on or warns about (truncated,
 *   corrupt data), go through imagescript's decoder as before, so what is refused stays the same.
 * - JPEG decode at a reduced DCT scale (shrink-on-load), PNG and GIF decode: imagescript's WASM
 *   decoders, called directly (GIF: first frame only, composited on the logical screen, as
 *   Cloudinary does for a still output).
 * - WebP decode: `@jsquash/webp` (libwebp in WASM) because imagescript cannot read WebP at all
 *   ("Unsupported image type"). The .wasm is imported `with { type: 'file' }` so `bun build --compile`
 *   embeds it and we hand the compiled module to the emscripten glue ourselves: the glue's own
 *   `new URL('webp_dec.wasm', import.meta.url)` lookup does not survive bundling.
 * - JPEG encode: `@jsquash/jpeg` (mozjpeg in WASM, same embedding): optimised Huffman tables and
 *   mozjpeg's quantisation give files ~16–27 % smaller than imagescript's encoder at the same
 *   quality (measured on 120² and 400² portraits); baseline by default, progressive with
 *   `fl_progressive`. A derivative is encoded once and served many times, so bytes win over the
 *   few extra milliseconds.
 * - Other encoders: imagescript's native addon (WebP, PNG with adaptive row filters, GIF).
 *
 * Everything returned is a plain, transferable Uint8Array (the addon's own buffers are not
 * transferable to a worker: postMessage with them in the transfer list throws DataCloneError).
 */
import { GIF, Frame, Image } from 'imagescript'
import codecs from 'imagescript/codecs/node/index.js'
import jpegWasm from 'imagescript/wasm/node/jpeg.js'
import pngWasm from 'imagescript/wasm/node/png.js'
import mozjpegDecWasmPath from '@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm' with { type: 'file' }
import mozjpegDecFactory from '@jsquash/jpeg/codec/dec/mozjpeg_dec.js'
import webpWasmPath from '@jsquash/webp/codec/dec/webp_dec.wasm' with { type: 'file' }
import decodeWebpRaw, { init as initWebpRaw } from '@jsquash/webp/decode.js'
import mozjpegWasmPath from '@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm' with { type: 'file' }
import encodeMozjpeg, { init as initMozjpeg } from '@jsquash/jpeg/encode.js'
import type { ImageFormat, Quality, Rgba } from '../url/types.ts'
import type { Bitmap } from './types.ts'
import { probeImage, sniffFormat } from '../lib/image-header.ts'
import { applyOrientation } from './transform.ts'
import { HttpError } from '../lib/http-error.ts'

/** The reduced scales a JPEG can be decoded at directly (DCT-domain): 1/2, 1/4, 1/8. */
export const JPEG_DCT_SHRINKS = [2, 4, 8] as const

/**
 * Most scans a JPEG may have. Each scan of a progressive JPEG is one more pass over every
 * coefficient of the image, and a repeated scan costs a few bytes: 20,000 scans of a 4000² image
 * fit in 330 KB and keep the decoder busy for ~17 s (a minute per MB). Encoders write a few dozen
 * at most (mozjpeg ~10); libjpeg-turbo's `djpeg -maxscans` exists for the same reason.
 */
export const MAX_JPEG_SCANS = 256

/** Start-of-scan markers in a JPEG (entropy-coded data never holds FF DA: an FF there is stuffed). */
export function countJpegScans(bytes: Uint8Array): number {
  let scans = 0
  for (let i = bytes.indexOf(0xff); i >= 0 && i + 1 < bytes.length; i = bytes.indexOf(0xff, i + 1)) {
    if (bytes[i + 1] === 0xda) scans++
  }
  return scans
}

/** The bytes could not be decoded (corrupt, truncated, or not the format they claim): the upstream's fault. */
export function undecodable(reason: string): HttpError {
  return new HttpError(502, `Upstream image could not be decoded: ${reason}`)
}

export interface EncodeOptions {
  /** 1–100 (see `resolveQuality`). PNG ignores it (lossless). */
  quality: number
  /** Progressive JPEG (`fl_progressive`); baseline otherwise. */
  progressive?: boolean
  /** JPEG without chroma subsampling (`q_N:444`); 4:2:0 otherwise, as Cloudinary's default. */
  fullChroma?: boolean
  /** What transparent pixels become in a format without alpha (JPEG). Default white, like Cloudinary. */
  background?: Rgba
}

export const WHITE: Rgba = { r: 255, g: 255, b: 255, a: 255 }

/**
 * `q_auto[:level]` as fixed encoder qualities. Cloudinary's q_auto is perceptual per image; we map
 * the levels to fixed values in the same spirit. WebP reaches the JPEG level's visual quality at
 * a lower number (libwebp's scale is "harder"), hence its own column.
 * GIF's number drives the palette quantiser (imagescript default 95).
 */
export const AUTO_QUALITY: Record<ImageFormat, Record<'best' | 'good' | 'eco' | 'low', number>> = {
  jpg: { best: 90, good: 80, eco: 65, low: 50 },
  webp: { best: 85, good: 75, eco: 60, low: 45 },
  png: { best: 100, good: 100, eco: 100, low: 100 }, // lossless: quality is not used
  gif: { best: 100, good: 90, eco: 75, low: 60 },
}

/** The encoder quality for a `q_` value; no `q_` at all encodes like `q_auto:good`. */
export function resolveQuality(quality: Quality | undefined, format: ImageFormat): number {
  if (quality === undefined) return AUTO_QUALITY[format].good
  if (quality.kind === 'auto') return AUTO_QUALITY[format][quality.level]
  // The `:420`/`:444` chroma hint travels separately (EncodeOptions.fullChroma), not in the number.
  return Math.min(100, Math.max(1, Math.round(quality.value)))
}

export interface DecodeOptions {
  /**
   * Turn the pixels upright per EXIF orientation (default true, as Cloudinary does unless
   * `a_ignore`). Face boxes and planned sizes are in upright pixels, so keep them consistent.
   */
  autoOrient?: boolean
  /**
   * Shrink-on-load: the caller will reduce the image by at least this factor anyway, so a JPEG
   * may be decoded directly at 1/2, 1/4 or 1/8 scale (DCT-domain, several times faster and a
   * fraction of the memory), never below (stored size ÷ shrink). Other formats ignore it.
   * The caller must check the returned size.
   */
  shrink?: number
}

/**
 * Decodes `bytes` to straight RGBA. `format` is what the caller believes; the magic bytes win
 * when they disagree (upstreams mislabel content types).
 */
export async function decode(bytes: Uint8Array, format: ImageFormat, options: DecodeOptions = {}): Promise<Bitmap> {
  const actual = sniffFormat(bytes) ?? format
  if (actual === 'jpg') {
    const scans = countJpegScans(bytes)
    if (scans > MAX_JPEG_SCANS) throw undecodable(`JPEG with ${scans} scans (at most ${MAX_JPEG_SCANS})`)
  }
  let bitmap: Bitmap
  try {
    bitmap = actual === 'jpg' ? await decodeJpeg(bytes, options.shrink ?? 1) : await decodeRaw(bytes, actual)
  } catch (e) {
    throw undecodable(`Cannot decode ${actual} image: ${e instanceof Error ? e.message : String(e)}`)
  }
  if (options.autoOrient === false || actual !== 'jpg') return bitmap
  const header = probeImage(bytes)
  return applyOrientation(bitmap, header.ok ? header.value.orientation : 1)
}

async function decodeRaw(bytes: Uint8Array, format: Exclude<ImageFormat, 'jpg'>): Promise<Bitmap> {
  switch (format) {
    case 'png':
      return decodePng(bytes)
    case 'gif': {
      const first = (await GIF.decode(bytes, true))[0]
      if (!first) throw new Error('GIF has no frames')
      return fromImage(first)
    }
    case 'webp':
      return decodeWebp(bytes)
  }
}

/** Encodes straight RGBA. JPEG has no alpha: the image is flattened onto `background` first. */
export async function encode(
  bitmap: Bitmap,
  format: ImageFormat,
  options: EncodeOptions,
): Promise<Uint8Array<ArrayBuffer>> {
  const { width, height } = bitmap
  const quality = Math.min(100, Math.max(1, Math.round(options.quality)))
  let out: Uint8Array
  switch (format) {
    case 'jpg': {
      const flat = isOpaque(bitmap) ? bitmap.data : flatten(bitmap, options.background ?? WHITE).data
      out = await encodeJpeg(
        { width, height, data: flat },
        quality,
        options.progressive === true,
        options.fullChroma === true,
      )
      break
    }
    case 'webp':
      out = await codecs.webp.encode_async(bitmap.data, { width, height, quality })
      break
    case 'png':
      out = await codecs.png.encode_async(bitmap.data, { width, height, compression: 'default' })
      break
    case 'gif': {
      const img = new Image(width, height)
      img.bitmap.set(bitmap.data)
      out = await new GIF([Frame.from(img, 100)]).encode(quality as Parameters<GIF['encode']>[0])
      break
    }
  }
  return new Uint8Array(out) // a copy in plain JS memory: transferable, unlike the addon's buffer
}

/** True when every pixel has alpha 255. */
export function isOpaque(bitmap: Bitmap): boolean {
  const d = bitmap.data
  for (let i = 3; i < d.length; i += 4) if (d[i] !== 255) return false
  return true
}

/** Composites the image over a solid colour (result alpha = the colour's alpha composited). */
export function flatten(bitmap: Bitmap, bg: Rgba): Bitmap {
  const src = bitmap.data
  const out = new Uint8Array(src.length)
  const ba = bg.a / 255
  for (let i = 0; i < src.length; i += 4) {
    const a = src[i + 3]! / 255
    const under = ba * (1 - a) // "over" operator, straight alpha in and out
    const oa = a + under
    if (oa <= 0) continue
    out[i] = Math.round((src[i]! * a + bg.r * under) / oa)
    out[i + 1] = Math.round((src[i + 1]! * a + bg.g * under) / oa)
    out[i + 2] = Math.round((src[i + 2]! * a + bg.b * under) / oa)
    out[i + 3] = Math.round(oa * 255)
  }
  return { width: bitmap.width, height: bitmap.height, data: out }
}

/** Views imagescript's pixels without copying (structural: Frame declares Image's privates differently). */
function fromImage(img: { width: number; height: number; bitmap: Uint8ClampedArray }): Bitmap {
  const b = img.bitmap
  return { width: img.width, height: img.height, data: new Uint8Array(b.buffer, b.byteOffset, b.byteLength) }
}

// --- reusable WASM decoders ----------------------------------------------------------------------

/**
 * A WASM instance is kept between decodes (a fresh one costs 1–3 ms per decode to instantiate and
 * grow its memory), but WASM memory only ever grows: one that has decoded a picture larger than this
 * is dropped afterwards, so a worker does not hold a big picture's worth of memory for the rest of
 * its life. 2.1 MP covers every picture up to 1448² (the 1024²–1080² profile pictures most networks
 * serve); mozjpeg's decoder stays at its initial 16 MiB up to that size (measured, baseline and
 * progressive), where a 2048² progressive file grows it to 32 MiB.
 */
export const KEEP_DECODER_MAX_PIXELS = 2_100_000

/** One lazily created instance per thread, replaced by a fresh one after a failure or a large picture. */
function reusable<T>(create: () => Promise<T>) {
  let current: Promise<T> | undefined
  return {
    /** Runs `work` on the instance; drops it after a failure (its state is suspect) or a large picture. */
    async use<R>(pixels: number, work: (instance: T) => R): Promise<R> {
      current ??= create()
      const mine = current
      const drop = () => {
        if (current === mine) current = undefined
      }
      try {
        return work(await mine)
      } catch (e) {
        drop()
        throw e
      } finally {
        if (!(pixels <= KEEP_DECODER_MAX_PIXELS)) drop()
      }
    },
  }
}

/** Each embedded .wasm compiled once per thread. */
const compiled = new Map<string, Promise<WebAssembly.Module>>()
function compileEmbedded(path: string): Promise<WebAssembly.Module> {
  let module = compiled.get(path)
  if (!module) {
    module = Bun.file(path)
      .arrayBuffer()
      .then((b) => WebAssembly.compile(b))
    compiled.set(path, module)
  }
  return module
}

/** Pixels the header declares (NaN when unreadable: such an instance is not kept). */
function declaredPixels(bytes: Uint8Array): number {
  const header = probeImage(bytes)
  return header.ok ? header.value.width * header.value.height : Number.NaN
}

// --- JPEG decode -------------------------------------------------------------------------------

/** The emscripten module of `@jsquash/jpeg`'s decoder (its d.ts declares the factory through a global namespace). */
interface MozjpegDecoder {
  decode(
    bytes: Uint8Array,
    preserveOrientation: boolean,
  ): { width: number; height: number; data: Uint8ClampedArray } | null
}
type EmscriptenFactory<T> = (options: {
  noInitialRun: boolean
  instantiateWasm: (
    imports: ConstructorParameters<typeof WebAssembly.Instance>[1],
    done: (instance: WebAssembly.Instance) => void,
  ) => unknown
  print: (text: string) => void
  printErr: (text: string) => void
}) => Promise<T>

/**
 * mozjpeg's decoder, with libjpeg's messages (warnings such as "Premature end of JPEG file", and the
 * error text before an exit) collected per decode instead of printed on stderr.
 */
const mozjpegDecoder = reusable(async () => {
  const module = await compileEmbedded(mozjpegDecWasmPath)
  const messages: string[] = []
  const decoder = await (mozjpegDecFactory as unknown as EmscriptenFactory<MozjpegDecoder>)({
    noInitialRun: true,
    instantiateWasm: (imports, done) => {
      const instance = new WebAssembly.Instance(module, imports)
      done(instance)
      return instance.exports
    },
    print: (text) => messages.push(text),
    printErr: (text) => messages.push(text),
  })
  return { decoder, messages }
})

/** imagescript's JPEG decoder: every colour model, and DCT-domain downscaling (`decode(bytes, w, h)`). */
const imagescriptJpeg = reusable(() => jpegWasm.init())
const imagescriptPng = reusable(() => pngWasm.init())

/** Component count and sample precision from the first start-of-frame marker, if found. */
export function jpegFrame(b: Uint8Array): { components: number; precision: number } | undefined {
  let i = 2
  while (i + 4 <= b.length && b[i] === 0xff) {
    const marker = b[i + 1]!
    if (marker === 0xff) {
      i++ // fill byte
      continue
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      i += 2 // no length
      continue
    }
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc
    if (isSof) return i + 9 < b.length ? { precision: b[i + 4]!, components: b[i + 9]! } : undefined
    if (marker === 0xda || marker === 0xd9) return undefined
    i += 2 + ((b[i + 2]! << 8) | b[i + 3]!)
  }
  return undefined
}

/**
 * Full size: mozjpeg for 8-bit greyscale and YCbCr/RGB files; imagescript for the rest and whenever
 * mozjpeg fails or warns. Reduced (`shrink` ≥ 2): imagescript at the smallest DCT scale not below
 * stored size ÷ shrink.
 */
async function decodeJpeg(bytes: Uint8Array, shrink: number): Promise<Bitmap> {
  const header = probeImage(bytes)
  if (!header.ok) throw new Error('no JPEG frame header')
  const { width, height } = header.value
  const pixels = width * height
  if (shrink >= 2) return decodeJpegImagescript(bytes, pixels, Math.ceil(width / shrink), Math.ceil(height / shrink))
  const frame = jpegFrame(bytes)
  if (frame && frame.precision === 8 && (frame.components === 1 || frame.components === 3)) {
    const decoded = await decodeJpegMozjpeg(bytes, pixels)
    if (decoded) return decoded
  }
  return decodeJpegImagescript(bytes, pixels)
}

/** mozjpeg refused or complained about the file: the caller falls back to imagescript. */
class MozjpegGaveUp extends Error {}

/**
 * undefined when mozjpeg failed on the file or had anything to say about it. A decoder that cannot
 * be loaded at all is an error, not a fallback: it must not go unnoticed (e.g. in the binary).
 */
async function decodeJpegMozjpeg(bytes: Uint8Array, pixels: number): Promise<Bitmap | undefined> {
  try {
    return await mozjpegDecoder.use(pixels, ({ decoder, messages }) => {
      messages.length = 0
      let image: ReturnType<MozjpegDecoder['decode']>
      try {
        image = decoder.decode(bytes, false) // false: EXIF orientation is ours to apply
      } catch (e) {
        // libjpeg's error_exit ends in exit(1), thrown as ExitStatus: `use` drops this instance.
        throw new MozjpegGaveUp(messages.join('; ') || String(e))
      }
      if (!image || messages.length > 0) return undefined
      const d = image.data // a copy out of the WASM memory
      return { width: image.width, height: image.height, data: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) }
    })
  } catch (e) {
    if (e instanceof MozjpegGaveUp) return undefined
    throw e
  }
}

/** imagescript's decoder, with the same pixel conversions as its `Image.decode` (grey, RGB, CMYK). */
async function decodeJpegImagescript(bytes: Uint8Array, pixels: number, width?: number, height?: number) {
  const fb = await imagescriptJpeg.use(pixels, (lib) => lib.decode(bytes, width, height))
  const n = fb.width * fb.height
  const src = fb.buffer
  const out = new Uint8Array(n * 4)
  if (fb.format === 0) {
    for (let i = 0; i < n; i++) {
      const v = src[i]!
      out[i * 4] = v
      out[i * 4 + 1] = v
      out[i * 4 + 2] = v
      out[i * 4 + 3] = 255
    }
  } else if (fb.format === 1) {
    for (let i = 0; i < n; i++) {
      out[i * 4] = src[i * 3]!
      out[i * 4 + 1] = src[i * 3 + 1]!
      out[i * 4 + 2] = src[i * 3 + 2]!
      out[i * 4 + 3] = 255
    }
  } else {
    const clamped = new Uint8ClampedArray(out.buffer) // rounds like Image.decode's bitmap
    for (let i = 0; i < n * 4; i += 4) {
      const k = 1 - src[i + 3]! / 255
      clamped[i] = 255 * (1 - src[i]! / 255) * k
      clamped[i + 1] = 255 * (1 - src[i + 1]! / 255) * k
      clamped[i + 2] = 255 * (1 - src[i + 2]! / 255) * k
      clamped[i + 3] = 255
    }
  }
  return { width: fb.width, height: fb.height, data: out }
}

// --- PNG decode --------------------------------------------------------------------------------

/** imagescript's PNG decoder called directly: straight RGBA for every colour type, no `Image` copy. */
async function decodePng(bytes: Uint8Array): Promise<Bitmap> {
  return imagescriptPng.use(declaredPixels(bytes), (lib) => {
    const { width, height, framebuffer } = lib.decode(bytes)
    return { width, height, data: framebuffer }
  })
}

// --- WebP -------------------------------------------------------------------------------------

/** The jsquash glue's `init(module)`: the published .d.ts only declares init(options). */
type EmscriptenInit = (module: WebAssembly.Module) => Promise<void>

/**
 * A lazy, once-per-thread initialiser for an embedded .wasm (each worker has its own instance).
 * We compile the module ourselves: the glue's `new URL('x.wasm', import.meta.url)` lookup does not
 * survive bundling into the single binary.
 */
function embeddedWasm(path: string, init: unknown): () => Promise<void> {
  let ready: Promise<void> | undefined
  return () => (ready ??= compileEmbedded(path).then((module) => (init as EmscriptenInit)(module)))
}

const webpInit = embeddedWasm(webpWasmPath, initWebpRaw)
const mozjpegInit = embeddedWasm(mozjpegWasmPath, initMozjpeg)

/**
 * Compiles the lazily loaded codecs now. A worker does it before it says it is ready, so no job
 * (and no job's deadline) pays for a compile.
 */
export async function warmUpCodecs(): Promise<void> {
  await Promise.all([webpInit(), mozjpegInit(), jpegWasm.init()])
}

// --- JPEG encode (mozjpeg) ---------------------------------------------------------------------

async function encodeJpeg(
  bitmap: Bitmap,
  quality: number,
  progressive: boolean,
  fullChroma: boolean,
): Promise<Uint8Array> {
  await mozjpegInit()
  const pixels = new Uint8ClampedArray(bitmap.data.buffer, bitmap.data.byteOffset, bitmap.data.byteLength)
  const image = { data: pixels, width: bitmap.width, height: bitmap.height, colorSpace: 'srgb' } as Parameters<
    typeof encodeMozjpeg
  >[0]
  const out = await encodeMozjpeg(image, {
    quality,
    baseline: !progressive,
    progressive,
    // 4:2:0 like Cloudinary's default; q_N:444 asks for full-resolution colour.
    auto_subsample: false,
    chroma_subsample: fullChroma ? 1 : 2,
  })
  return new Uint8Array(out)
}

async function decodeWebp(bytes: Uint8Array): Promise<Bitmap> {
  await webpInit()
  // The d.ts says ArrayBuffer, but the embind std::string argument takes any Uint8Array (no copy here).
  const img = await decodeWebpRaw(bytes as unknown as ArrayBuffer)
  const d = img.data
  return { width: img.width, height: img.height, data: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) }
}
