import { describe, expect, test } from 'bun:test'
import { acceptsWebp, chooseOutputFormat } from '../../src/image/format.ts'

const CHROME = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8'
const OLD_SAFARI = 'image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5'

describe('chooseOutputFormat', () => {
  test('precedence: f_ > extension > source format', () => {
    expect(chooseOutputFormat({ chain: [], sourceFormat: 'webp' })).toEqual({ format: 'webp', variesOnAccept: false })
    expect(chooseOutputFormat({ chain: [], extension: 'png', sourceFormat: 'webp' })).toEqual({
      format: 'png',
      variesOnAccept: false,
    })
    expect(chooseOutputFormat({ chain: [{ format: 'gif' }], extension: 'png', sourceFormat: 'jpg' }).format).toBe('gif')
  })
  test('the last f_ in the chain wins', () => {
    expect(
      chooseOutputFormat({
        chain: [{ format: 'png' }, { width: { kind: 'px', value: 5 } }, { format: 'jpg' }],
        sourceFormat: 'webp',
      }).format,
    ).toBe('jpg')
    expect(
      chooseOutputFormat({ chain: [{ format: 'png' }, { format: 'auto' }], sourceFormat: 'jpg', accept: CHROME })
        .format,
    ).toBe('webp')
  })
  test('f_auto: webp when accepted, and the response varies on Accept', () => {
    expect(
      chooseOutputFormat({ chain: [{ format: 'auto' }], extension: 'jpg', sourceFormat: 'jpg', accept: CHROME }),
    ).toEqual({ format: 'webp', variesOnAccept: true })
  })
  test('f_auto without webp: jpg for an opaque source, png when it may be transparent', () => {
    const auto = [{ format: 'auto' as const }]
    expect(chooseOutputFormat({ chain: auto, sourceFormat: 'jpg', accept: OLD_SAFARI })).toEqual({
      format: 'jpg',
      variesOnAccept: true,
    })
    expect(chooseOutputFormat({ chain: auto, sourceFormat: 'png', accept: OLD_SAFARI }).format).toBe('png')
    expect(chooseOutputFormat({ chain: auto, sourceFormat: 'png', sourceMayHaveAlpha: false }).format).toBe('jpg')
    expect(chooseOutputFormat({ chain: auto, sourceFormat: 'gif' }).format).toBe('png')
  })
  test('f_auto without webp: png when the chain itself adds transparency (r_max, o_, a_45)', () => {
    const base = { sourceFormat: 'jpg' as const, accept: OLD_SAFARI }
    expect(chooseOutputFormat({ ...base, chain: [{ radius: { kind: 'max' } }, { format: 'auto' }] }).format).toBe('png')
    expect(chooseOutputFormat({ ...base, chain: [{ opacity: 50, format: 'auto' }] }).format).toBe('png')
    expect(
      chooseOutputFormat({ ...base, chain: [{ angles: [{ kind: 'deg', value: 45 }], format: 'auto' }] }).format,
    ).toBe('png')
    expect(
      chooseOutputFormat({ ...base, chain: [{ angles: [{ kind: 'deg', value: 90 }], format: 'auto' }] }).format,
    ).toBe('jpg')
  })
})

describe('acceptsWebp', () => {
  test('only an explicit image/webp with q > 0 counts', () => {
    expect(acceptsWebp(CHROME)).toBe(true)
    expect(acceptsWebp('IMAGE/WEBP')).toBe(true)
    expect(acceptsWebp('image/webp;q=0')).toBe(false)
    expect(acceptsWebp('image/webp;q=0.5')).toBe(true)
    expect(acceptsWebp('*/*')).toBe(false)
    expect(acceptsWebp(OLD_SAFARI)).toBe(false)
    expect(acceptsWebp(undefined)).toBe(false)
  })
})
