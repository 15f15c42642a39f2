/** Box calibration (box.ts): the Haar square → the data sets' hairline-to-chin box. */
import { describe, expect, test } from 'bun:test'
import { mapToHairlineChin } from '../../../src/image/faces/box.ts'
import { DEFAULT_TUNING } from '../../../src/image/faces/tuning.ts'

const canvas = { width: 1000, height: 1000 }

describe('mapToHairlineChin', () => {
  test('upright: the fixed ratios of the square, centred', () => {
    const box = mapToHairlineChin({ cx: 500, cy: 400, side: 100, angle: 0 }, canvas)
    expect(box.w).toBeCloseTo(DEFAULT_TUNING.boxWidth * 100, 0)
    expect(box.h).toBeCloseTo(DEFAULT_TUNING.boxHeight * 100, 0)
    expect(box.x + box.w / 2).toBeCloseTo(500, 0)
    expect(box.y + box.h / 2).toBeCloseTo(400 + DEFAULT_TUNING.boxShiftDown * 100, 0)
    expect(box.w / box.h).toBeGreaterThan(0.65) // the data sets' w/h ≈ 0.73
    expect(box.w / box.h).toBeLessThan(0.8)
  })
  test('tilted: the hull grows wider and less tall, the same for ±angle', () => {
    const upright = mapToHairlineChin({ cx: 500, cy: 500, side: 100, angle: 0 }, canvas)
    const left = mapToHairlineChin({ cx: 500, cy: 500, side: 100, angle: 30 }, canvas)
    const right = mapToHairlineChin({ cx: 500, cy: 500, side: 100, angle: -30 }, canvas)
    expect(left.w).toBeGreaterThan(upright.w)
    expect(left.h).toBeLessThan(upright.h)
    expect([left.w, left.h]).toEqual([right.w, right.h])
  })
  test('clipped to the image', () => {
    const box = mapToHairlineChin({ cx: 10, cy: 10, side: 100, angle: 0 }, { width: 200, height: 200 })
    expect(box.x).toBe(0)
    expect(box.y).toBe(0)
    expect(box.x + box.w).toBeLessThanOrEqual(200)
  })
  test('tuning overrides the ratios', () => {
    const tuning = { ...DEFAULT_TUNING, boxWidth: 1, boxHeight: 1, boxShiftDown: 0 }
    const box = mapToHairlineChin({ cx: 500, cy: 400, side: 100, angle: 0 }, canvas, tuning)
    expect(box).toEqual({ x: 450, y: 350, w: 100, h: 100 })
  })
})
