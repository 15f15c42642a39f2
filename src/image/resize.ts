/**
 * Resampling, cropping and padding of straight-RGBA bitmaps, in plain TypeScript.
 *
 * Why our own resampler: imagescript v1 only has nearest-neighbour, which aliases badly (moiré on
 * fine patterns, jagged edges). This is the classic separable convolution
 * (as in libvips `reduce`, Pillow, stb_image_resize):
 *  - the kernel is widened by the reduction factor when downsampling, so every source pixel
 *    contributes (area-correct, no moiré); upsampling uses the kernel as is;
 *  - filtering happens on premultiplied alpha, so colour hidden under transparent pixels cannot
 *    bleed into visible ones (no dark fringes round a cut-out);
 *  - weights are precomputed once per axis; both passes use flat typed arrays.
 * The source window may be fractional (a sub-pixel crop), which keeps `c_fill` aspect-exact.
 */
import type { Rgba } from '../url/types.ts'
import type { Bitmap, Rect } from './types.ts'

export type FilterName = 'lanczos3' | 'catmullrom' | 'mitchell' | 'triangle' | 'box'

export interface ResizeOptions {
  /** Default lanczos3 (what libvips/sharp use for thumbnails). */
  filter?: FilterName
  /** The part of the source to scale into the output; default the whole source. */
  region?: Rect
}

interface Filter {
  support: number
  f: (x: number) => number
}

const sinc = (x: number) => {
  if (x === 0) return 1
  const px = Math.PI * x
  return Math.sin(px) / px
}
/** Mitchell–Netravali family; (B, C) = (0, 0.5) is Catmull-Rom, (1/3, 1/3) is Mitchell. */
const cubic = (B: number, C: number) => (x: number) => {
  x = Math.abs(x)
  if (x < 1) return ((12 - 9 * B - 6 * C) * x ** 3 + (-18 + 12 * B + 6 * C) * x ** 2 + (6 - 2 * B)) / 6
  if (x < 2) return ((-B - 6 * C) * x ** 3 + (6 * B + 30 * C) * x ** 2 + (-12 * B - 48 * C) * x + (8 * B + 24 * C)) / 6
  return 0
}
const FILTERS: Record<FilterName, Filter> = {
  lanczos3: { support: 3, f: (x) => (Math.abs(x) < 3 ? sinc(x) * sinc(x / 3) : 0) },
  catmullrom: { support: 2, f: cubic(0, 0.5) },
  mitchell: { support: 2, f: cubic(1 / 3, 1 / 3) },
  triangle: { support: 1, f: (x) => Math.max(0, 1 - Math.abs(x)) },
  box: { support: 0.5, f: (x) => (x >= -0.5 && x < 0.5 ? 1 : 0) },
}

/** Per output sample: first source index and normalised weights, stored with a fixed stride. */
interface Weights {
  first: Int32Array
  count: Int32Array
  w: Float32Array
  stride: number
}

function weights(srcLen: number, dstLen: number, start: number, len: number, filter: Filter): Weights {
  const scale = len / dstLen
  const widen = Math.max(1, scale) // downsampling: stretch the kernel over the covered area
  const support = filter.support * widen
  const stride = Math.ceil(support) * 2 + 2
  const first = new Int32Array(dstLen)
  const count = new Int32Array(dstLen)
  const w = new Float32Array(dstLen * stride)
  const tmp = new Float64Array(stride)
  for (let i = 0; i < dstLen; i++) {
    const center = start + (i + 0.5) * scale // in continuous source coordinates
    let lo = Math.max(0, Math.floor(center - support))
    let hi = Math.min(srcLen - 1, Math.ceil(center + support) - 1)
    if (hi < lo) {
      lo = hi = Math.min(srcLen - 1, Math.max(0, Math.floor(center)))
    }
    let sum = 0
    let n = 0
    for (let j = lo; j <= hi && n < stride; j++, n++) {
      const v = filter.f((j + 0.5 - center) / widen)
      tmp[n] = v
      sum += v
    }
    // Trim zero weights at both ends so the inner loops do no useless work.
    let a = 0
    let b = n - 1
    while (a < b && tmp[a] === 0) a++
    while (b > a && tmp[b] === 0) b--
    if (sum === 0) {
      tmp[a] = 1
      sum = 1
      b = a
    } // degenerate (tiny box): nearest sample
    first[i] = lo + a
    count[i] = b - a + 1
    // Renormalise: taps that fell outside the image were dropped (edge = no extrapolation).
    for (let k = a; k <= b; k++) w[i * stride + k - a] = tmp[k]! / sum
  }
  return { first, count, w, stride }
}

/**
 * Scales `region` of `src` (default: all of it) to exactly width×height.
 * Returns a new bitmap; `src` is not modified.
 */
export function resize(src: Bitmap, width: number, height: number, options: ResizeOptions = {}): Bitmap {
  width = Math.round(width)
  height = Math.round(height)
  if (width < 1 || height < 1) throw new RangeError(`resize to ${width}x${height}`)
  const region = options.region ?? { x: 0, y: 0, w: src.width, h: src.height }
  const filter = FILTERS[options.filter ?? 'lanczos3']
  const identityX = width === region.w && Number.isInteger(region.x)
  const identityY = height === region.h && Number.isInteger(region.y)
  if (identityX && identityY) return crop(src, region.x, region.y, width, height)

  const wy = weights(src.height, height, region.y, region.h, filter)
  const wx = identityX ? undefined : weights(src.width, width, region.x, region.w, filter)
  let rowLo = src.height
  let rowHi = -1
  let window = 1
  for (let i = 0; i < height; i++) {
    rowLo = Math.min(rowLo, wy.first[i]!)
    rowHi = Math.max(rowHi, wy.first[i]! + wy.count[i]! - 1)
    window = Math.max(window, wy.count[i]!)
  }
  const opaque = isOpaque(src, rowLo, rowHi)

  // Horizontally filtered rows live in a ring of `window` slots: the rows one output row needs
  // form a window that only moves down, so each source row is filtered once and memory stays
  // at (kernel height × output width) instead of (source height × output width).
  const rowLen = width * 4
  const ring = new Float32Array(window * rowLen) // premultiplied, alpha in 0..255
  const slotRow = new Int32Array(window).fill(-1)
  const rowAt = (row: number): number => {
    const slot = row % window
    if (slotRow[slot] !== row) {
      if (wx) filterRow(src, row, width, wx, ring, slot * rowLen, opaque)
      else copyRow(src, row, region.x, width, ring, slot * rowLen, opaque)
      slotRow[slot] = row
    }
    return slot * rowLen
  }

  const out = new Uint8Array(width * height * 4)
  const acc = new Float64Array(rowLen)
  for (let y = 0; y < height; y++) {
    acc.fill(0)
    const n = wy.count[y]!
    const first = wy.first[y]!
    for (let k = 0; k < n; k++) {
      const kw = wy.w[y * wy.stride + k]!
      const base = rowAt(first + k)
      for (let i = 0; i < rowLen; i++) acc[i]! += ring[base + i]! * kw
    }
    writeRow(acc, out, y * rowLen, opaque)
  }
  return { width, height, data: out }
}

function isOpaque(src: Bitmap, rowLo: number, rowHi: number): boolean {
  const d = src.data
  const end = (rowHi + 1) * src.width * 4
  for (let i = rowLo * src.width * 4 + 3; i < end; i += 4) if (d[i] !== 255) return false
  return true
}

/** One source row, premultiplied, columns x0 … x0+width (no horizontal scaling). */
function copyRow(src: Bitmap, row: number, x0: number, width: number, dst: Float32Array, at: number, opaque: boolean) {
  const d = src.data
  let s = (row * src.width + x0) * 4
  for (let x = 0; x < width; x++, s += 4, at += 4) {
    const a = opaque ? 255 : d[s + 3]!
    const m = a / 255
    dst[at] = d[s]! * m
    dst[at + 1] = d[s + 1]! * m
    dst[at + 2] = d[s + 2]! * m
    dst[at + 3] = a
  }
}

/** One source row filtered horizontally to `width` samples, premultiplied. */
function filterRow(
  src: Bitmap,
  row: number,
  width: number,
  wx: Weights,
  dst: Float32Array,
  at: number,
  opaque: boolean,
) {
  const d = src.data
  const { first, count, w, stride } = wx
  const rowBase = row * src.width * 4
  for (let x = 0; x < width; x++, at += 4) {
    let s = rowBase + first[x]! * 4
    const n = count[x]!
    let wi = x * stride
    let cr = 0,
      cg = 0,
      cb = 0,
      ca = 0
    if (opaque) {
      for (let k = 0; k < n; k++, s += 4) {
        const k1 = w[wi++]!
        cr += d[s]! * k1
        cg += d[s + 1]! * k1
        cb += d[s + 2]! * k1
      }
      ca = 255
    } else {
      for (let k = 0; k < n; k++, s += 4) {
        const a = d[s + 3]!
        const k1 = w[wi++]!
        if (a === 0) continue // premultiplied: a transparent pixel adds nothing to any channel
        const ka = k1 * (a / 255)
        cr += d[s]! * ka
        cg += d[s + 1]! * ka
        cb += d[s + 2]! * ka
        ca += a * k1
      }
    }
    dst[at] = cr
    dst[at + 1] = cg
    dst[at + 2] = cb
    dst[at + 3] = ca
  }
}

/** Accumulated premultiplied row → straight RGBA bytes. */
function writeRow(acc: Float64Array, out: Uint8Array, o: number, opaque: boolean) {
  const n = acc.length
  if (opaque) {
    for (let i = 0; i < n; i += 4, o += 4) {
      out[o] = clamp8(acc[i]!)
      out[o + 1] = clamp8(acc[i + 1]!)
      out[o + 2] = clamp8(acc[i + 2]!)
      out[o + 3] = 255
    }
    return
  }
  for (let i = 0; i < n; i += 4, o += 4) {
    const a = acc[i + 3]!
    if (a < 0.5) continue // fully transparent (out is zero-filled)
    const m = 255 / a // un-premultiply
    out[o] = clamp8(acc[i]! * m)
    out[o + 1] = clamp8(acc[i + 1]! * m)
    out[o + 2] = clamp8(acc[i + 2]! * m)
    out[o + 3] = clamp8(a)
  }
}

const clamp8 = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : (v + 0.5) | 0)

/** Copies the integer rectangle (x, y, w, h), which must lie inside `src`. */
export function crop(src: Bitmap, x: number, y: number, w: number, h: number): Bitmap {
  if (
    !Number.isInteger(x) ||
    !Number.isInteger(y) ||
    !Number.isInteger(w) ||
    !Number.isInteger(h) ||
    x < 0 ||
    y < 0 ||
    w < 1 ||
    h < 1 ||
    x + w > src.width ||
    y + h > src.height
  ) {
    throw new RangeError(`crop ${w}x${h}+${x}+${y} outside ${src.width}x${src.height}`)
  }
  if (x === 0 && y === 0 && w === src.width && h === src.height) return src
  const out = new Uint8Array(w * h * 4)
  const rowLen = w * 4
  for (let r = 0; r < h; r++) {
    const s = ((y + r) * src.width + x) * 4
    out.set(src.data.subarray(s, s + rowLen), r * rowLen)
  }
  return { width: w, height: h, data: out }
}

/**
 * A width×height canvas of `background` with `src` placed with its top-left at (x, y)
 * (parts outside the canvas are clipped). The image is copied as is, not blended: its own
 * transparent pixels stay transparent, as padding only adds area.
 */
export function extend(src: Bitmap, width: number, height: number, x: number, y: number, background: Rgba): Bitmap {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`extend to ${width}x${height}`)
  }
  x = Math.round(x)
  y = Math.round(y)
  const out = new Uint8Array(width * height * 4)
  if (background.r | background.g | background.b | background.a) {
    // One 32-bit fill; packing through a byte view keeps it independent of endianness.
    const px = new Uint32Array(new Uint8Array([background.r, background.g, background.b, background.a]).buffer)[0]!
    new Uint32Array(out.buffer).fill(px)
  }
  const x0 = Math.max(0, x)
  const x1 = Math.min(width, x + src.width)
  const y0 = Math.max(0, y)
  const y1 = Math.min(height, y + src.height)
  if (x1 <= x0 || y1 <= y0) return { width, height, data: out }
  for (let r = y0; r < y1; r++) {
    const s = ((r - y) * src.width + (x0 - x)) * 4
    out.set(src.data.subarray(s, s + (x1 - x0) * 4), (r * width + x0) * 4)
  }
  return { width, height, data: out }
}
