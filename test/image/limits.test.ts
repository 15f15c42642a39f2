import { describe, expect, test } from 'bun:test'
import {
  checkBeforeSource,
  checkDpr,
  checkOutputSize,
  checkSourceSize,
  DEFAULT_IMAGE_LIMITS,
} from '../../src/image/limits.ts'
import { planChain } from '../../src/image/pipeline.ts'
import { HttpError } from '../../src/lib/http-error.ts'
import { foldDpr } from '../../src/url/chain.ts'
import { parseChain } from '../../src/url/component.ts'
import { CROP_MODES, type Component } from '../../src/url/types.ts'

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

/** A chain as delivery sees it: parsed, `dpr_N` of its own folded into the sized component. */
function chain(text: string): Component[] {
  const parsed = parseChain(text)
  if (!parsed.ok) throw new Error(parsed.error.message)
  return foldDpr(parsed.value.components)
}

/** Sources of every shape: tiny, long, wide, at and past the output limits, near the input limit. */
const SOURCES = [
  { width: 1, height: 1 },
  { width: 100, height: 3000 },
  { width: 3000, height: 100 },
  { width: 4096, height: 4096 },
  { width: 4097, height: 1 },
  { width: 7000, height: 7000 },
]

describe('limits checked before the source is known (checkBeforeSource)', () => {
  test('refuses sizes the URL fixes for every source, and the dpr cap', () => {
    const refused = {
      'c_fill,h_5000,w_5000': 'Maximum image size exceeded: 5000x5000',
      'c_fill,h_4000,w_4100': 'Maximum image size exceeded: 4100x4000',
      'c_pad,h_4096,w_4096/c_scale,h_10,w_4097': 'Maximum image size exceeded: 4097x10',
      w_5000: 'Maximum image size exceeded: 5000x?',
      'c_thumb,g_face,h_4097': 'Maximum image size exceeded: ?x4097',
      'c_fill,dpr_2.0,h_2100,w_100': 'Maximum image size exceeded: 200x4200',
      'c_lpad,h_100,w_2100/dpr_2.0': 'Maximum image size exceeded: 4200x200',
      'ar_0.1,c_fill_pad,g_auto,w_2000': 'Maximum image size exceeded: 2000x20000',
      'dpr_5.0': 'Invalid dpr in transformation: 5',
    }
    for (const [text, message] of Object.entries(refused)) {
      expect(() => checkBeforeSource(chain(text), DEFAULT_IMAGE_LIMITS)).toThrow(new HttpError(400, message))
    }
    const eightMegapixels = { ...DEFAULT_IMAGE_LIMITS, maxOutputPixels: 8_000_000 }
    expect(() => checkBeforeSource(chain('c_fill,h_3000,w_3000'), eightMegapixels)).toThrow(
      'Maximum image size exceeded: 3000x3000',
    )
  })

  test('leaves alone what some source could satisfy, and what needs the source to judge', () => {
    for (const text of [
      'c_fill,h_4096,w_4096',
      'c_limit,h_9000,w_9000', // never enlarges: fine for any source up to the limit
      'c_fit,w_9000',
      'c_mfit,h_9000',
      'c_crop,w_9000',
      'c_lfill,h_9000,w_9000',
      'c_mpad,h_9000,w_9000',
      'c_scale,w_3.0', // a multiple of the source
      'ar_0.001,c_fill', // the box comes from the source
      'w_4096,h_4096/a_45', // rotation grows the canvas: the plan decides
      'dpr_4.0,w_1000',
    ]) {
      expect(() => checkBeforeSource(chain(text), DEFAULT_IMAGE_LIMITS)).not.toThrow()
    }
  })

  test('never refuses a chain the plan would accept for some source', () => {
    let seed = 7
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!
    const sizes = ['1', '100', '2048', '4095', '4096', '4097', '6000', '0.5', '2.0']
    let refusedCount = 0
    for (let i = 0; i < 3000; i++) {
      const parts = [`c_${pick(CROP_MODES)}`]
      if (rnd() < 0.7) parts.push(`w_${pick(sizes)}`)
      if (rnd() < 0.7) parts.push(`h_${pick(sizes)}`)
      if (rnd() < 0.3) parts.push(`ar_${pick(['0.25', '1.0', '4.0'])}`)
      if (rnd() < 0.3) parts.push(`dpr_${pick(['0.5', '1.0', '2.0', '3.0'])}`)
      if (parts[0] === 'c_fill_pad') parts.push('g_auto')
      const text = parts.join(',')
      const parsed = parseChain(text)
      if (!parsed.ok) continue
      const components = foldDpr(parsed.value.components)
      let early: unknown
      try {
        checkBeforeSource(components, DEFAULT_IMAGE_LIMITS)
      } catch (error) {
        early = error
      }
      if (early === undefined) continue
      refusedCount++
      for (const source of SOURCES) {
        expect(
          () => planChain(components, source, DEFAULT_IMAGE_LIMITS),
          `${text} on ${source.width}x${source.height}`,
        ).toThrow(HttpError)
      }
    }
    // The sweep did exercise the refusals.
    expect(refusedCount).toBeGreaterThan(100)
  })
})
