/** Small synthetic images and component builders for the image tests (no files on disk). */
import type { Component, Length, Rgba } from '../../src/url/types.ts'
import type { Bitmap } from '../../src/image/types.ts'

export const px = (value: number): Length => ({ kind: 'px', value })
export const rel = (value: number): Length => ({ kind: 'rel', value })
export const size = (b: { width: number; height: number }) => `${b.width}x${b.height}`

export const RED: Rgba = { r: 255, g: 0, b: 0, a: 255 }
export const GREEN: Rgba = { r: 0, g: 255, b: 0, a: 255 }
export const BLUE: Rgba = { r: 0, g: 0, b: 255, a: 255 }
export const YELLOW: Rgba = { r: 255, g: 255, b: 0, a: 255 }
export const WHITE: Rgba = { r: 255, g: 255, b: 255, a: 255 }
export const BLACK: Rgba = { r: 0, g: 0, b: 0, a: 255 }
export const CLEAR: Rgba = { r: 0, g: 0, b: 0, a: 0 }

export function image(width: number, height: number, colour: (x: number, y: number) => Rgba): Bitmap {
  const data = new Uint8Array(width * height * 4)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = colour(x, y)
      data.set([c.r, c.g, c.b, c.a], (y * width + x) * 4)
    }
  }
  return { width, height, data }
}

export const solid = (width: number, height: number, c: Rgba) => image(width, height, () => c)

/** Top-left red, top-right green, bottom-left blue, bottom-right yellow. */
export const quadrants = (width: number, height: number) =>
  image(width, height, (x, y) => (y < height / 2 ? (x < width / 2 ? RED : GREEN) : x < width / 2 ? BLUE : YELLOW))

/** 1-pixel vertical black/white stripes: the worst case for aliasing. */
export const stripes = (width: number, height: number) => image(width, height, (x) => (x % 2 ? WHITE : BLACK))

export function at(b: Bitmap, x: number, y: number): Rgba {
  const i = (Math.floor(y) * b.width + Math.floor(x)) * 4
  return { r: b.data[i]!, g: b.data[i + 1]!, b: b.data[i + 2]!, a: b.data[i + 3]! }
}

/** Colour equality with a tolerance per channel (lossy codecs, filter ringing). */
export function near(a: Rgba, b: Rgba, tolerance = 8): boolean {
  return (
    Math.abs(a.r - b.r) <= tolerance &&
    Math.abs(a.g - b.g) <= tolerance &&
    Math.abs(a.b - b.b) <= tolerance &&
    Math.abs(a.a - b.a) <= tolerance
  )
}

export const c = (parts: Component): Component => parts
