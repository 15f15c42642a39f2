/**
 * The work budget (src/image/budget.ts): every transformation is priced from its plan, before any
 * pixel is decoded, and refused when it costs more than the request may spend. Unsigned URLs get a
 * smaller budget, fewer steps and a cap on upscaling; ordinary avatar transformations stay inside.
 */
import { describe, expect, test } from 'bun:test'
import {
  checkChainBudget,
  checkWork,
  DEFAULT_WORK_BUDGETS,
  estimateWork,
  minimumWork,
  pixelSteps,
  type PricedSource,
  type WorkBudget,
} from '../../src/image/budget.ts'
import { fixedOutputSize, planGeometry } from '../../src/image/geometry.ts'
import { deriveImage, planChain } from '../../src/image/pipeline.ts'
import type { Rect } from '../../src/image/types.ts'
import { HttpError } from '../../src/lib/http-error.ts'
import { foldDpr } from '../../src/url/chain.ts'
import { parseChain } from '../../src/url/component.ts'
import { CROP_MODES, type Component, type ImageFormat } from '../../src/url/types.ts'
import { makePicture } from '../support/fakes/images.ts'
import { gif } from '../support/hostile-images.ts'

const { signed, unsigned } = DEFAULT_WORK_BUDGETS
const FORMATS: ImageFormat[] = ['jpg', 'png', 'webp']

/** The chain as delivery derives it (a lone `dpr_` folded into the sized component). */
function chainOf(text: string): Component[] {
  const parsed = parseChain(text)
  if (!parsed.ok) throw parsed.error
  return foldDpr(parsed.value.components)
}

const jpg = (side: number, height = side): PricedSource => ({ size: { width: side, height }, format: 'jpg' })

function price(text: string, source: PricedSource, output: ImageFormat = 'jpg', faces: Rect[] = []) {
  return estimateWork(planChain(chainOf(text), source.size, undefined, faces), source, output).units
}

function check(text: string, source: PricedSource, output: ImageFormat, budget: WorkBudget, faces: Rect[] = []) {
  return checkWork(planChain(chainOf(text), source.size, undefined, faces), source, output, budget)
}

/** The refusal `f` throws (a 400 HttpError), or undefined when it passes. */
function refusal(f: () => unknown): HttpError | undefined {
  try {
    f()
    return undefined
  } catch (error) {
    if (!(error instanceof HttpError)) throw error
    expect(error.status).toBe(400)
    return error
  }
}

/** What the review measured: 8.4 s of a core and 1.7 GB for one Gravatar URL. */
const ATTACK = 'c_scale,h_4096,w_4096,e_blur:2000'
/** Gravatar serves 2048² (the plugin asks for s=2048); X, GitHub and Mastodon avatars are about 400². */
const GRAVATAR = jpg(2048)
const SMALL = jpg(400)

describe('ordinary avatar transformations fit the unsigned budget', () => {
  const ORDINARY = [
    'c_fill,g_face,h_80,w_80',
    'c_thumb,g_face,h_150,w_150/r_max',
    'c_thumb,g_face,h_150,w_150/r_max/e_grayscale/dpr_2.0/f_auto/q_auto',
    'c_fill,g_face,h_1000,w_1000',
    'c_thumb,g_face,h_1000,w_1000/r_max/e_grayscale',
    'c_fill,g_faces,h_400,w_400,dpr_3/r_max/bo_4px_solid_white',
    'c_fill,g_face,h_500,w_500,dpr_3/r_max/e_sharpen/e_brightness:20',
    'c_fill,g_face,h_1000,w_1000,dpr_2/r_max/e_grayscale',
    'c_fill,h_1000,w_1000/e_blur:300/bo_5px_solid_white/a_10',
    'c_pad,b_white,h_600,w_600,dpr_2/e_sepia/o_80',
    'c_fill,ar_1:1,g_face,w_600/e_pixelate_faces/e_vignette',
    'c_limit,w_2000',
    '',
  ]
  for (const text of ORDINARY) {
    test(text || '(untransformed, re-encoded)', () => {
      for (const source of [GRAVATAR, SMALL]) {
        for (const output of FORMATS) {
          const estimate = check(text, source, output, unsigned)
          // Well inside: a fifth of the budget to spare at least.
          expect(estimate.units).toBeLessThan(0.8 * unsigned.maxWork)
        }
      }
    })
  }
})

describe("the review's URL", () => {
  test('is refused unsigned, in every output format, with a message naming cost and budget', () => {
    for (const output of [...FORMATS, 'gif'] as const) {
      const error = refusal(() => check(ATTACK, GRAVATAR, output, unsigned))
      expect(error?.message).toMatch(/^Transformation too costly: \d+ work units \(unsigned budget 120\)$/)
    }
  })

  test('is refused unsigned before the source is known, its output format being in the URL', () => {
    expect(refusal(() => checkChainBudget(chainOf(ATTACK), unsigned, 'png'))?.message).toMatch(
      /^Transformation too costly: \d+ work units \(unsigned budget 120\)$/,
    )
    expect(refusal(() => checkChainBudget(chainOf(ATTACK), signed, 'png'))).toBeUndefined()
  })

  test('passes the signed budget once; three of it chained do too, but not as a GIF', () => {
    expect(refusal(() => check(ATTACK, GRAVATAR, 'png', signed))).toBeUndefined()
    const three = `${ATTACK}/e_blur:2000/e_blur:2000`
    expect(refusal(() => check(three, GRAVATAR, 'png', signed))).toBeUndefined()
    expect(refusal(() => check(three, GRAVATAR, 'gif', signed))?.message).toMatch(/\(signed budget 500\)$/)
  })
})

describe('pricing', () => {
  test('the attack is priced step by step: decode, upscale, blur, encode', () => {
    const plan = planChain(chainOf(ATTACK), GRAVATAR.size)
    const { units, items } = estimateWork(plan, GRAVATAR, 'png')
    expect(items.map((i) => i.step)).toEqual(['decode', 'decode', '1: resize', '1: resize', '1: e_blur', 'encode'])
    // 16.8 MP written by the resize, blurred and encoded: ~310 units, ~4 s of a core at 13 ms a unit.
    expect(units).toBeGreaterThan(250)
    expect(units).toBeLessThan(350)
  })

  test('intermediate images count: a detour through 4000² costs more than going straight to 100²', () => {
    expect(price('c_scale,w_4000/c_scale,w_100', GRAVATAR)).toBeGreaterThan(10 * price('c_scale,w_100', GRAVATAR))
  })

  test('more pixels, more steps and dearer effects cost more', () => {
    expect(price('c_fill,h_800,w_800', GRAVATAR)).toBeGreaterThan(price('c_fill,h_400,w_400', GRAVATAR))
    expect(price('c_fill,h_400,w_400/e_grayscale', GRAVATAR)).toBeGreaterThan(price('c_fill,h_400,w_400', GRAVATAR))
    expect(price('c_fill,h_400,w_400/e_brightness', GRAVATAR)).toBeGreaterThan(
      price('c_fill,h_400,w_400/e_grayscale', GRAVATAR),
    )
    expect(price('c_fill,h_400,w_400', GRAVATAR, 'gif')).toBeGreaterThan(price('c_fill,h_400,w_400', GRAVATAR, 'png'))
    expect(price('c_fill,h_400,w_400', GRAVATAR, 'png')).toBeGreaterThan(price('c_fill,h_400,w_400', GRAVATAR, 'jpg'))
  })

  test('a blur costs more with its radius while the exact kernel is used, then stays flat (box blurs)', () => {
    const blur = (level: number) => price(`c_scale,w_1000/e_blur:${level}`, GRAVATAR)
    expect(blur(20)).toBeGreaterThan(blur(1))
    expect(blur(60)).toBeGreaterThan(blur(20))
    expect(blur(2000)).toBe(blur(100))
    expect(blur(2000)).toBeLessThan(blur(60))
  })

  test('a thumbnail of a large JPEG is priced at its shrunk decode; a PNG has none', () => {
    const png: PricedSource = { size: { width: 4000, height: 4000 }, format: 'png' }
    const thumbJpg = price('c_fill,h_100,w_100', jpg(4000))
    expect(thumbJpg).toBeLessThan(price('c_scale,w_1.0', jpg(4000)) / 4)
    // A PNG decodes cheaper per pixel but always at full size.
    expect(price('c_fill,h_100,w_100', png)).toBeGreaterThan(thumbJpg)
  })

  test("a GIF's decode is priced by the frame it works through, not by the screen it yields", () => {
    const screen = { width: 100, height: 100 }
    const plain: PricedSource = { size: screen, format: 'gif' }
    const bomb: PricedSource = { ...plain, decoded: { width: 4000, height: 4000 } }
    const decode = (source: PricedSource) =>
      estimateWork(planChain(chainOf('c_fill,h_50,w_50'), screen), source, 'jpg').items.find((i) => i.step === 'decode')
    expect(decode(plain)?.megapixels).toBe(0.01)
    expect(decode(bomb)?.megapixels).toBe(16)
    expect(price('c_fill,h_50,w_50', bomb)).toBeGreaterThan((1000 * price('c_fill,h_50,w_50', plain)) / 100)
  })

  test('face effects: by face regions when the faces are known, the whole image when not yet', () => {
    const text = 'c_scale,w_1000/e_blur_faces:2000'
    const face = { x: 600, y: 600, w: 200, h: 200 } // source pixels (2048²): ~98×98 after the resize
    const none = price(text, GRAVATAR, 'jpg', [])
    const one = price(text, GRAVATAR, 'jpg', [face])
    const two = price(text, GRAVATAR, 'jpg', [face, { ...face, x: 1400 }])
    expect(one).toBeGreaterThan(none)
    expect(two).toBeGreaterThan(one)
    const plan = planChain(chainOf(text), GRAVATAR.size)
    const unknown = estimateWork(plan, GRAVATAR, 'jpg', { unknownFaces: true }).units
    expect(unknown).toBeGreaterThan(two)
  })
})

describe('steps', () => {
  test('only components doing pixel work count: q_, f_, fl_ and d_ are free', () => {
    expect(pixelSteps(chainOf('c_fill,h_80,w_80/r_max/f_auto/q_auto/fl_progressive'))).toBe(2)
    expect(pixelSteps(chainOf('c_fill,h_80,w_80,f_auto,q_auto'))).toBe(1)
  })

  test('unsigned URLs may chain 8, signed ones as many as a URL holds', () => {
    const steps = (n: number) => ['c_fill,h_80,w_80', ...Array.from({ length: n - 1 }, () => 'e_grayscale')].join('/')
    expect(refusal(() => check(steps(8), SMALL, 'jpg', unsigned))).toBeUndefined()
    expect(refusal(() => check(`${steps(8)}/f_auto/q_auto`, SMALL, 'jpg', unsigned))).toBeUndefined()
    expect(refusal(() => check(steps(9), SMALL, 'jpg', unsigned))?.message).toBe(
      'Transformation too costly: 9 steps (unsigned budget 8)',
    )
    expect(refusal(() => checkChainBudget(chainOf(steps(9)), unsigned))?.message).toBe(
      'Transformation too costly: 9 steps (unsigned budget 8)',
    )
    expect(refusal(() => check(steps(20), SMALL, 'jpg', signed))).toBeUndefined()
  })
})

describe('upscaling', () => {
  const ICON = jpg(100)

  test("unsigned: no image more than 8× the source's longer side; Cloudinary's c_scale is kept within it", () => {
    const ok = check('c_scale,h_800,w_800', ICON, 'jpg', unsigned)
    expect(ok.units).toBeLessThan(unsigned.maxWork)
    expect(refusal(() => check('c_scale,h_801,w_801', ICON, 'jpg', unsigned))?.message).toBe(
      'Transformation too costly: 801x801 from 100x100 (unsigned budget 8x upscaling)',
    )
    // The longer side: a portrait source may become a landscape of the same extent.
    expect(refusal(() => check('c_scale,h_100,w_800', jpg(25, 100), 'jpg', unsigned))).toBeUndefined()
  })

  test('intermediate images count, and pad canvases too', () => {
    expect(refusal(() => check('c_scale,w_1000/c_scale,w_100', ICON, 'jpg', unsigned))?.message).toContain(
      '1000x1000 from 100x100',
    )
    expect(refusal(() => check('c_lpad,h_1000,w_1000', ICON, 'jpg', unsigned))).toBeInstanceOf(HttpError)
  })

  test('signed URLs are not capped (the size limits still apply)', () => {
    const tiny = jpg(16)
    expect(refusal(() => check('c_scale,h_1000,w_1000', tiny, 'jpg', signed))).toBeUndefined()
    expect(refusal(() => check('c_scale,h_1000,w_1000', tiny, 'jpg', unsigned))?.message).toContain('8x upscaling')
  })
})

// --- the checks that need no source --------------------------------------------------------------

let seed = 7
const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!

function randomComponent(): Component {
  const c: Component = {}
  if (rnd() < 0.9) c.crop = pick(CROP_MODES)
  if (rnd() < 0.8)
    c.width = rnd() < 0.8 ? { kind: 'px', value: 1 + Math.floor(rnd() * 900) } : { kind: 'rel', value: 0.5 }
  if (rnd() < 0.8) c.height = { kind: 'px', value: 1 + Math.floor(rnd() * 900) }
  if (rnd() < 0.2) c.aspectRatio = pick([0.5, 1, 16 / 9])
  if (rnd() < 0.3) c.dpr = pick([1.5, 2, 3])
  if (rnd() < 0.4)
    c.effect = pick([
      { name: 'blur', level: 300 },
      { name: 'grayscale', level: 0 },
      { name: 'sharpen', level: 100 },
    ] as const)
  if (c.crop === 'fill_pad') c.gravity = { kind: 'auto' }
  return c
}

describe('pricing without a source (checkChainBudget)', () => {
  test('a box fixed by pixel lengths is the size planGeometry gives for any source', () => {
    let fixed = 0
    for (let i = 0; i < 300; i++) {
      const c = randomComponent()
      const size = fixedOutputSize(c)
      if (!size) continue
      fixed++
      for (const source of [
        { width: 37, height: 23 },
        { width: 2048, height: 2048 },
        { width: 300, height: 1200 },
      ]) {
        expect(planGeometry(c, source).output).toEqual(size)
      }
    }
    expect(fixed).toBeGreaterThan(50)
  })

  test('what it counts is a lower bound of the price on any source', () => {
    for (let i = 0; i < 200; i++) {
      const chain = Array.from({ length: 1 + Math.floor(rnd() * 3) }, randomComponent)
      const output = pick(FORMATS)
      for (const source of [jpg(37, 23), GRAVATAR, { size: { width: 300, height: 1200 }, format: 'png' as const }]) {
        let plan: ReturnType<typeof planChain>
        try {
          plan = planChain(chain, source.size)
        } catch {
          continue // over the size limits: refused anyway
        }
        expect(minimumWork(chain, output)).toBeLessThanOrEqual(estimateWork(plan, source, output).units + 1e-9)
      }
    }
  })

  test('sizes that depend on the source cost nothing before it is known', () => {
    expect(minimumWork(chainOf('c_fit,h_4096,w_4096/e_blur:2000'))).toBe(0)
    expect(minimumWork(chainOf('c_scale,w_2.0'))).toBe(0)
    expect(refusal(() => checkChainBudget(chainOf('c_fill,g_face,h_1000,w_1000/r_max'), unsigned))).toBeUndefined()
  })
})

describe('in the worker (deriveImage)', () => {
  test('the budget is checked again on the exact plan, before decoding: a truncated image is refused as too costly', async () => {
    const whole = await makePicture('budget', 400, 400, 'png')
    // The header survives (size known), the pixels do not: decoding it would be a 502.
    const truncated = whole.slice(0, 64)
    const input = { bytes: truncated, format: 'png' as const, output: 'png' as const, faces: [] }
    const refused = await deriveImage({
      ...input,
      chain: chainOf('c_scale,h_3200,w_3200,e_blur:2000'),
      budget: unsigned,
    }).catch((e) => e)
    expect(refused).toBeInstanceOf(HttpError)
    expect(refused.message).toMatch(/^Transformation too costly: \d+ work units \(unsigned budget 120\)$/)
    const decoded = await deriveImage({
      ...input,
      chain: chainOf('c_scale,h_3200,w_3200,e_blur:2000'),
      budget: signed,
    }).catch((e) => e)
    expect(decoded).toMatchObject({ status: 502 })
  })

  test('a GIF whose first frame dwarfs its 1×1 screen: refused or priced by the frame, before decoding', async () => {
    // LZW minimum code size 12 is illegal: decoding this frame would be a 502, so a 400 proves the
    // refusal came from the plan, before any decode.
    const bomb = gif({ width: 1, height: 1 }, [{ width: 4000, height: 4000, minCodeSize: 12 }])
    const input = { bytes: bomb, format: 'gif' as const, output: 'jpg' as const, faces: [] }
    // The decode yields the 1×1 screen: an 80² fill of it is an 80× enlargement.
    const enlarged = await deriveImage({ ...input, chain: chainOf('c_fill,h_80,w_80'), budget: unsigned }).catch(
      (e) => e,
    )
    expect(enlarged).toMatchObject({ status: 400 })
    expect(enlarged.message).toBe('Transformation too costly: 80x80 from 1x1 (unsigned budget 8x upscaling)')
    // A 1×1 result still pays for decoding 16 MP of frame.
    const budget = { ...unsigned, maxWork: 20 }
    const priced = await deriveImage({ ...input, chain: chainOf('c_limit,h_80,w_80'), budget }).catch((e) => e)
    expect(priced).toMatchObject({ status: 400 })
    expect(priced.message).toMatch(/^Transformation too costly: 2\d work units/)
    // Within the budget it is decoded (and this one is undecodable).
    expect(
      await deriveImage({ ...input, chain: chainOf('c_limit,h_80,w_80'), budget: unsigned }).catch((e) => e),
    ).toMatchObject({ status: 502 })
  })

  test('with the real face boxes: many faces blurred cost more than one', async () => {
    const bytes = await makePicture('faces', 1000, 1000, 'jpg')
    const face = { x: 100, y: 100, w: 150, h: 150 }
    const crowd = Array.from({ length: 16 }, (_, i) => ({ ...face, x: (i % 4) * 240, y: Math.floor(i / 4) * 240 }))
    const budget = { ...unsigned, maxWork: 10 }
    const input = { bytes, format: 'jpg' as const, output: 'jpg' as const, chain: chainOf('e_blur_faces:2000'), budget }
    expect((await deriveImage({ ...input, faces: [face] })).width).toBe(1000)
    expect(await deriveImage({ ...input, faces: crowd }).catch((e) => e)).toMatchObject({ status: 400 })
  })
})
