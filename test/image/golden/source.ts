/**
 * The golden-image source: a 160×120 picture generated in code (no file to drift), chosen so that
 * every visual transformation shows something a reviewer can check by eye.
 *
 *  - background: smooth gradients (red grows to the right, green downwards, blue to the left), so
 *    colour effects, resampling and gravity are all visible;
 *  - a white "F" in the top-left corner: its orientation shows flips and rotation direction at once
 *    (a clockwise a_90 puts it top-right, lying on its back);
 *  - a green disc (top-right) and a yellow square (centre-bottom): round and straight edges;
 *  - a black/white 2 px checkerboard strip (bottom-left): blur, sharpen and pixelate act on it;
 *  - a fully transparent rectangle in the bottom-right corner and an alpha ramp left of it:
 *    `b_` fills them, `o_` halves what is opaque, PNG output keeps them.
 *
 * Everything is integer arithmetic on fixed coordinates: the bytes are identical on every run.
 */
import { encode } from '../../../src/image/codecs.ts'
import type { Bitmap } from '../../../src/image/types.ts'

export const SOURCE_WIDTH = 160
export const SOURCE_HEIGHT = 120

/** Where the features are (used by the sanity checks in golden.test.ts). */
export const FEATURES = {
  letterF: { x: 12, y: 10, w: 29, h: 41 },
  disc: { cx: 116, cy: 38, r: 20 },
  square: { x: 62, y: 68, w: 26, h: 26 },
  checker: { x: 8, y: 96, w: 50, h: 16 },
  transparent: { x: 124, y: 88, w: 36, h: 32 },
  alphaRamp: { x: 96, y: 88, w: 28, h: 32 },
} as const

type Rgba = [number, number, number, number]

function inside(r: { x: number; y: number; w: number; h: number }, x: number, y: number): boolean {
  return x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h
}

function pixel(x: number, y: number): Rgba {
  const { letterF: f, disc, square, checker, transparent, alphaRamp } = FEATURES
  if (inside(transparent, x, y)) return [0, 0, 0, 0]
  // The "F": a vertical bar, a top bar and a shorter middle bar.
  const inF =
    (x >= f.x && x < f.x + 8 && y >= f.y && y < f.y + f.h) ||
    (x >= f.x && x < f.x + f.w && y >= f.y && y < f.y + 8) ||
    (x >= f.x && x < f.x + 21 && y >= f.y + 17 && y < f.y + 24)
  if (inF) return [255, 255, 255, 255]
  const dx = x + 0.5 - disc.cx
  const dy = y + 0.5 - disc.cy
  if (dx * dx + dy * dy <= disc.r * disc.r) return [20, 150, 70, 255]
  if (inside(square, x, y)) return [250, 210, 20, 255]
  if (inside(checker, x, y)) {
    const on = ((Math.floor((x - checker.x) / 2) + Math.floor((y - checker.y) / 2)) & 1) === 0
    return on ? [0, 0, 0, 255] : [255, 255, 255, 255]
  }
  const r = Math.round(40 + (200 * x) / (SOURCE_WIDTH - 1))
  const g = Math.round(50 + (170 * y) / (SOURCE_HEIGHT - 1))
  const b = Math.round(210 - (170 * x) / (SOURCE_WIDTH - 1))
  if (inside(alphaRamp, x, y)) {
    // Opaque at its left edge, almost clear at its right edge.
    const a = Math.round(255 - (247 * (x - alphaRamp.x)) / (alphaRamp.w - 1))
    return [r, g, b, a]
  }
  return [r, g, b, 255]
}

/** The source as straight RGBA. */
export function sourceBitmap(): Bitmap {
  const data = new Uint8Array(SOURCE_WIDTH * SOURCE_HEIGHT * 4)
  for (let y = 0; y < SOURCE_HEIGHT; y++) {
    for (let x = 0; x < SOURCE_WIDTH; x++) data.set(pixel(x, y), (y * SOURCE_WIDTH + x) * 4)
  }
  return { width: SOURCE_WIDTH, height: SOURCE_HEIGHT, data }
}

let cached: Promise<Uint8Array> | undefined

/** The source as PNG bytes (lossless, with alpha), encoded once per process. */
export function sourcePng(): Promise<Uint8Array> {
  cached ??= encode(sourceBitmap(), 'png', { quality: 100 })
  return cached
}
