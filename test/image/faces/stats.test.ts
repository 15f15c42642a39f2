/** Statistics (stats.ts): filled when a sink is passed, and not even a clock read otherwise. */
import { describe, expect, spyOn, test } from 'bun:test'
import { detectFaces, newDetectStats } from '../../../src/image/faces/index.ts'
import { PhaseClock } from '../../../src/image/faces/stats.ts'
import { noiseBitmap } from './bitmaps.ts'

const bitmap = noiseBitmap(240, 180)

describe('detectFaces statistics', () => {
  test('with a sink: phase times and counters', () => {
    const stats = newDetectStats()
    detectFaces(bitmap, { stats })
    expect(stats.uprightWindows).toBeGreaterThan(0)
    expect(stats.rotatedWindows).toBeGreaterThan(0)
    for (const ms of Object.values(stats.ms)) expect(ms).toBeGreaterThanOrEqual(0)
    expect(Object.values(stats.ms).reduce((sum, ms) => sum + ms, 0)).toBeGreaterThan(0)
  })

  test('without one: nothing is timed', () => {
    detectFaces(bitmap) // warm: cascades decoded and compiled
    const clock = spyOn(performance, 'now')
    try {
      detectFaces(bitmap)
      expect(clock).not.toHaveBeenCalled()
    } finally {
      clock.mockRestore()
    }
  })
})

test('PhaseClock: each moment counts to the phase running then', () => {
  const stats = newDetectStats()
  let now = 0
  const clock = spyOn(performance, 'now').mockImplementation(() => now)
  try {
    const phases = new PhaseClock(stats, 'workingImage')
    now = 5
    expect(phases.switchTo('probeLarge')).toBe('workingImage')
    now = 12
    phases.switchTo('verify')
    now = 15
    phases.stop()
  } finally {
    clock.mockRestore()
  }
  expect(stats.ms).toMatchObject({ workingImage: 5, probeLarge: 7, verify: 3 })
})
