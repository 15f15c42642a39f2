/**
 * deriveImage end to end on small synthetic images: bytes in, bytes out, pixels sampled.
 * PNG in and out keeps the colours exact where the geometry says they must be.
 */
import { describe, expect, test } from 'bun:test'
import codecs from 'imagescript/codecs/node/index.js'
import { decode, encode } from '../../src/image/codecs.ts'
import { deriveImage, planChain, shrinkOnLoad } from '../../src/image/pipeline.ts'
import { DEFAULT_IMAGE_LIMITS } from '../../src/image/limits.ts'
import { HttpError } from '../../src/lib/http-error.ts'
import type { Bitmap, DeriveInput } from '../../src/image/types.ts'
import type { CompassGravity, Component, ImageFormat } from '../../src/url/types.ts'
import {
  at,
  BLUE,
  CLEAR,
  GREEN,
  image,
  near,
  px,
  quadrants,
  RED,
  rel,
  size,
  solid,
  WHITE,
  YELLOW,
} from '../support/image-fixtures.ts'
import { withExifOrientation } from '../support/jpeg-exif.ts'
import { gif } from '../support/hostile-images.ts'

const png = (b: Bitmap) => encode(b, 'png', { quality: 100 })

async function derive(
  src: Bitmap | Uint8Array,
  chain: Component[],
  output: ImageFormat = 'png',
  extra: Partial<DeriveInput> = {},
) {
  const bytes = src instanceof Uint8Array ? src : await png(src)
  const format: ImageFormat = extra.format ?? 'png'
  const out = await deriveImage({ bytes, format, chain, output, faces: [], ...extra })
  const back = await decode(out.bytes, output)
  expect([back.width, back.height]).toEqual([out.width, out.height])
  return { ...out, image: back }
}

const compass = (value: CompassGravity) => ({ kind: 'compass', value }) as const

describe('deriveImage: geometry on real pixels', () => {
  const Q = quadrants(100, 60)

  test('an empty chain re-encodes the original', async () => {
    const r = await derive(Q, [], 'png')
    expect(r.image.data).toEqual(Q.data)
  })

  test('c_fill,g_north_west keeps the top-left colour; g_south_east the bottom-right', async () => {
    const nw = await derive(Q, [{ crop: 'fill', width: px(20), height: px(20), gravity: compass('north_west') }])
    expect(size(nw)).toBe('20x20')
    expect(near(at(nw.image, 2, 2), RED)).toBe(true)
    expect(near(at(nw.image, 2, 17), BLUE)).toBe(true)
    const se = await derive(Q, [{ crop: 'fill', width: px(20), height: px(20), gravity: compass('south_east') }])
    expect(near(at(se.image, 17, 17), YELLOW)).toBe(true)
    expect(near(at(se.image, 17, 2), GREEN)).toBe(true)
  })

  test('c_crop with x/y cuts exactly that region (no resampling)', async () => {
    const src = image(50, 50, (x, y) => ({ r: x * 5, g: y * 5, b: 0, a: 255 }))
    const r = await derive(src, [{ crop: 'crop', x: px(10), y: px(20), width: px(5), height: px(4) }])
    expect(size(r)).toBe('5x4')
    expect(at(r.image, 0, 0)).toEqual({ r: 50, g: 100, b: 0, a: 255 })
    expect(at(r.image, 4, 3)).toEqual({ r: 70, g: 115, b: 0, a: 255 })
  })

  test('c_crop,g_east takes the right edge', async () => {
    const r = await derive(Q, [{ crop: 'crop', width: px(10), height: px(10), gravity: compass('east') }])
    expect(near(at(r.image, 9, 0), GREEN)).toBe(true)
    expect(near(at(r.image, 9, 9), YELLOW)).toBe(true)
  })

  test('components apply in order, relative to the current image', async () => {
    const r = await derive(Q, [
      { crop: 'crop', width: rel(0.5), height: rel(0.5), gravity: compass('south_west') },
      { crop: 'scale', width: rel(0.5) },
    ])
    expect(size(r)).toBe('25x15')
    expect(near(at(r.image, 12, 7), BLUE)).toBe(true)
  })

  test('c_pad fills with transparency for PNG and white for JPEG by default, or with b_', async () => {
    const red = solid(40, 20, RED)
    const p = await derive(red, [{ crop: 'pad', width: px(20), height: px(20) }], 'png')
    expect(size(p)).toBe('20x20')
    expect(at(p.image, 10, 1)).toEqual(CLEAR)
    expect(at(p.image, 10, 10)).toEqual(RED)
    const j = await derive(red, [{ crop: 'pad', width: px(20), height: px(20) }], 'jpg')
    expect(near(at(j.image, 10, 1), WHITE)).toBe(true)
    const b = await derive(red, [{ crop: 'pad', width: px(20), height: px(20), background: BLUE }], 'png')
    expect(at(b.image, 10, 1)).toEqual(BLUE)
  })

  test('g_face moves the crop to the face box it is given', async () => {
    // a green "face" on a red field, far right
    const src = image(200, 100, (x, y) => (x >= 160 && x < 180 && y >= 40 && y < 60 ? GREEN : RED))
    const faces = [{ x: 160, y: 40, w: 20, h: 20 }]
    const face = { kind: 'face', mode: 'face', fallback: 'north' } as const
    const r = await derive(src, [{ crop: 'crop', width: px(40), height: px(40), gravity: face }], 'png', { faces })
    expect(at(r.image, 20, 20)).toEqual(GREEN)
    const none = await derive(src, [{ crop: 'crop', width: px(40), height: px(40), gravity: face }], 'png')
    expect(at(none.image, 20, 20)).toEqual(RED) // no faces: north/centre, away from the face
  })

  test('faces follow the chain: a later g_face crop still finds the face', async () => {
    const src = image(200, 100, (x, y) => (x >= 160 && x < 180 && y >= 40 && y < 60 ? GREEN : RED))
    const faces = [{ x: 160, y: 40, w: 20, h: 20 }]
    const face = { kind: 'face', mode: 'face', fallback: 'north' } as const
    const r = await derive(
      src,
      [
        { crop: 'scale', width: px(100) },
        { crop: 'crop', width: px(20), height: px(20), gravity: face },
      ],
      'png',
      { faces },
    )
    expect(near(at(r.image, 10, 10), GREEN)).toBe(true)
  })
})

describe('deriveImage: formats', () => {
  test('WebP in, JPEG out; magic bytes and quality', async () => {
    const webp = codecs.webp.encode(quadrants(64, 64).data, { width: 64, height: 64, quality: 90 })
    const r = await derive(
      webp,
      [{ crop: 'fill', width: px(32), height: px(32), quality: { kind: 'fixed', value: 90 } }],
      'jpg',
      { format: 'webp' },
    )
    expect(r.bytes.subarray(0, 3)).toEqual(new Uint8Array([0xff, 0xd8, 0xff]))
    expect(near(at(r.image, 4, 4), RED, 30)).toBe(true)
  })

  test('the last q_ in the chain decides: a lower quality gives a smaller JPEG', async () => {
    const src = image(64, 64, (x, y) => ({ r: (x * 37 + y * 11) % 256, g: (x * y) % 256, b: (y * 53) % 256, a: 255 }))
    const hi = await derive(
      src,
      [{ quality: { kind: 'fixed', value: 20 } }, { quality: { kind: 'fixed', value: 95 } }],
      'jpg',
    )
    const lo = await derive(src, [{ quality: { kind: 'auto', level: 'low' } }], 'jpg')
    expect(lo.bytes.length).toBeLessThan(hi.bytes.length)
  })

  test('transparency becomes white in JPEG', async () => {
    const r = await derive(
      image(10, 10, (x) => (x < 5 ? CLEAR : RED)),
      [],
      'jpg',
    )
    expect(near(at(r.image, 1, 5), WHITE)).toBe(true)
  })

  test('EXIF orientation is applied, unless a_ignore', async () => {
    const jpg = withExifOrientation(await encode(quadrants(40, 20), 'jpg', { quality: 95 }), 6)
    const upright = await derive(jpg, [], 'png', { format: 'jpg' })
    expect(size(upright)).toBe('20x40')
    const ignored = await derive(jpg, [{ angles: [{ kind: 'mode', value: 'ignore' }] }], 'png', { format: 'jpg' })
    expect(size(ignored)).toBe('40x20')
    // planned sizes use the upright size too: w_10 of an upright 20×40 is 10×20
    expect(size(await derive(jpg, [{ width: px(10) }], 'png', { format: 'jpg' }))).toBe('10x20')
  })
})

describe('limits and refusals come before any decoding', () => {
  // A valid 100×100 PNG header followed by garbage: any decode attempt would fail differently.
  const headerOnly = async () => {
    const real = await png(solid(100, 100, RED))
    const fake = real.slice(0, 60)
    fake.fill(0xaa, 41)
    return fake
  }
  const input = async (chain: Component[]): Promise<DeriveInput> => ({
    bytes: await headerOnly(),
    format: 'png',
    chain,
    output: 'png',
    faces: [],
  })

  test('an output over 4096 per side', async () => {
    await expect(deriveImage(await input([{ crop: 'scale', width: px(5000), height: px(5000) }]))).rejects.toThrow(
      new HttpError(400, 'Maximum image size exceeded: 5000x5000'),
    )
  })
  test('an intermediate image over the limit, even if the final one is small', async () => {
    await expect(
      deriveImage(
        await input([
          { crop: 'scale', width: px(8000) },
          { crop: 'scale', width: px(10) },
        ]),
      ),
    ).rejects.toThrow('Maximum image size exceeded: 8000x8000')
  })
  test('a dpr over 4', async () => {
    await expect(deriveImage(await input([{ width: px(10), dpr: 5 }]))).rejects.toThrow(
      new HttpError(400, 'Invalid dpr in transformation: 5'),
    )
  })
  test('dpr that pushes the size over the limit', async () => {
    await expect(
      deriveImage(await input([{ crop: 'fill', width: px(1500), height: px(1500), dpr: 3 }])),
    ).rejects.toThrow('Maximum image size exceeded: 4500x4500')
  })
  test('custom limits', async () => {
    await expect(
      deriveImage(await input([{ width: px(300) }]), { ...DEFAULT_IMAGE_LIMITS, maxOutputSide: 200 }),
    ).rejects.toThrow('Maximum image size exceeded: 300x300')
  })
  test('a source over the input limit, counting a GIF frame beyond its 1×1 screen', async () => {
    // An illegal LZW code size: decoding would be a 502, so the 400 is the header's.
    const bomb = gif({ width: 1, height: 1 }, [{ width: 2000, height: 2000, minCodeSize: 12 }])
    const limits = { ...DEFAULT_IMAGE_LIMITS, maxInputPixels: 1_000_000 }
    const refused = deriveImage({ bytes: bomb, format: 'gif', chain: [], output: 'png', faces: [] }, limits)
    await expect(refused).rejects.toThrow(new HttpError(400, 'Maximum source image size exceeded: 2000x2000'))
  })
  test('an unexpanded named transformation', async () => {
    await expect(deriveImage(await input([{ named: ['avatar'] }]))).rejects.toThrow(HttpError)
  })
  test('an unknown flag is a 400, never silently ignored', async () => {
    await expect(deriveImage(await input([{ flags: ['png8' as never] }]))).rejects.toThrow(
      new HttpError(400, 'Invalid flag in transformation: png8'),
    )
  })
})

describe('planChain: sizes without pixels', () => {
  test('the output size of a chain', () => {
    const p = planChain(
      [
        { crop: 'fill', width: px(200), height: px(200) },
        { crop: 'pad', width: px(300), height: px(250) },
      ],
      { width: 1000, height: 600 },
    )
    expect(size(p.output)).toBe('300x250')
    expect(p.components.map((c) => size(c.output))).toEqual(['200x200', '300x250'])
  })
  test('faces are carried into the output coordinates', () => {
    const p = planChain([{ crop: 'scale', width: rel(0.5) }], { width: 1000, height: 600 }, DEFAULT_IMAGE_LIMITS, [
      { x: 100, y: 100, w: 50, h: 50 },
    ])
    expect(p.faces).toEqual([{ x: 50, y: 50, w: 25, h: 25 }])
  })
})

describe('deriveImage: stage-2 steps', () => {
  const Q = quadrants(40, 20)

  test('r_max: a circle, transparent corners in PNG, white in JPEG', async () => {
    const chain: Component[] = [{ crop: 'fill', width: px(30), height: px(30) }, { radius: { kind: 'max' } }]
    const p = await derive(solid(60, 60, RED), chain, 'png')
    expect(at(p.image, 0, 0).a).toBe(0)
    expect(at(p.image, 15, 15)).toEqual(RED)
    const j = await derive(solid(60, 60, RED), chain, 'jpg')
    expect(near(at(j.image, 0, 0), WHITE, 24)).toBe(true) // JPEG ringing near the red edge
  })

  test('r_ in pixels is multiplied by dpr', async () => {
    const r = await derive(solid(40, 40, RED), [
      { crop: 'scale', width: px(20), radius: { kind: 'px', corners: [5, 5, 5, 5] }, dpr: 2 },
    ])
    expect(size(r)).toBe('40x40')
    expect(at(r.image, 2, 2).a).toBe(0) // inside a 10-px corner, outside a 5-px one
  })

  test('bo_ grows the image and follows r_max', async () => {
    const r = await derive(solid(20, 20, RED), [{ radius: { kind: 'max' }, border: { width: 3, color: BLUE } }])
    expect(size(r)).toBe('26x26')
    expect(at(r.image, 0, 0).a).toBe(0)
    expect(at(r.image, 13, 1)).toEqual(BLUE)
    expect(at(r.image, 13, 13)).toEqual(RED)
  })

  test('a_90 turns clockwise, a_hflip mirrors, in the order written', async () => {
    const r = await derive(Q, [{ angles: [{ kind: 'deg', value: 90 }] }])
    expect(size(r)).toBe('20x40')
    expect(at(r.image, 19, 0)).toEqual(RED)
    const f = await derive(Q, [{ angles: [{ kind: 'mode', value: 'hflip' }] }])
    expect(at(f.image, 0, 0)).toEqual(GREEN)
    const both = await derive(Q, [
      {
        angles: [
          { kind: 'mode', value: 'hflip' },
          { kind: 'deg', value: -90 },
        ],
      },
    ])
    expect(at(both.image, 0, 39)).toEqual(GREEN) // flip puts green top-left; -90 takes top-left to bottom-left
  })

  test('a_45 grows the canvas; the new corners are transparent (PNG) or white (JPEG) or b_', async () => {
    const p = await derive(solid(20, 20, RED), [{ angles: [{ kind: 'deg', value: 45 }] }])
    expect(size(p)).toBe('29x29')
    expect(at(p.image, 0, 0).a).toBe(0)
    const j = await derive(solid(20, 20, RED), [{ angles: [{ kind: 'deg', value: 45 }] }], 'jpg')
    expect(near(at(j.image, 0, 0), WHITE, 16)).toBe(true) // 4:2:0 chroma may tint a tiny JPEG's corner slightly
    const b = await derive(solid(20, 20, RED), [{ angles: [{ kind: 'deg', value: 45 }], background: BLUE }])
    expect(at(b.image, 0, 0)).toEqual(BLUE)
  })

  test('a_auto_right turns a landscape image for a portrait crop before cropping', async () => {
    const r = await derive(Q, [
      { crop: 'fill', width: px(10), height: px(20), angles: [{ kind: 'mode', value: 'auto_right' }] },
    ])
    expect(size(r)).toBe('10x20')
    // after a clockwise turn the left column (red over blue) is the top row: red top-right
    expect(near(at(r.image, 9, 0), RED)).toBe(true)
    const same = await derive(Q, [
      { crop: 'fill', width: px(20), height: px(10), angles: [{ kind: 'mode', value: 'auto_right' }] },
    ])
    expect(near(at(same.image, 0, 0), RED)).toBe(true) // already landscape: no turn
  })

  test('o_50 halves alpha; JPEG shows it against white', async () => {
    const p = await derive(solid(4, 4, RED), [{ opacity: 50 }])
    expect(at(p.image, 1, 1)).toEqual({ ...RED, a: 128 })
    const j = await derive(solid(4, 4, RED), [{ opacity: 50 }], 'jpg')
    expect(near(at(j.image, 1, 1), { r: 255, g: 127, b: 127, a: 255 }, 10)).toBe(true)
  })

  test('b_ outside pad modes fills transparent areas', async () => {
    const r = await derive(
      image(4, 4, (x) => (x < 2 ? CLEAR : RED)),
      [{ background: BLUE }],
    )
    expect(at(r.image, 0, 0)).toEqual(BLUE)
    expect(at(r.image, 3, 0)).toEqual(RED)
  })

  test('e_ runs after the crop of its component; e_grayscale', async () => {
    const r = await derive(Q, [
      {
        crop: 'crop',
        width: px(10),
        height: px(10),
        gravity: compass('north_west'),
        effect: { name: 'grayscale', level: 0 },
      },
    ])
    const p = at(r.image, 5, 5)
    expect(p.r).toBe(p.g)
    expect(p.r).toBe(Math.round(0.299 * 255))
  })

  test('e_pixelate_faces hides only the face given to deriveImage', async () => {
    const src = image(40, 40, (x, y) => ((x + y) % 2 ? WHITE : { r: 0, g: 0, b: 0, a: 255 }))
    const r = await derive(src, [{ effect: { name: 'pixelate_faces', level: 10 } }], 'png', {
      faces: [{ x: 0, y: 0, w: 20, h: 20 }],
    })
    expect(near(at(r.image, 5, 5), { r: 128, g: 128, b: 128, a: 255 }, 2)).toBe(true)
    expect(at(r.image, 30, 30)).toEqual(at(src, 30, 30))
  })

  test('a Component field this pipeline does not know is refused, not ignored', async () => {
    await expect(derive(Q, [{ overlay: 'x' } as Component])).rejects.toThrow(
      new HttpError(400, 'Transformation parameter overlay is not supported'),
    )
  })

  test('planChain knows the size after border and rotation', () => {
    const p = planChain(
      [
        {
          crop: 'fill',
          width: px(100),
          height: px(100),
          border: { width: 5, color: BLUE },
          angles: [{ kind: 'deg', value: 90 }],
        },
      ],
      { width: 400, height: 300 },
    )
    expect(size(p.output)).toBe('110x110')
    expect(() =>
      planChain([{ crop: 'scale', width: px(4000), angles: [{ kind: 'deg', value: 45 }] }], {
        width: 400,
        height: 400,
      }),
    ).toThrow('Maximum image size exceeded: 5657x5657')
  })
})

describe('shrink-on-load (JPEG decoded at 1/2–1/8 when the first step reduces anyway)', () => {
  test('the factor is the reduction of the first window, when at least 2', () => {
    const f = (c: Component) => shrinkOnLoad(planChain([c], { width: 1000, height: 600 }).components[0]!)
    expect(f({ crop: 'fill', width: px(100), height: px(100) })).toBe(6) // 600-px window → 100
    expect(f({ crop: 'scale', width: px(400) })).toBe(2.5)
    expect(f({ crop: 'scale', width: px(600) })).toBe(1)
    expect(f({ crop: 'crop', width: px(100), height: px(100) })).toBe(1) // no resampling at all
  })

  test('same picture as a full decode: quadrants, EXIF turn and auto_right all still line up', async () => {
    const stored = await encode(quadrants(256, 128), 'jpg', { quality: 95 })
    const full = await derive(await png(quadrants(256, 128)), [
      { crop: 'fill', width: px(16), height: px(16), gravity: compass('west') },
    ])
    const shrunk = await derive(
      stored,
      [{ crop: 'fill', width: px(16), height: px(16), gravity: compass('west') }],
      'png',
      { format: 'jpg' },
    )
    for (const [x, y] of [
      [3, 3],
      [12, 3],
      [3, 12],
      [12, 12],
    ] as const)
      expect(near(at(shrunk.image, x, y), at(full.image, x, y), 24)).toBe(true)

    const turned = await derive(withExifOrientation(stored, 6), [{ crop: 'scale', width: px(16) }], 'png', {
      format: 'jpg',
    })
    expect(size(turned)).toBe('16x32')
    expect(near(at(turned.image, 12, 3), RED, 30)).toBe(true) // stored top-left → top-right

    const auto = await derive(
      stored,
      [{ crop: 'fill', width: px(16), height: px(32), angles: [{ kind: 'mode', value: 'auto_right' }] }],
      'png',
      { format: 'jpg' },
    )
    expect(near(at(auto.image, 12, 3), RED, 30)).toBe(true)
    expect(near(at(auto.image, 3, 28), YELLOW, 30)).toBe(true)
  })

  test('no aliasing through the shrunk decode: 1-px stripes still average to grey', async () => {
    const jpg = await encode(
      image(512, 64, (x) => (x % 2 ? WHITE : { r: 0, g: 0, b: 0, a: 255 })),
      'jpg',
      { quality: 95 },
    )
    const r = await derive(jpg, [{ crop: 'scale', width: px(50) }], 'png', { format: 'jpg' })
    const v = Array.from({ length: r.width * r.height }, (_, i) => r.image.data[i * 4]!)
    expect(Math.min(...v)).toBeGreaterThan(100)
    expect(Math.max(...v)).toBeLessThan(155)
  })
})
