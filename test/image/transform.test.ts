import { describe, expect, test } from 'bun:test'
import {
  applyOrientation,
  flip,
  flipRect,
  orientedSize,
  rotateQuarter,
  rotateRectQuarter,
} from '../../src/image/transform.ts'
import { at, BLUE, GREEN, quadrants, RED, YELLOW } from '../support/image-fixtures.ts'

// 4×2 quadrants: red | green over blue | yellow
const src = quadrants(4, 2)

describe('quarter turns and flips are exact pixel moves', () => {
  test('90° clockwise: the left column becomes the top row', () => {
    const r = rotateQuarter(src, 90)
    expect([r.width, r.height]).toEqual([2, 4])
    expect([at(r, 0, 0), at(r, 1, 0), at(r, 0, 3), at(r, 1, 3)]).toEqual([BLUE, RED, YELLOW, GREEN])
  })
  test('180° and 270°', () => {
    expect(at(rotateQuarter(src, 180), 0, 0)).toEqual(YELLOW)
    const r = rotateQuarter(src, 270)
    expect([at(r, 0, 0), at(r, 1, 0)]).toEqual([GREEN, YELLOW])
  })
  test('flips', () => {
    expect(at(flip(src, 'h'), 0, 0)).toEqual(GREEN)
    expect(at(flip(src, 'v'), 0, 0)).toEqual(BLUE)
  })
  test('four quarter turns give the original back', () => {
    let r = src
    for (let i = 0; i < 4; i++) r = rotateQuarter(r, 90)
    expect(r.data).toEqual(src.data)
  })
})

describe('EXIF orientation', () => {
  test('each of the 8 values puts the stored top-left where EXIF says', () => {
    // stored top-left is red; after orientation, which corner shows red?
    const corner = (o: number) => {
      const r = applyOrientation(src, o)
      const corners = [at(r, 0, 0), at(r, r.width - 1, 0), at(r, 0, r.height - 1), at(r, r.width - 1, r.height - 1)]
      return ['tl', 'tr', 'bl', 'br'][corners.findIndex((c) => c.r === 255 && c.g === 0)]
    }
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(corner)).toEqual(['tl', 'tr', 'br', 'bl', 'tl', 'tr', 'br', 'bl'])
  })
  test('5–8 swap width and height', () => {
    expect(orientedSize({ width: 4, height: 2 }, 6)).toEqual({ width: 2, height: 4 })
    expect(orientedSize({ width: 4, height: 2 }, 3)).toEqual({ width: 4, height: 2 })
  })
})

describe('rectangles follow the pixels', () => {
  test('a box on the red quadrant stays on red after each move', () => {
    const box = { x: 0, y: 0, w: 2, h: 1 }
    for (const turn of [90, 180, 270] as const) {
      const r = rotateRectQuarter(box, src, turn)
      expect(at(rotateQuarter(src, turn), r.x, r.y)).toEqual(RED)
    }
    const f = flipRect(box, src, 'h')
    expect(at(flip(src, 'h'), f.x, f.y)).toEqual(RED)
  })
})

import { rotateArbitrary, rotatedSize, rotateRect } from '../../src/image/transform.ts'
import { solid as solidImage } from '../support/image-fixtures.ts'

describe('free rotation', () => {
  test('the canvas grows to the bounding box; new corners are transparent', () => {
    expect(rotatedSize({ width: 100, height: 100 }, 45)).toEqual({ width: 142, height: 142 })
    expect(rotatedSize({ width: 100, height: 50 }, 30)).toEqual({ width: 112, height: 94 })
    const r = rotateArbitrary(solidImage(40, 40, RED), 45)
    expect([r.width, r.height]).toEqual([57, 57])
    expect(at(r, 0, 0).a).toBe(0)
    expect(at(r, 28, 28)).toEqual(RED)
    expect(at(r, 28, 1).a).toBeGreaterThan(0) // the top corner of the diamond
  })
  test('clockwise: the top-left quadrant ends up at the top', () => {
    const r = rotateArbitrary(quadrants(40, 40), 45)
    expect(at(r, 28, 10)).toEqual(RED)
    expect(at(r, 28, 46)).toEqual(YELLOW)
  })
  test('a box follows the rotation (bounding box of its turned corners)', () => {
    const box = rotateRect({ x: 0, y: 0, w: 20, h: 20 }, { width: 40, height: 40 }, 45)
    const r = rotateArbitrary(quadrants(40, 40), 45)
    expect(at(r, box.x + box.w / 2, box.y + box.h / 2)).toEqual(RED)
  })
})
