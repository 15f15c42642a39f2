import { describe, expect, test } from 'bun:test'
import { applyEffect, gaussianBlur, pixelate } from '../../src/image/effects.ts'
import type { Bitmap } from '../../src/image/types.ts'
import type { EffectName } from '../../src/url/types.ts'
import { at, BLACK, CLEAR, image, near, RED, solid, stripes, WHITE } from '../support/image-fixtures.ts'

const fx = (b: Bitmap, name: EffectName, level = 0, faces: { x: number; y: number; w: number; h: number }[] = []) =>
  applyEffect(b, { name, level }, faces)
const ORANGE = { r: 200, g: 120, b: 40, a: 255 }
const MID = { r: 100, g: 150, b: 200, a: 255 }
/** Black left half, white right half. */
const edge = () => image(20, 4, (x) => (x < 10 ? BLACK : WHITE))

describe('colour effects (alpha untouched)', () => {
  test('grayscale: r = g = b = luma', () => {
    const p = at(fx(solid(2, 2, { ...ORANGE, a: 77 }), 'grayscale'), 0, 0)
    expect(p.r).toBe(p.g)
    expect(p.g).toBe(p.b)
    expect(p.r).toBe(Math.round(0.299 * 200 + 0.587 * 120 + 0.114 * 40))
    expect(p.a).toBe(77)
  })
  test('sepia: grey turns warm (r > g > b); level 0 would change nothing', () => {
    const p = at(fx(solid(2, 2, { r: 128, g: 128, b: 128, a: 255 }), 'sepia', 80), 0, 0)
    expect(p.r).toBeGreaterThan(p.g)
    expect(p.g).toBeGreaterThan(p.b)
  })
  test('negate', () => expect(at(fx(solid(1, 1, ORANGE), 'negate'), 0, 0)).toEqual({ r: 55, g: 135, b: 215, a: 255 }))
  test('brightness: positive lighter, negative darker', () => {
    const l = (v: number) => {
      const p = at(fx(solid(1, 1, MID), 'brightness', v), 0, 0)
      return p.r + p.g + p.b
    }
    expect(l(40)).toBeGreaterThan(l(0))
    expect(l(-40)).toBeLessThan(l(0))
    expect(l(0)).toBe(450)
  })
  test('saturation: -100 is grey, positive moves channels apart', () => {
    const grey = at(fx(solid(1, 1, MID), 'saturation', -100), 0, 0)
    expect(grey.r).toBe(grey.b)
    const vivid = at(fx(solid(1, 1, MID), 'saturation', 50), 0, 0)
    expect(vivid.b - vivid.r).toBeGreaterThan(MID.b - MID.r)
  })
  test('contrast: positive spreads dark and light apart, negative pulls them together, 0 is identity', () => {
    const src = image(2, 1, (x) => (x ? { r: 180, g: 180, b: 180, a: 255 } : { r: 70, g: 70, b: 70, a: 255 }))
    const spread = (b: Bitmap) => at(b, 1, 0).r - at(b, 0, 0).r
    expect(spread(fx(src, 'contrast', 50))).toBeGreaterThan(110)
    expect(spread(fx(src, 'contrast', -50))).toBeLessThan(110)
    expect(fx(src, 'contrast', 0).data).toEqual(src.data)
  })
  test('blackwhite: a luma threshold at level %', () => {
    const src = image(2, 1, (x) => (x ? { r: 140, g: 140, b: 140, a: 255 } : { r: 110, g: 110, b: 110, a: 255 }))
    const r = fx(src, 'blackwhite', 50)
    expect(at(r, 0, 0)).toEqual(BLACK)
    expect(at(r, 1, 0)).toEqual(WHITE)
  })
  test('vignette: corners darker, centre unchanged', () => {
    const r = fx(solid(41, 41, WHITE), 'vignette', 60)
    expect(at(r, 20, 20)).toEqual(WHITE)
    expect(at(r, 0, 0).r).toBeLessThan(150)
    expect(at(r, 20, 0).r).toBeGreaterThan(at(r, 0, 0).r)
  })
})

describe('spatial effects', () => {
  test('blur softens an edge; a flat colour stays flat; more level = wider', () => {
    const b1 = fx(edge(), 'blur', 40) // σ 2
    expect(at(b1, 9, 1).r).toBeGreaterThan(60)
    expect(at(b1, 10, 1).r).toBeLessThan(195)
    expect(at(fx(solid(9, 9, ORANGE), 'blur', 300), 4, 4)).toEqual(ORANGE)
    const wide = fx(edge(), 'blur', 200) // σ 10, box approximation path
    expect(at(wide, 6, 1).r).toBeGreaterThan(at(b1, 6, 1).r)
  })
  test('blur does not darken next to transparency (premultiplied)', () => {
    const r = gaussianBlur(
      image(20, 4, (x) => (x < 10 ? WHITE : CLEAR)),
      2,
    )
    const p = at(r, 11, 1)
    expect(p.a).toBeGreaterThan(0)
    expect([p.r, p.g, p.b]).toEqual([255, 255, 255])
  })
  test('sharpen overshoots at an edge (unsharp mask)', () => {
    const src = image(20, 4, (x) => (x < 10 ? { r: 60, g: 60, b: 60, a: 255 } : { r: 190, g: 190, b: 190, a: 255 }))
    const r = fx(src, 'sharpen', 200)
    expect(at(r, 9, 1).r).toBeLessThan(60)
    expect(at(r, 10, 1).r).toBeGreaterThan(190)
    expect(at(r, 2, 1).r).toBe(60)
  })
  test('pixelate: uniform square cells of the mean colour', () => {
    const r = fx(stripes(8, 8), 'pixelate', 4)
    for (const [x, y] of [
      [0, 0],
      [3, 3],
      [4, 0],
      [7, 7],
    ] as const)
      expect(near(at(r, x, y), { r: 128, g: 128, b: 128, a: 255 }, 1)).toBe(true)
  })
  test('pixelate level 0 picks a cell size from the image', () => {
    const r = fx(stripes(40, 40), 'pixelate', 0)
    expect(at(r, 0, 0)).toEqual(at(r, 1, 0)) // cells larger than one pixel
    expect(pixelate(stripes(4, 4), 1).data).toEqual(stripes(4, 4).data)
  })
  test('blur_faces / pixelate_faces only change the face boxes', () => {
    const src = stripes(40, 20)
    const faces = [{ x: 10, y: 5, w: 10, h: 10 }]
    for (const name of ['blur_faces', 'pixelate_faces'] as const) {
      const r = fx(src, name, name === 'blur_faces' ? 100 : 5, faces)
      expect(near(at(r, 15, 10), { r: 128, g: 128, b: 128, a: 255 }, 30)).toBe(true)
      expect(at(r, 30, 10)).toEqual(at(src, 30, 10))
      expect(at(r, 9, 10)).toEqual(at(src, 9, 10))
      expect(at(r, 15, 4)).toEqual(at(src, 15, 4))
    }
    expect(fx(src, 'blur_faces', 100, []).data).toEqual(src.data) // no faces: nothing to hide
  })
  test('alpha of an opaque image stays opaque', () => {
    for (const name of ['blur', 'sharpen', 'pixelate', 'vignette'] as const) {
      const r = fx(solid(10, 10, RED), name, 50)
      expect(at(r, 0, 0).a).toBe(255)
    }
  })
})
