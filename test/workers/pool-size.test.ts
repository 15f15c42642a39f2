/**
 * Pool size (src/workers/pool-size.ts): one worker per core, but never more than memory holds with
 * every worker at the peak its image limits allow; the operator's count wins.
 */
import { describe, expect, test } from 'bun:test'
import { availableParallelism } from 'node:os'
import { DEFAULT_IMAGE_LIMITS } from '../../src/image/limits.ts'
import {
  memoryLimit,
  poolSize,
  RECYCLE_MAX_BYTES,
  RECYCLE_MIN_BYTES,
  recycleThreshold,
  workerCount,
  workerPeakBytes,
} from '../../src/workers/pool-size.ts'

const GB = 1024 ** 3

describe('a worker at its peak', () => {
  test('under the default limits: a 50 MP decode and a 16.8 MP blur, between 1 and 2 GB', () => {
    const peak = workerPeakBytes(DEFAULT_IMAGE_LIMITS)
    expect(peak).toBeGreaterThan(1 * GB)
    expect(peak).toBeLessThan(2 * GB)
  })

  test('smaller limits, smaller peak', () => {
    const half = { ...DEFAULT_IMAGE_LIMITS, maxOutputPixels: DEFAULT_IMAGE_LIMITS.maxOutputPixels / 2 }
    expect(workerPeakBytes(half)).toBeLessThan(workerPeakBytes(DEFAULT_IMAGE_LIMITS))
    const smallSources = { ...DEFAULT_IMAGE_LIMITS, maxInputPixels: 10_000_000 }
    expect(workerPeakBytes(smallSources)).toBeLessThan(workerPeakBytes(DEFAULT_IMAGE_LIMITS))
  })
})

describe('pool size', () => {
  const perWorkerBytes = 1.5 * GB
  test('one per core when memory holds them all', () => {
    expect(poolSize({ cores: 4, memoryBytes: 48 * GB, perWorkerBytes })).toBe(4)
  })
  test('fewer when memory does not: 3 GB holds two workers of 1.5 GB, whatever the cores', () => {
    expect(poolSize({ cores: 16, memoryBytes: 3 * GB, perWorkerBytes })).toBe(2)
    expect(poolSize({ cores: 16, memoryBytes: 2.9 * GB, perWorkerBytes })).toBe(1)
  })
  test('never none: a tiny box still transforms, one job at a time', () => {
    expect(poolSize({ cores: 2, memoryBytes: 0.5 * GB, perWorkerBytes })).toBe(1)
  })
  test("the operator's count (HEADSHOT_WORKERS) wins", () => {
    expect(poolSize({ cores: 2, memoryBytes: 0.5 * GB, perWorkerBytes, workers: 6 })).toBe(6)
  })
  test('on this machine, with the memory given', () => {
    const limits = DEFAULT_IMAGE_LIMITS
    expect(workerCount({ memoryBytes: workerPeakBytes(limits), limits })).toBe(1)
    expect(workerCount({ memoryBytes: 1000 * GB, limits })).toBe(availableParallelism())
    expect(workerCount({ workers: 3, limits })).toBe(3)
  })
})

describe('the memory a worker may keep before it is recycled', () => {
  const MB = 1024 * 1024
  test("a quarter of its share of the workers' memory", () => {
    expect(recycleThreshold(400 * MB, 1)).toBe(100 * MB)
    expect(recycleThreshold(800 * MB, 2)).toBe(100 * MB)
  })
  test("at most 128 MB on a large machine, at least 64 MB (room above the codecs' 34 MB at start) on a tiny one", () => {
    expect(recycleThreshold(48 * GB, 2)).toBe(RECYCLE_MAX_BYTES)
    expect(RECYCLE_MAX_BYTES).toBe(128 * MB)
    expect(recycleThreshold(100 * MB, 1)).toBe(RECYCLE_MIN_BYTES)
    expect(RECYCLE_MIN_BYTES).toBe(64 * MB)
    expect(recycleThreshold(100 * MB, 0)).toBe(RECYCLE_MIN_BYTES)
  })
})

describe('the memory limit', () => {
  const total = 16 * GB
  test('a cgroup v2 limit below the RAM applies; `max` means none', () => {
    expect(memoryLimit(total, [`${4 * GB}\n`, undefined])).toBe(4 * GB)
    expect(memoryLimit(total, ['max\n', undefined])).toBe(total)
  })
  test("cgroup v1's 'unlimited' (close to 2^63) and unreadable files leave the RAM", () => {
    expect(memoryLimit(total, [undefined, '9223372036854771712\n'])).toBe(total)
    expect(memoryLimit(total, [undefined, undefined])).toBe(total)
    expect(memoryLimit(total, ['garbage', ''])).toBe(total)
  })
  test('the smallest limit wins', () => {
    expect(memoryLimit(total, [`${8 * GB}`, `${2 * GB}`])).toBe(2 * GB)
  })
})
