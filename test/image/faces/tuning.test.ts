/** The detector's constants: frozen defaults, overrides resolved per call (see detect.test.ts for their use). */
import { describe, expect, test } from 'bun:test'
import { DEFAULT_TUNING, resolveTuning } from '../../../src/image/faces/tuning.ts'

describe('DEFAULT_TUNING', () => {
  test('is frozen, arrays included', () => {
    expect(Object.isFrozen(DEFAULT_TUNING)).toBe(true)
    expect(Object.isFrozen(DEFAULT_TUNING.angles)).toBe(true)
    expect(Object.isFrozen(DEFAULT_TUNING.focusScales)).toBe(true)
    expect(() => {
      ;(DEFAULT_TUNING as { minScore: number }).minScore = 0
    }).toThrow()
    expect(() => (DEFAULT_TUNING.angles as number[]).push(90)).toThrow()
  })
})

describe('resolveTuning', () => {
  test('without overrides: the defaults themselves', () => {
    expect(resolveTuning()).toBe(DEFAULT_TUNING)
    expect(resolveTuning({ minFace: undefined })).toBe(DEFAULT_TUNING)
  })
  test('overrides, then the named options, on top of the defaults; the defaults stay as they were', () => {
    const tuning = resolveTuning({ tuning: { minScore: 0.5, flatStd: 3 }, minScore: 0.7 })
    expect(tuning.minScore).toBe(0.7)
    expect(tuning.flatStd).toBe(3)
    expect(tuning.boxWidth).toBe(DEFAULT_TUNING.boxWidth)
    expect(Object.isFrozen(tuning)).toBe(true)
    expect(DEFAULT_TUNING.minScore).toBe(0.9)
    expect(DEFAULT_TUNING.flatStd).toBe(6)
  })
  test('unknown names are refused', () => {
    const misspelt = { minStdAbs: 3 } as never
    expect(() => resolveTuning({ tuning: misspelt })).toThrow('unknown face detector tuning: minStdAbs')
  })
})
