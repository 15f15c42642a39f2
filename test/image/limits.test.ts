import { describe, expect, test } from 'bun:test'
import { checkDpr, checkOutputSize, checkSourceSize, DEFAULT_IMAGE_LIMITS } from '../../src/image/limits.ts'
import { HttpError } from '../../src/lib/http-error.ts'

describe('limits', () => {
  test('defaults: 4096 per side, 16 MP, dpr 4', () => {
    expect(DEFAULT_IMAGE_LIMITS).toMatchObject({ maxOutputSide: 4096, maxOutputPixels: 4096 * 4096, maxDpr: 4 })
  })
  test('output size: per side and in total', () => {
    expect(() => checkOutputSize({ width: 4096, height: 4096 }, DEFAULT_IMAGE_LIMITS)).not.toThrow()
    expect(() => checkOutputSize({ width: 5000, height: 5000 }, DEFAULT_IMAGE_LIMITS)).toThrow(
      new HttpError(400, 'Maximum image size exceeded: 5000x5000'),
    )
    expect(() => checkOutputSize({ width: 4097, height: 1 }, DEFAULT_IMAGE_LIMITS)).toThrow(HttpError)
    expect(() =>
      checkOutputSize({ width: 3000, height: 3000 }, { ...DEFAULT_IMAGE_LIMITS, maxOutputPixels: 8_000_000 }),
    ).toThrow('Maximum image size exceeded: 3000x3000')
  })
  test('dpr', () => {
    expect(() => checkDpr([{ dpr: 4 }], DEFAULT_IMAGE_LIMITS)).not.toThrow()
    expect(() => checkDpr([{}, { dpr: 5 }], DEFAULT_IMAGE_LIMITS)).toThrow(
      new HttpError(400, 'Invalid dpr in transformation: 5'),
    )
  })
  test('source size (decompression bombs)', () => {
    expect(() => checkSourceSize({ width: 7000, height: 7000 }, DEFAULT_IMAGE_LIMITS)).not.toThrow()
    expect(() => checkSourceSize({ width: 10000, height: 10000 }, DEFAULT_IMAGE_LIMITS)).toThrow(
      'Maximum source image size exceeded: 10000x10000',
    )
  })
})
