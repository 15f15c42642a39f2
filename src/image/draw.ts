/**
 * Shape and finishing steps: rounded corners (`r_`), borders (`bo_`), opacity (`o_`).
 * Edges are anti-aliased by pixel coverage, so circles from `r_max` look smooth at avatar sizes.
 */
import type { Rgba } from '../url/types.ts'
import type { Bitmap, Size } from './types.ts'

/** Elliptical radii per corner, in pixels: top-left, top-right, bottom-right, bottom-left. */
export interface CornerRadii {
  tl: [number, number]
  tr: [number, number]
  br: [number, number]
  bl: [number, number]
}

/**
 * Radii for `r_max` (an ellipse touching all four sides: a circle on a square) or pixel radii,
 * scaled down together when adjacent corners would overlap (the CSS rule).
 */
export function cornerRadii(size: Size, radius: 'max' | [number, number, number, number]): CornerRadii {
  const { width: w, height: h } = size
  if (radius === 'max') return { tl: [w / 2, h / 2], tr: [w / 2, h / 2], br: [w / 2, h / 2], bl: [w / 2, h / 2] }
  const [tl, tr, br, bl] = radius.map((r) => Math.max(0, r)) as [number, number, number, number]
  const f = Math.min(1, w / (tl + tr || 1), w / (bl + br || 1), h / (tl + bl || 1), h / (tr + br || 1))
  return { tl: [tl * f, tl * f], tr: [tr * f, tr * f], br: [br * f, br * f], bl: [bl * f, bl * f] }
}

/**
 * Coverage (0..1) of pixel (x, y) by a rounded rectangle [0,w)×[0,h) with these radii.
 * First-order distance to the corner ellipse, ±0.5 px of smoothing.
 */
function coverage(x: number, y: number, w: number, h: number, r: CornerRadii): number {
  const px = x + 0.5
  const py = y + 0.5
  if (px < 0 || py < 0 || px > w || py > h) return 0
  let rx: number, ry: number, cx: number, cy: number
  if (px < r.tl[0] && py < r.tl[1]) {
    ;[rx, ry] = r.tl
    cx = rx
    cy = ry
  } else if (px > w - r.tr[0] && py < r.tr[1]) {
    ;[rx, ry] = r.tr
    cx = w - rx
    cy = ry
  } else if (px > w - r.br[0] && py > h - r.br[1]) {
    ;[rx, ry] = r.br
    cx = w - rx
    cy = h - ry
  } else if (px < r.bl[0] && py > h - r.bl[1]) {
    ;[rx, ry] = r.bl
    cx = rx
    cy = h - ry
  } else {
    // Straight edges: partial coverage only for the outermost half pixel (fractional sizes).
    return Math.min(1, px + 0.5, py + 0.5, w - px + 0.5, h - py + 0.5)
  }
  if (rx <= 0 || ry <= 0) return 1
  const dx = px - cx
  const dy = py - cy
  const f = (dx * dx) / (rx * rx) + (dy * dy) / (ry * ry) - 1
  const gx = (2 * dx) / (rx * rx)
  const gy = (2 * dy) / (ry * ry)
  const g = Math.sqrt(gx * gx + gy * gy)
  const dist = g > 0 ? -f / g : Math.min(rx, ry) // positive inside
  return Math.max(0, Math.min(1, dist + 0.5))
}

/** Makes everything outside the rounded rectangle transparent (alpha × coverage). */
export function roundCorners(src: Bitmap, radii: CornerRadii): Bitmap {
  const { width: w, height: h } = src
  const out = src.data.slice()
  // Only corner boxes can change; everything else is fully covered.
  const boxes: [number, number, number, number][] = [
    [0, 0, Math.ceil(radii.tl[0]), Math.ceil(radii.tl[1])],
    [w - Math.ceil(radii.tr[0]), 0, w, Math.ceil(radii.tr[1])],
    [w - Math.ceil(radii.br[0]), h - Math.ceil(radii.br[1]), w, h],
    [0, h - Math.ceil(radii.bl[1]), Math.ceil(radii.bl[0]), h],
  ]
  for (const [x0, y0, x1, y1] of boxes) {
    for (let y = Math.max(0, y0); y < Math.min(h, y1); y++) {
      for (let x = Math.max(0, x0); x < Math.min(w, x1); x++) {
        const i = (y * w + x) * 4 + 3
        out[i] = Math.round(out[i]! * coverage(x, y, w, h, radii))
      }
    }
  }
  return { width: w, height: h, data: out }
}

/**
 * Adds a solid border of `width` px around the image (the canvas grows by 2×width [REC]).
 * With rounded corners the border follows the curve: it is the ring between the image's shape
 * and the same shape grown by `width`. The image is added to the ring as a disjoint area, so
 * anti-aliased edges meet without a seam.
 */
export function addBorder(src: Bitmap, width: number, color: Rgba, radii?: CornerRadii): Bitmap {
  const b = Math.max(0, Math.round(width))
  if (b === 0) return src
  const { width: iw, height: ih } = src
  const ow = iw + 2 * b
  const oh = ih + 2 * b
  const inner = radii ?? { tl: [0, 0], tr: [0, 0], br: [0, 0], bl: [0, 0] }
  const grow = (r: [number, number]): [number, number] => (r[0] > 0 && r[1] > 0 ? [r[0] + b, r[1] + b] : [0, 0])
  const outer: CornerRadii = { tl: grow(inner.tl), tr: grow(inner.tr), br: grow(inner.br), bl: grow(inner.bl) }
  const out = new Uint8Array(ow * oh * 4)
  const s = src.data
  const ca = color.a / 255
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const o = (y * ow + x) * 4
      const ix = x - b
      const iy = y - b
      const inside = ix >= 0 && iy >= 0 && ix < iw && iy < ih
      const ring = Math.max(0, coverage(x, y, ow, oh, outer) - (inside ? coverage(ix, iy, iw, ih, inner) : 0)) * ca
      let pr = color.r * ring
      let pg = color.g * ring
      let pb = color.b * ring
      let pa = ring
      if (inside) {
        const i = (iy * iw + ix) * 4
        const a = s[i + 3]! / 255
        pr += s[i]! * a
        pg += s[i + 1]! * a
        pb += s[i + 2]! * a
        pa += a
      }
      if (pa <= 0) continue
      const alpha = Math.min(1, pa)
      out[o] = Math.round(Math.min(255, pr / pa))
      out[o + 1] = Math.round(Math.min(255, pg / pa))
      out[o + 2] = Math.round(Math.min(255, pb / pa))
      out[o + 3] = Math.round(alpha * 255)
    }
  }
  return { width: ow, height: oh, data: out }
}

/** `o_`: multiplies alpha by percent/100. */
export function applyOpacity(src: Bitmap, percent: number): Bitmap {
  const k = Math.max(0, Math.min(100, percent)) / 100
  const out = src.data.slice()
  for (let i = 3; i < out.length; i += 4) out[i] = Math.round(out[i]! * k)
  return { width: src.width, height: src.height, data: out }
}
