/**
 * Lossless pixel moves: quarter turns, flips, EXIF orientation. Exact copies (no resampling),
 * so `a_90` or a rotated phone photo loses nothing.
 */
import type { Bitmap, Rect, Size } from './types.ts'

export type QuarterTurn = 0 | 90 | 180 | 270

/** Rotates clockwise by a multiple of 90°. */
export function rotateQuarter(src: Bitmap, turn: QuarterTurn): Bitmap {
  if (turn === 0) return src
  const { width: w, height: h } = src
  const s32 = u32(src.data)
  const ow = turn === 180 ? w : h
  const oh = turn === 180 ? h : w
  const out = new Uint8Array(w * h * 4)
  const o32 = u32(out)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = s32[y * w + x]!
      // Destination of source (x, y) for a clockwise turn.
      if (turn === 90) o32[x * ow + (h - 1 - y)] = p
      else if (turn === 180) o32[(h - 1 - y) * ow + (w - 1 - x)] = p
      else o32[(w - 1 - x) * ow + y] = p
    }
  }
  return { width: ow, height: oh, data: out }
}

/** Mirrors left↔right (`hflip`) or top↔bottom (`vflip`). */
export function flip(src: Bitmap, direction: 'h' | 'v'): Bitmap {
  const { width: w, height: h } = src
  const s32 = u32(src.data)
  const out = new Uint8Array(w * h * 4)
  const o32 = u32(out)
  for (let y = 0; y < h; y++) {
    if (direction === 'v') {
      o32.set(s32.subarray(y * w, (y + 1) * w), (h - 1 - y) * w)
      continue
    }
    for (let x = 0; x < w; x++) o32[y * w + (w - 1 - x)] = s32[y * w + x]!
  }
  return { width: w, height: h, data: out }
}

/** Turns stored pixels upright according to EXIF orientation 1–8. */
export function applyOrientation(src: Bitmap, orientation: number): Bitmap {
  switch (orientation) {
    case 2:
      return flip(src, 'h')
    case 3:
      return rotateQuarter(src, 180)
    case 4:
      return flip(src, 'v')
    case 5:
      return flip(rotateQuarter(src, 90), 'h') // transpose
    case 6:
      return rotateQuarter(src, 90)
    case 7:
      return flip(rotateQuarter(src, 270), 'h') // transverse
    case 8:
      return rotateQuarter(src, 270)
    default:
      return src
  }
}

/** The displayed size of a stored size under an EXIF orientation. */
export function orientedSize(size: Size, orientation: number): Size {
  return orientation >= 5 && orientation <= 8 ? { width: size.height, height: size.width } : size
}

/** Where a rectangle of an image of `size` lands after a clockwise quarter turn. */
export function rotateRectQuarter(r: Rect, size: Size, turn: QuarterTurn): Rect {
  switch (turn) {
    case 0:
      return r
    case 90:
      return { x: size.height - r.y - r.h, y: r.x, w: r.h, h: r.w }
    case 180:
      return { x: size.width - r.x - r.w, y: size.height - r.y - r.h, w: r.w, h: r.h }
    case 270:
      return { x: r.y, y: size.width - r.x - r.w, w: r.h, h: r.w }
  }
}

/** Where a rectangle lands after a flip. */
export function flipRect(r: Rect, size: Size, direction: 'h' | 'v'): Rect {
  return direction === 'h' ? { ...r, x: size.width - r.x - r.w } : { ...r, y: size.height - r.y - r.h }
}

/** 32-bit view for whole-pixel copies (pixel bytes move together, so endianness is irrelevant). */
function u32(d: Uint8Array): Uint32Array {
  if (d.byteOffset % 4 === 0) return new Uint32Array(d.buffer, d.byteOffset, d.byteLength / 4)
  return new Uint32Array(d.slice().buffer)
}

/** Output size of a rotation by `degrees` (clockwise): the bounding box of the turned image. */
export function rotatedSize(size: Size, degrees: number): Size {
  const t = (degrees * Math.PI) / 180
  const c = Math.abs(Math.cos(t))
  const s = Math.abs(Math.sin(t))
  // -1e-6: 30° of a 100×100 must give 137, not 138, from float noise.
  return {
    width: Math.max(1, Math.ceil(size.width * c + size.height * s - 1e-6)),
    height: Math.max(1, Math.ceil(size.width * s + size.height * c - 1e-6)),
  }
}

/**
 * Rotates clockwise by any angle; the canvas grows to the bounding box and the new corners are
 * transparent (`b_` or a JPEG background fills them later). Bilinear sampling on premultiplied
 * colour, treating the outside as transparent, gives anti-aliased edges for free.
 * Quarter turns should go through `rotateQuarter` (exact); this is for the rest.
 */
export function rotateArbitrary(src: Bitmap, degrees: number): Bitmap {
  const { width: sw, height: sh } = src
  const { width: ow, height: oh } = rotatedSize(src, degrees)
  const t = (degrees * Math.PI) / 180
  const cos = Math.cos(t)
  const sin = Math.sin(t)
  const d = src.data
  const out = new Uint8Array(ow * oh * 4)
  const scx = sw / 2
  const scy = sh / 2
  const ocx = ow / 2
  const ocy = oh / 2
  const acc = new Float64Array(4)
  const tap = (x: number, y: number, w: number) => {
    if (x < 0 || y < 0 || x >= sw || y >= sh || w === 0) return
    const i = (y * sw + x) * 4
    const a = d[i + 3]! * w
    acc[0]! += d[i]! * a
    acc[1]! += d[i + 1]! * a
    acc[2]! += d[i + 2]! * a
    acc[3]! += a
  }
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      // Inverse mapping: rotate the output pixel centre back (counter-clockwise) into the source.
      const dx = x + 0.5 - ocx
      const dy = y + 0.5 - ocy
      const sx = dx * cos + dy * sin + scx - 0.5
      const sy = -dx * sin + dy * cos + scy - 0.5
      const x0 = Math.floor(sx)
      const y0 = Math.floor(sy)
      if (x0 < -1 || y0 < -1 || x0 >= sw || y0 >= sh) continue
      const fx = sx - x0
      const fy = sy - y0
      acc.fill(0)
      tap(x0, y0, (1 - fx) * (1 - fy))
      tap(x0 + 1, y0, fx * (1 - fy))
      tap(x0, y0 + 1, (1 - fx) * fy)
      tap(x0 + 1, y0 + 1, fx * fy)
      const a = acc[3]!
      if (a <= 0) continue
      const o = (y * ow + x) * 4
      out[o] = Math.round(acc[0]! / a)
      out[o + 1] = Math.round(acc[1]! / a)
      out[o + 2] = Math.round(acc[2]! / a)
      out[o + 3] = Math.round(a)
    }
  }
  return { width: ow, height: oh, data: out }
}

/** Bounding box of a rectangle after `rotateArbitrary` of an image of `size`. */
export function rotateRect(r: Rect, size: Size, degrees: number): Rect {
  const out = rotatedSize(size, degrees)
  const t = (degrees * Math.PI) / 180
  const cos = Math.cos(t)
  const sin = Math.sin(t)
  const xs: number[] = []
  const ys: number[] = []
  for (const [px, py] of [
    [r.x, r.y],
    [r.x + r.w, r.y],
    [r.x, r.y + r.h],
    [r.x + r.w, r.y + r.h],
  ] as const) {
    const dx = px - size.width / 2
    const dy = py - size.height / 2
    xs.push(dx * cos - dy * sin + out.width / 2)
    ys.push(dx * sin + dy * cos + out.height / 2)
  }
  const x = Math.min(...xs)
  const y = Math.min(...ys)
  return { x, y, w: Math.max(...xs) - x, h: Math.max(...ys) - y }
}
