/**
 * `e_` effects on straight RGBA (ranges and defaults: docs/compatibility.md, Effects). Colour
 * effects change RGB and keep alpha.
 *
 * Cloudinary renders with ImageMagick; where its exact formula is not documented we follow the
 * ImageMagick operator it most likely maps to (our choice):
 *   brightness / saturation → `-modulate` (HSL lightness / saturation × (100 + level)%)
 *   contrast                → `-sigmoidal-contrast` (strength |level|/10, midpoint 50 %)
 *   blur                    → Gaussian, σ = level / 20 px (e_blur:100 → σ 5, :2000 → σ 100)
 *   sharpen                 → unsharp mask, σ 1 px, amount level / 100
 *   pixelate                → square cells of `level` px (0 = automatic: 1/20 of the short side)
 *   vignette                → edges darkened towards black by up to level %
 *   blackwhite              → luma threshold at level % (default 50)
 *   sepia                   → the classic sepia matrix, mixed in at level %
 */
import type { Effect } from '../url/types.ts'
import type { Bitmap, Rect } from './types.ts'

/** Applies one effect. `faces` (current pixels) are the regions for `blur_faces`/`pixelate_faces`. */
export function applyEffect(src: Bitmap, effect: Effect, faces: readonly Rect[]): Bitmap {
  const level = effect.level
  switch (effect.name) {
    case 'grayscale':
      return mapRgb(src, (r, g, b) => {
        const y = luma(r, g, b)
        return [y, y, y]
      })
    case 'negate':
      return mapRgb(src, (r, g, b) => [255 - r, 255 - g, 255 - b])
    case 'sepia':
      return sepia(src, level)
    case 'blackwhite': {
      const t = (Math.max(0, Math.min(100, level)) / 100) * 255
      return mapRgb(src, (r, g, b) => (luma(r, g, b) >= t ? [255, 255, 255] : [0, 0, 0]))
    }
    case 'brightness':
      return modulate(src, 1 + level / 100, 1)
    case 'saturation':
      return modulate(src, 1, 1 + level / 100)
    case 'contrast':
      return contrast(src, level)
    case 'blur':
      return gaussianBlur(src, blurSigma(level))
    case 'sharpen':
      return sharpen(src, level / 100)
    case 'pixelate':
      return pixelate(src, level > 0 ? level : autoCell(src.width, src.height))
    case 'vignette':
      return vignette(src, level)
    case 'blur_faces':
      return inRegions(src, faces, blurFacesMargin(level), (b) => gaussianBlur(b, blurSigma(level)))
    case 'pixelate_faces':
      return inRegions(src, faces, 0, (b) =>
        pixelate(b, level > 0 ? level : Math.max(2, Math.round(Math.min(b.width, b.height) / 8))),
      )
  }
}

export const blurSigma = (level: number) => Math.max(0.5, level / 20)
/** Context kept around each face box for `blur_faces`, so the blur near the box edge sees real neighbours. */
export const blurFacesMargin = (level: number) => 3 * blurSigma(level)
/** Up to this σ the blur convolves with the exact kernel (cost grows with σ); above, three box blurs (cost flat). */
export const EXACT_BLUR_MAX_SIGMA = 3
const autoCell = (w: number, h: number) => Math.max(2, Math.round(Math.min(w, h) / 20))

/** Rec. 601 luma (what ImageMagick's `-colorspace gray` approximates). */
const luma = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b
const c8 = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v))

function mapRgb(src: Bitmap, f: (r: number, g: number, b: number) => [number, number, number]): Bitmap {
  const d = src.data
  const out = new Uint8Array(d.length)
  for (let i = 0; i < d.length; i += 4) {
    const [r, g, b] = f(d[i]!, d[i + 1]!, d[i + 2]!)
    out[i] = c8(r)
    out[i + 1] = c8(g)
    out[i + 2] = c8(b)
    out[i + 3] = d[i + 3]!
  }
  return { width: src.width, height: src.height, data: out }
}

/**
 * ImageMagick's `-sepia-tone <level>%` (Cloudinary's range 1–100, default 80, matches it): every
 * pixel becomes a brown tone of its own intensity, so R ≥ G ≥ B whatever the input colour; the level
 * is the threshold that decides how light and how warm the result is.
 */
function sepia(src: Bitmap, level: number): Bitmap {
  const threshold = (Math.max(0, Math.min(100, level)) / 100) * 255
  const floor = threshold / 7
  return mapRgb(src, (r, g, b) => {
    const intensity = luma(r, g, b)
    const red = intensity > threshold ? 255 : intensity + 255 - threshold
    const green = intensity > (7 * threshold) / 6 ? 255 : intensity + 255 - (7 * threshold) / 6
    const blue = intensity < threshold / 6 ? 0 : intensity - threshold / 6
    return [red, Math.max(green, floor), Math.max(blue, floor)]
  })
}

/** HSL lightness and saturation multipliers (ImageMagick `-modulate`). */
function modulate(src: Bitmap, lightness: number, saturation: number): Bitmap {
  return mapRgb(src, (r, g, b) => {
    let [h, s, l] = rgbToHsl(r / 255, g / 255, b / 255)
    l = Math.min(1, Math.max(0, l * lightness))
    s = Math.min(1, Math.max(0, s * saturation))
    const [R, G, B] = hslToRgb(h, s, l)
    return [R * 255, G * 255, B * 255]
  })
}

function rgbToHsl(r: number, g: number, b: number): [number, number, number] {
  const max = Math.max(r, g, b)
  const min = Math.min(r, g, b)
  const l = (max + min) / 2
  if (max === min) return [0, 0, l]
  const d = max - min
  const s = l > 0.5 ? d / (2 - max - min) : d / (max + min)
  const h = max === r ? (g - b) / d + (g < b ? 6 : 0) : max === g ? (b - r) / d + 2 : (r - g) / d + 4
  return [h / 6, s, l]
}

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  if (s === 0) return [l, l, l]
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s
  const p = 2 * l - q
  const hue = (t: number) => {
    if (t < 0) t += 1
    if (t > 1) t -= 1
    if (t < 1 / 6) return p + (q - p) * 6 * t
    if (t < 1 / 2) return q
    if (t < 2 / 3) return p + (q - p) * (2 / 3 - t) * 6
    return p
  }
  return [hue(h + 1 / 3), hue(h), hue(h - 1 / 3)]
}

/** Sigmoidal contrast around mid-grey; a negative level applies the inverse curve. */
function contrast(src: Bitmap, level: number): Bitmap {
  const beta = Math.abs(level) / 10
  if (beta === 0) return src
  const sig = (x: number) => 1 / (1 + Math.exp(beta * (0.5 - x)))
  const lo = sig(0)
  const hi = sig(1)
  const lut = new Float64Array(256)
  for (let v = 0; v < 256; v++) {
    const u = v / 255
    if (level > 0) lut[v] = ((sig(u) - lo) / (hi - lo)) * 255
    else {
      // inverse of the normalised sigmoid
      const y = lo + u * (hi - lo)
      lut[v] = (0.5 - Math.log(1 / y - 1) / beta) * 255
    }
  }
  return mapRgb(src, (r, g, b) => [lut[r]!, lut[g]!, lut[b]!])
}

function vignette(src: Bitmap, level: number): Bitmap {
  const k = Math.max(0, Math.min(100, level)) / 100
  const { width: w, height: h } = src
  const d = src.data
  const out = new Uint8Array(d.length)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // normalised elliptical distance from the centre: 0 centre, 1 at the middle of each edge
      const nx = (x + 0.5 - w / 2) / (w / 2)
      const ny = (y + 0.5 - h / 2) / (h / 2)
      const r = Math.sqrt(nx * nx + ny * ny) / Math.SQRT2 // 1 at the corners
      const t = Math.min(1, Math.max(0, (r - 0.3) / 0.7))
      const f = 1 - k * t * t * (3 - 2 * t) // smoothstep falloff
      const i = (y * w + x) * 4
      out[i] = c8(d[i]! * f)
      out[i + 1] = c8(d[i + 1]! * f)
      out[i + 2] = c8(d[i + 2]! * f)
      out[i + 3] = d[i + 3]!
    }
  }
  return { width: w, height: h, data: out }
}

/** Averages square cells (premultiplied, so transparent pixels do not darken a cell). */
export function pixelate(src: Bitmap, cell: number): Bitmap {
  const n = Math.max(1, Math.round(cell))
  const { width: w, height: h } = src
  const d = src.data
  const out = new Uint8Array(d.length)
  for (let cy = 0; cy < h; cy += n) {
    for (let cx = 0; cx < w; cx += n) {
      const x1 = Math.min(w, cx + n)
      const y1 = Math.min(h, cy + n)
      let r = 0,
        g = 0,
        b = 0,
        a = 0
      for (let y = cy; y < y1; y++) {
        for (let x = cx; x < x1; x++) {
          const i = (y * w + x) * 4
          const pa = d[i + 3]!
          r += d[i]! * pa
          g += d[i + 1]! * pa
          b += d[i + 2]! * pa
          a += pa
        }
      }
      const count = (x1 - cx) * (y1 - cy)
      const R = a > 0 ? r / a : 0
      const G = a > 0 ? g / a : 0
      const B = a > 0 ? b / a : 0
      const A = a / count
      for (let y = cy; y < y1; y++) {
        for (let x = cx; x < x1; x++) {
          const i = (y * w + x) * 4
          out[i] = c8(R)
          out[i + 1] = c8(G)
          out[i + 2] = c8(B)
          out[i + 3] = c8(A)
        }
      }
    }
  }
  return { width: w, height: h, data: out }
}

/**
 * Gaussian blur on premultiplied colour, edges extended. Small σ uses the exact kernel; large σ
 * three box blurs (running sums: cost independent of σ, within a few % of a true Gaussian).
 */
export function gaussianBlur(src: Bitmap, sigma: number): Bitmap {
  const { width: w, height: h } = src
  const n = w * h
  const buf = new Float32Array(n * 4)
  const d = src.data
  for (let i = 0; i < n * 4; i += 4) {
    const a = d[i + 3]! / 255
    buf[i] = d[i]! * a
    buf[i + 1] = d[i + 1]! * a
    buf[i + 2] = d[i + 2]! * a
    buf[i + 3] = d[i + 3]!
  }
  let cur = buf
  let tmp = new Float32Array(n * 4)
  const passes: ((
    s: Float32Array,
    t: Float32Array,
    len: number,
    count: number,
    step: number,
    lineStep: number,
  ) => void)[] = []
  if (sigma <= EXACT_BLUR_MAX_SIGMA) {
    const k = gaussKernel(sigma)
    passes.push((s, t, len, count, step, lineStep) => convolveLines(s, t, len, count, step, lineStep, k))
  } else {
    for (const size of boxSizes(sigma, 3)) {
      const r = (size - 1) / 2
      passes.push((s, t, len, count, step, lineStep) => boxLines(s, t, len, count, step, lineStep, r))
    }
  }
  for (const pass of passes) {
    pass(cur, tmp, w, h, 4, w * 4) // rows
    ;[cur, tmp] = [tmp, cur]
    pass(cur, tmp, h, w, w * 4, 4) // columns
    ;[cur, tmp] = [tmp, cur]
  }
  const out = new Uint8Array(n * 4)
  for (let i = 0; i < n * 4; i += 4) {
    const a = cur[i + 3]!
    if (a < 0.5) continue
    const m = 255 / a
    out[i] = c8(cur[i]! * m)
    out[i + 1] = c8(cur[i + 1]! * m)
    out[i + 2] = c8(cur[i + 2]! * m)
    out[i + 3] = c8(a)
  }
  return { width: w, height: h, data: out }
}

function gaussKernel(sigma: number): Float64Array {
  const r = Math.ceil(sigma * 3)
  const k = new Float64Array(2 * r + 1)
  let sum = 0
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma))
  for (let i = 0; i < k.length; i++) k[i]! /= sum
  return k
}

/** Odd box widths whose three-fold convolution approximates a Gaussian of σ. */
function boxSizes(sigma: number, n: number): number[] {
  const ideal = Math.sqrt((12 * sigma * sigma) / n + 1)
  let wl = Math.floor(ideal)
  if (wl % 2 === 0) wl--
  const wu = wl + 2
  const m = Math.round((12 * sigma * sigma - n * wl * wl - 4 * n * wl - 3 * n) / (-4 * wl - 4))
  return Array.from({ length: n }, (_, i) => (i < m ? wl : wu))
}

/** 1-D convolution along `count` lines of `len` samples (4 channels each), edges clamped. */
function convolveLines(
  s: Float32Array,
  t: Float32Array,
  len: number,
  count: number,
  step: number,
  lineStep: number,
  k: Float64Array,
) {
  const r = (k.length - 1) / 2
  for (let line = 0; line < count; line++) {
    const base = line * lineStep
    for (let i = 0; i < len; i++) {
      let a0 = 0,
        a1 = 0,
        a2 = 0,
        a3 = 0
      for (let j = -r; j <= r; j++) {
        const p = base + Math.min(len - 1, Math.max(0, i + j)) * step
        const kw = k[j + r]!
        a0 += s[p]! * kw
        a1 += s[p + 1]! * kw
        a2 += s[p + 2]! * kw
        a3 += s[p + 3]! * kw
      }
      const o = base + i * step
      t[o] = a0
      t[o + 1] = a1
      t[o + 2] = a2
      t[o + 3] = a3
    }
  }
}

/** Box blur of radius r along lines with a running sum, edges clamped. */
function boxLines(
  s: Float32Array,
  t: Float32Array,
  len: number,
  count: number,
  step: number,
  lineStep: number,
  r: number,
) {
  const inv = 1 / (2 * r + 1)
  const at = (base: number, i: number) => base + Math.min(len - 1, Math.max(0, i)) * step
  for (let line = 0; line < count; line++) {
    const base = line * lineStep
    let a0 = 0,
      a1 = 0,
      a2 = 0,
      a3 = 0
    for (let j = -r; j <= r; j++) {
      const p = at(base, j)
      a0 += s[p]!
      a1 += s[p + 1]!
      a2 += s[p + 2]!
      a3 += s[p + 3]!
    }
    for (let i = 0; i < len; i++) {
      const o = base + i * step
      t[o] = a0 * inv
      t[o + 1] = a1 * inv
      t[o + 2] = a2 * inv
      t[o + 3] = a3 * inv
      const add = at(base, i + r + 1)
      const sub = at(base, i - r)
      a0 += s[add]! - s[sub]!
      a1 += s[add + 1]! - s[sub + 1]!
      a2 += s[add + 2]! - s[sub + 2]!
      a3 += s[add + 3]! - s[sub + 3]!
    }
  }
}

/** Unsharp mask: original + amount × (original − blurred), on RGB. */
function sharpen(src: Bitmap, amount: number): Bitmap {
  const blurred = gaussianBlur(src, 1)
  const d = src.data
  const b = blurred.data
  const out = new Uint8Array(d.length)
  for (let i = 0; i < d.length; i += 4) {
    out[i] = c8(d[i]! + amount * (d[i]! - b[i]!))
    out[i + 1] = c8(d[i + 1]! + amount * (d[i + 1]! - b[i + 1]!))
    out[i + 2] = c8(d[i + 2]! + amount * (d[i + 2]! - b[i + 2]!))
    out[i + 3] = d[i + 3]!
  }
  return { width: src.width, height: src.height, data: out }
}

/**
 * Applies `f` inside each rectangle only. Each region is processed with a `margin` of context
 * around it (a blur near the box edge then still sees real neighbours) and pasted back clipped
 * to the box itself.
 */
function inRegions(src: Bitmap, regions: readonly Rect[], margin: number, f: (b: Bitmap) => Bitmap): Bitmap {
  if (regions.length === 0) return src
  const out: Bitmap = { width: src.width, height: src.height, data: src.data.slice() }
  for (const r of regions) {
    const x0 = Math.max(0, Math.floor(r.x))
    const y0 = Math.max(0, Math.floor(r.y))
    const x1 = Math.min(src.width, Math.ceil(r.x + r.w))
    const y1 = Math.min(src.height, Math.ceil(r.y + r.h))
    if (x1 <= x0 || y1 <= y0) continue
    const m = Math.ceil(margin)
    const cx0 = Math.max(0, x0 - m)
    const cy0 = Math.max(0, y0 - m)
    const cx1 = Math.min(src.width, x1 + m)
    const cy1 = Math.min(src.height, y1 + m)
    const cw = cx1 - cx0
    const region = new Uint8Array(cw * (cy1 - cy0) * 4)
    for (let y = cy0; y < cy1; y++)
      region.set(out.data.subarray((y * src.width + cx0) * 4, (y * src.width + cx1) * 4), (y - cy0) * cw * 4)
    const done = f({ width: cw, height: cy1 - cy0, data: region })
    for (let y = y0; y < y1; y++) {
      const s = ((y - cy0) * cw + (x0 - cx0)) * 4
      out.data.set(done.data.subarray(s, s + (x1 - x0) * 4), (y * src.width + x0) * 4)
    }
  }
  return out
}
