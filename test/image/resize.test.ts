import { describe, expect, test } from 'bun:test'
import { crop, extend, resize } from '../../src/image/resize.ts'
import { Image } from 'imagescript'
import {
  at,
  BLUE,
  CLEAR,
  GREEN,
  image,
  near,
  quadrants,
  RED,
  solid,
  stripes,
  WHITE,
  YELLOW,
} from '../support/image-fixtures.ts'
import type { Bitmap } from '../../src/image/types.ts'

const greys = (b: Bitmap) => Array.from({ length: b.width * b.height }, (_, i) => b.data[i * 4]!)
const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length

describe('resize', () => {
  test('produces exactly the requested size', () => {
    const r = resize(quadrants(40, 30), 17, 9)
    expect([r.width, r.height, r.data.length]).toEqual([17, 9, 17 * 9 * 4])
  })

  test('a solid colour stays exactly that colour (weights sum to one), up and down', () => {
    const src = solid(33, 21, { r: 10, g: 200, b: 77, a: 255 })
    for (const [w, h] of [
      [7, 5],
      [100, 64],
      [33, 5],
    ] as const) {
      const r = resize(src, w, h)
      for (let i = 0; i < r.data.length; i += 4)
        expect([r.data[i], r.data[i + 1], r.data[i + 2], r.data[i + 3]]).toEqual([10, 200, 77, 255])
    }
  })

  test('keeps regions where they were (quadrants survive a downscale)', () => {
    const r = resize(quadrants(200, 200), 20, 20)
    expect(near(at(r, 2, 2), RED)).toBe(true)
    expect(near(at(r, 17, 2), GREEN)).toBe(true)
    expect(near(at(r, 2, 17), BLUE)).toBe(true)
    expect(near(at(r, 17, 17), YELLOW)).toBe(true)
  })

  test('area-correct: 1-px stripes downscaled by an odd factor become ~50 % grey, not bands', () => {
    const r = resize(stripes(600, 40), 73, 5)
    const v = greys(r)
    expect(Math.abs(mean(v) - 127.5)).toBeLessThan(3)
    expect(Math.min(...v)).toBeGreaterThan(110)
    expect(Math.max(...v)).toBeLessThan(145)
  })

  test('imagescript nearest-neighbour (the baseline we replace) aliases the same pattern', () => {
    const src = stripes(600, 40)
    const img = new Image(600, 40)
    img.bitmap.set(src.data)
    img.resize(73, 5)
    const v = Array.from({ length: 73 * 5 }, (_, i) => img.bitmap[i * 4]!)
    expect(Math.max(...v) - Math.min(...v)).toBe(255) // pure black and white survive
  })

  test('transparent neighbours do not darken edges (premultiplied filtering)', () => {
    // white opaque left half, fully transparent BLACK right half
    const src = image(40, 10, (x) => (x < 20 ? WHITE : CLEAR))
    const r = resize(src, 10, 5)
    for (let x = 0; x < 10; x++) {
      const p = at(r, x, 2)
      if (p.a > 0) expect([p.r, p.g, p.b]).toEqual([255, 255, 255])
    }
    // the edge pixel is partly transparent, not grey
    expect(at(r, 5, 2).a).toBeLessThan(255)
  })

  test('a sub-pixel region is scaled into the output', () => {
    const src = quadrants(100, 100)
    const r = resize(src, 10, 10, { region: { x: 50.5, y: 0.25, w: 49.5, h: 49.75 } }) // top-right quadrant
    expect(near(at(r, 5, 5), GREEN)).toBe(true)
    expect(near(at(r, 0, 0), GREEN, 40)).toBe(true)
  })

  test('upscaling a 2×2 keeps corners and interpolates between them', () => {
    const r = resize(
      image(2, 1, (x) => (x ? WHITE : { r: 0, g: 0, b: 0, a: 255 })),
      8,
      1,
      { filter: 'triangle' },
    )
    const v = greys(r)
    expect(v[0]).toBe(0)
    expect(v[7]).toBe(255)
    for (let i = 1; i < 8; i++) expect(v[i]!).toBeGreaterThanOrEqual(v[i - 1]!) // monotonic ramp
  })

  test('an identity resize of a whole-pixel region is a plain copy', () => {
    const src = quadrants(10, 10)
    expect(resize(src, 5, 5, { region: { x: 5, y: 0, w: 5, h: 5 } }).data).toEqual(crop(src, 5, 0, 5, 5).data)
  })
})

describe('crop', () => {
  test('copies the rectangle', () => {
    const r = crop(quadrants(10, 10), 5, 5, 5, 5)
    expect([r.width, r.height]).toEqual([5, 5])
    expect(at(r, 0, 0)).toEqual(YELLOW)
  })
  test('refuses a rectangle outside the image', () => {
    expect(() => crop(quadrants(10, 10), 6, 0, 5, 5)).toThrow(RangeError)
    expect(() => crop(quadrants(10, 10), 0.5, 0, 5, 5)).toThrow(RangeError)
  })
})

describe('extend', () => {
  test('places the image on a canvas of the colour', () => {
    const r = extend(solid(2, 2, RED), 6, 4, 3, 1, BLUE)
    expect([r.width, r.height]).toEqual([6, 4])
    expect(at(r, 0, 0)).toEqual(BLUE)
    expect(at(r, 3, 1)).toEqual(RED)
    expect(at(r, 4, 2)).toEqual(RED)
    expect(at(r, 5, 3)).toEqual(BLUE)
  })
  test('transparent padding and clipping of an image placed partly outside', () => {
    const r = extend(solid(4, 4, RED), 4, 4, -2, 2, CLEAR)
    expect(at(r, 0, 0)).toEqual(CLEAR)
    expect(at(r, 0, 2)).toEqual(RED)
    expect(at(r, 2, 2)).toEqual(CLEAR)
  })
})
