import { describe, expect, test } from 'bun:test'
import { addBorder, applyOpacity, cornerRadii, roundCorners } from '../../src/image/draw.ts'
import { at, BLUE, quadrants, RED, solid } from '../support/image-fixtures.ts'

describe('roundCorners', () => {
  test('r_max on a square is a circle: corners clear, centre and edge midpoints kept', () => {
    const r = roundCorners(solid(40, 40, RED), cornerRadii({ width: 40, height: 40 }, 'max'))
    expect(at(r, 0, 0).a).toBe(0)
    expect(at(r, 39, 39).a).toBe(0)
    expect(at(r, 20, 20)).toEqual(RED)
    expect(at(r, 20, 0).a).toBe(255)
    expect(at(r, 0, 20).a).toBe(255)
    // pixel (15, 0) has its centre on the circle: half covered (anti-aliased), not a hard step
    expect(at(r, 15, 0).a).toBeGreaterThan(100)
    expect(at(r, 15, 0).a).toBeLessThan(155)
  })
  test('r_max on a rectangle is an ellipse touching all four sides', () => {
    const r = roundCorners(solid(60, 20, RED), cornerRadii({ width: 60, height: 20 }, 'max'))
    expect(at(r, 30, 0).a).toBeGreaterThan(230) // touching: (almost) fully covered
    expect(at(r, 0, 10).a).toBeGreaterThan(230)
    expect(at(r, 3, 2).a).toBe(0)
  })
  test('pixel radii per corner (TL, TR, BR, BL); colour untouched', () => {
    const r = roundCorners(solid(40, 40, RED), cornerRadii({ width: 40, height: 40 }, [10, 0, 10, 0]))
    expect(at(r, 0, 0).a).toBe(0)
    expect(at(r, 39, 0).a).toBe(255)
    expect(at(r, 39, 39).a).toBe(0)
    expect(at(r, 0, 39).a).toBe(255)
    expect({ ...at(r, 5, 5), a: 255 }).toEqual(RED)
  })
  test('radii too large for the side are scaled down together (CSS rule)', () => {
    expect(cornerRadii({ width: 100, height: 50 }, [100, 100, 100, 100]).tl).toEqual([25, 25])
  })
})

describe('addBorder', () => {
  test('grows the canvas by twice the width and frames the image', () => {
    const r = addBorder(solid(10, 6, RED), 2, BLUE)
    expect([r.width, r.height]).toEqual([14, 10])
    expect(at(r, 0, 0)).toEqual(BLUE)
    expect(at(r, 1, 5)).toEqual(BLUE)
    expect(at(r, 2, 2)).toEqual(RED)
    expect(at(r, 13, 9)).toEqual(BLUE)
  })
  test('follows rounded corners: the outer corner stays clear, the ring is the colour', () => {
    const radii = cornerRadii({ width: 40, height: 40 }, 'max')
    const r = addBorder(roundCorners(solid(40, 40, RED), radii), 4, BLUE, radii)
    expect([r.width, r.height]).toEqual([48, 48])
    expect(at(r, 0, 0).a).toBe(0)
    expect(at(r, 24, 1)).toEqual(BLUE)
    expect(at(r, 24, 24)).toEqual(RED)
    // where the ring meets the picture there is no transparent seam
    for (let y = 3; y <= 6; y++) expect(at(r, 24, y).a).toBe(255)
  })
})

describe('applyOpacity', () => {
  test('scales alpha, keeps colour', () => {
    const r = applyOpacity(quadrants(4, 4), 50)
    expect(at(r, 0, 0)).toEqual({ ...RED, a: 128 })
  })
})
