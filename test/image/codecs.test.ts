import { describe, expect, test } from 'bun:test'
import codecs from 'imagescript/codecs/node/index.js'
import { GIF, Frame, Image } from 'imagescript'
import { AUTO_QUALITY, decode, encode, KEEP_DECODER_MAX_PIXELS, resolveQuality } from '../../src/image/codecs.ts'
import { sniffFormat } from '../../src/lib/image-header.ts'
import type { ImageFormat } from '../../src/url/types.ts'
import { at, BLUE, CLEAR, image, near, quadrants, RED, solid, WHITE } from '../support/image-fixtures.ts'
import { withExifOrientation } from '../support/jpeg-exif.ts'

const MAGIC: Record<ImageFormat, (b: Uint8Array) => boolean> = {
  jpg: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  png: (b) => b[0] === 0x89 && String.fromCharCode(b[1]!, b[2]!, b[3]!) === 'PNG',
  webp: (b) =>
    String.fromCharCode(...b.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...b.subarray(8, 12)) === 'WEBP',
  gif: (b) => String.fromCharCode(...b.subarray(0, 6)) === 'GIF89a',
}

/** Smooth noise: compresses differently at different qualities, unlike a flat colour. */
const noisy = (w: number, h: number) =>
  image(w, h, (x, y) => {
    const v = (Math.sin(x * 0.7) * Math.cos(y * 1.3) * 60 + ((x * 7919 + y * 104729) % 97)) | 0
    return { r: 128 + v, g: 100 + (v >> 1), b: 90 - (v >> 2), a: 255 }
  })

describe('encode → decode round trip', () => {
  for (const format of ['jpg', 'png', 'webp', 'gif'] as const) {
    test(`${format}: right magic bytes, size and colours`, async () => {
      const bytes = await encode(quadrants(32, 24), format, { quality: 90 })
      expect(MAGIC[format](bytes)).toBe(true)
      expect(sniffFormat(bytes)).toBe(format)
      const back = await decode(bytes, format)
      expect([back.width, back.height]).toEqual([32, 24])
      expect(near(at(back, 4, 4), RED, 24)).toBe(true)
      expect(near(at(back, 4, 20), BLUE, 24)).toBe(true)
    })
  }

  test('the returned bytes are a plain, transferable buffer', async () => {
    const bytes = await encode(solid(4, 4, RED), 'jpg', { quality: 80 })
    const copy = structuredClone(bytes, { transfer: [bytes.buffer] })
    expect(copy.length).toBeGreaterThan(0)
  })

  test('PNG and WebP keep alpha', async () => {
    const src = image(8, 8, (x) => (x < 4 ? RED : CLEAR))
    for (const f of ['png', 'webp'] as const) {
      const back = await decode(await encode(src, f, { quality: 100 }), f)
      expect(at(back, 1, 1).a).toBe(255)
      expect(at(back, 6, 1).a).toBe(0)
    }
  })
})

describe('JPEG', () => {
  test('a lower quality gives a smaller file', async () => {
    const src = noisy(96, 96)
    const q90 = await encode(src, 'jpg', { quality: 90 })
    const q50 = await encode(src, 'jpg', { quality: 50 })
    expect(q50.length).toBeLessThan(q90.length * 0.8)
  })

  test('alpha is flattened onto white by default', async () => {
    const src = image(16, 8, (x) => (x < 8 ? CLEAR : { r: 255, g: 0, b: 0, a: 128 }))
    const back = await decode(await encode(src, 'jpg', { quality: 95 }), 'jpg')
    expect(near(at(back, 3, 3), WHITE, 6)).toBe(true)
    expect(near(at(back, 12, 3), { r: 255, g: 127, b: 127, a: 255 }, 10)).toBe(true) // half red over white = pink
  })

  test('or onto a chosen background', async () => {
    const back = await decode(await encode(solid(8, 8, CLEAR), 'jpg', { quality: 95, background: BLUE }), 'jpg')
    expect(near(at(back, 3, 3), BLUE, 8)).toBe(true)
  })

  test('progressive is accepted (written as baseline)', async () => {
    const bytes = await encode(solid(8, 8, RED), 'jpg', { quality: 80, progressive: true })
    expect(MAGIC.jpg(bytes)).toBe(true)
  })

  test('EXIF orientation 6 (rotate 90° clockwise) is applied on decode unless disabled', async () => {
    const stored = await encode(quadrants(40, 20), 'jpg', { quality: 95 })
    const rotated = withExifOrientation(stored, 6)
    const upright = await decode(rotated, 'jpg')
    expect([upright.width, upright.height]).toEqual([20, 40])
    // the stored top-left (red) is now top-right
    expect(near(at(upright, 15, 3), RED, 30)).toBe(true)
    const raw = await decode(rotated, 'jpg', { autoOrient: false })
    expect([raw.width, raw.height]).toEqual([40, 20])
  })
})

describe('JPEG shrink-on-load', () => {
  test('decodes at the smallest DCT scale (1/2, 1/4, 1/8) not below stored size ÷ shrink', async () => {
    const jpg = await encode(quadrants(256, 128), 'jpg', { quality: 90 })
    const dims = async (shrink: number) => {
      const b = await decode(jpg, 'jpg', { shrink })
      return `${b.width}x${b.height}`
    }
    expect(await dims(1)).toBe('256x128')
    expect(await dims(2)).toBe('128x64')
    expect(await dims(3)).toBe('128x64')
    expect(await dims(4)).toBe('64x32')
    expect(await dims(100)).toBe('32x16')
    const small = await decode(jpg, 'jpg', { shrink: 8 })
    expect(near(at(small, 4, 4), RED, 24)).toBe(true)
  })
  test('other formats ignore it', async () => {
    const b = await decode(await encode(quadrants(64, 64), 'png', { quality: 100 }), 'png', { shrink: 8 })
    expect(b.width).toBe(64)
  })
})

/** 16×16, left half red, right half blue, CMYK (inverted) with Adobe's APP14 marker as Photoshop writes it (made by libvips). */
const CMYK_JPEG = Uint8Array.from(
  Buffer.from(
    '/9j/7gAOQWRvYmUAZAAAAAAA/9sAQwADAgIDAgIDAwMDBAMDBAUIBQUEBAUKBwcGCAwKDAwLCgsLDQ4SEA0OEQ4LCxAWEBETFBUVFQwPFxgWFBgSFBUU' +
      '/8AAFAgAEAAQBEMRAE0RAFkRAEsRAP/EABcAAAMBAAAAAAAAAAAAAAAAAAAJCgj/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/9oADgRDAE0AWQBLAAA/' +
      'AGplVFVGpphGoFVAU9svpVwmEagVUB//2Q==',
    'base64',
  ),
)
/** 16×16 one-component (greyscale) JPEG: left half 40, right half 200 (made by libvips). */
const GREY_JPEG = Uint8Array.from(
  Buffer.from(
    '/9j/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGBYUGBIUFRT/wAALCAAQABABAREA' +
      '/8QAFQABAQAAAAAAAAAAAAAAAAAACQj/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/9oACAEBAAA/AIUNWFQ1b//Z',
    'base64',
  ),
)

/** imagescript's own full decode: what every JPEG went through before mozjpeg decoded them. */
const imagescriptDecode = async (bytes: Uint8Array) => {
  const img = await Image.decode(bytes)
  return { width: img.width, height: img.height, data: new Uint8Array(img.bitmap.buffer) }
}
const maxDifference = (a: Uint8Array, b: Uint8Array) => a.reduce((max, v, i) => Math.max(max, Math.abs(v - b[i]!)), 0)

describe('JPEG decoders: mozjpeg at full size, imagescript for the rest', () => {
  test('baseline, progressive and 4:4:4 decode like imagescript’s decoder, within rounding', async () => {
    const src = noisy(64, 48)
    for (const options of [{}, { progressive: true }, { fullChroma: true }]) {
      const jpg = await encode(src, 'jpg', { quality: 85, ...options })
      const ours = await decode(jpg, 'jpg')
      const theirs = await imagescriptDecode(jpg)
      expect([ours.width, ours.height]).toEqual([64, 48])
      expect(maxDifference(ours.data, theirs.data)).toBeLessThanOrEqual(4)
    }
  })

  test('greyscale becomes grey RGBA', async () => {
    const grey = await decode(GREY_JPEG, 'jpg')
    expect(near(at(grey, 2, 8), { r: 40, g: 40, b: 40, a: 255 }, 3)).toBe(true)
    expect(near(at(grey, 13, 8), { r: 200, g: 200, b: 200, a: 255 }, 3)).toBe(true)
    expect(maxDifference(grey.data, (await imagescriptDecode(GREY_JPEG)).data)).toBeLessThanOrEqual(2)
  })

  test('CMYK goes through imagescript, pixel for pixel as before, at full size and shrunk', async () => {
    const cmyk = await decode(CMYK_JPEG, 'jpg')
    expect(cmyk.data).toEqual((await imagescriptDecode(CMYK_JPEG)).data)
    expect(near(at(cmyk, 2, 8), RED, 40)).toBe(true)
    const right = at(cmyk, 13, 8) // libvips' CMYK blue comes back as (17, 60, 255)
    expect(right.b).toBeGreaterThan(200)
    expect(Math.max(right.r, right.g)).toBeLessThan(100)
    const half = await decode(CMYK_JPEG, 'jpg', { shrink: 2 })
    expect([half.width, half.height]).toEqual([8, 8])
    expect(near(at(half, 1, 4), RED, 40)).toBe(true)
  })

  test('a truncated JPEG is still refused; bytes after the image do not matter', async () => {
    const jpg = await encode(noisy(64, 48), 'jpg', { quality: 85 })
    await expect(decode(jpg.subarray(0, jpg.length >> 1), 'jpg')).rejects.toMatchObject({ status: 502 })
    const junk = new Uint8Array(jpg.length + 300)
    junk.set(jpg.subarray(0, -2))
    junk.fill(7, jpg.length - 2, jpg.length + 298)
    junk.set([0xff, 0xd9], jpg.length + 298)
    const tolerant = await decode(junk, 'jpg')
    expect([tolerant.width, tolerant.height]).toEqual([64, 48])
  })

  test('bitmaps are copies: decoding again does not touch an earlier result', async () => {
    const red = await decode(await encode(solid(32, 32, RED), 'jpg', { quality: 90 }), 'jpg')
    const before = red.data.slice()
    await decode(await encode(solid(32, 32, BLUE), 'jpg', { quality: 90 }), 'jpg')
    expect(red.data).toEqual(before)
  })

  test('a picture larger than a kept decoder may hold decodes, and so do small ones after it', async () => {
    const side = Math.ceil(Math.sqrt(KEEP_DECODER_MAX_PIXELS)) + 8
    const big = await decode(await encode(quadrants(side, side), 'jpg', { quality: 60 }), 'jpg')
    expect([big.width, big.height]).toEqual([side, side])
    expect(near(at(big, side - 4, side - 4), { r: 255, g: 255, b: 0, a: 255 }, 24)).toBe(true)
    const bigPng = await decode(await encode(quadrants(side, 8), 'png', { quality: 100 }), 'png')
    expect(bigPng.width).toBe(side)
    const small = await decode(await encode(quadrants(16, 16), 'jpg', { quality: 90 }), 'jpg')
    expect(near(at(small, 2, 2), RED, 24)).toBe(true)
  })
})

describe('WebP input (libwebp via @jsquash/webp)', () => {
  test('lossless with alpha', async () => {
    const src = image(9, 5, (x) => (x < 4 ? RED : { r: 0, g: 0, b: 255, a: 100 }))
    const bytes = codecs.webp.encode(src.data, { width: 9, height: 5, quality: null })
    expect(String.fromCharCode(...bytes.subarray(12, 16))).toBe('VP8L')
    const back = await decode(bytes, 'webp')
    expect([back.width, back.height]).toEqual([9, 5])
    expect(back.data).toEqual(src.data) // lossless: exact
  })

  test('lossy', async () => {
    const bytes = codecs.webp.encode(quadrants(64, 64).data, { width: 64, height: 64, quality: 85 })
    const back = await decode(bytes, 'webp')
    expect([back.width, back.height]).toEqual([64, 64])
    expect(near(at(back, 10, 10), RED, 30)).toBe(true)
    expect(near(at(back, 10, 54), BLUE, 30)).toBe(true)
  })

  test('the bytes, not the declared format, decide the decoder', async () => {
    const png = await encode(solid(3, 3, RED), 'png', { quality: 100 })
    expect(at(await decode(png, 'webp'), 1, 1)).toEqual(RED)
  })
})

describe('GIF input', () => {
  test('the first frame is decoded', async () => {
    const f1 = new Image(6, 4)
    f1.fill(0xff0000ff)
    const f2 = new Image(6, 4)
    f2.fill(0x0000ffff)
    const bytes = await new GIF([Frame.from(f1, 100), Frame.from(f2, 100)]).encode(100)
    const back = await decode(bytes, 'gif')
    expect([back.width, back.height]).toEqual([6, 4])
    expect(near(at(back, 2, 2), RED, 4)).toBe(true)
  })
})

describe('errors', () => {
  test('garbage or truncated bytes are a 502 (the upstream sent something unreadable)', async () => {
    await expect(decode(new Uint8Array([1, 2, 3, 4, 5]), 'jpg')).rejects.toMatchObject({ status: 502 })
    const png = await encode(quadrants(16, 16), 'png', { quality: 100 })
    await expect(decode(png.subarray(0, 40), 'png')).rejects.toMatchObject({ status: 502 })
    const webp = codecs.webp.encode(quadrants(16, 16).data, { width: 16, height: 16, quality: 80 })
    await expect(decode(webp.subarray(0, 30), 'webp')).rejects.toMatchObject({ status: 502 })
  })
})

describe('quality', () => {
  test('q_auto levels map to fixed qualities per format; no q_ is q_auto:good', () => {
    expect(
      ['best', 'good', 'eco', 'low'].map((level) => resolveQuality({ kind: 'auto', level } as never, 'jpg')),
    ).toEqual([90, 80, 65, 50])
    expect(resolveQuality({ kind: 'auto', level: 'good' }, 'webp')).toBe(AUTO_QUALITY.webp.good)
    expect(AUTO_QUALITY.webp.good).toBeLessThan(AUTO_QUALITY.jpg.good)
    expect(resolveQuality(undefined, 'jpg')).toBe(80)
  })
  test('a fixed q_ is used as is, clamped to 1–100', () => {
    expect(resolveQuality({ kind: 'fixed', value: 37 }, 'jpg')).toBe(37)
    expect(resolveQuality({ kind: 'fixed', value: 500 }, 'webp')).toBe(100)
  })
})

/** The start-of-frame marker (C0 baseline, C2 progressive) and each component's sampling byte. */
function startOfFrame(jpeg: Uint8Array): { marker: number; sampling: number[] } {
  let i = 2
  while (i + 4 < jpeg.length) {
    const marker = jpeg[i + 1]!
    const length = (jpeg[i + 2]! << 8) | jpeg[i + 3]!
    if (marker === 0xc0 || marker === 0xc2) {
      const count = jpeg[i + 9]!
      return { marker, sampling: Array.from({ length: count }, (_, c) => jpeg[i + 11 + c * 3]!) }
    }
    i += 2 + length
  }
  throw new Error('no SOF')
}

describe('JPEG encoding (mozjpeg)', () => {
  const photo = quadrants(64, 64)

  test('baseline by default, progressive on request', async () => {
    expect(startOfFrame(await encode(photo, 'jpg', { quality: 80 })).marker).toBe(0xc0)
    expect(startOfFrame(await encode(photo, 'jpg', { quality: 80, progressive: true })).marker).toBe(0xc2)
  })

  test('4:2:0 chroma by default, full chroma for q_N:444', async () => {
    expect(startOfFrame(await encode(photo, 'jpg', { quality: 80 })).sampling[0]).toBe(0x22)
    expect(startOfFrame(await encode(photo, 'jpg', { quality: 80, fullChroma: true })).sampling[0]).toBe(0x11)
  })

  test('smaller than imagescript’s own encoder at the same quality', async () => {
    const ours = await encode(photo, 'jpg', { quality: 80 })
    const theirs = await codecs.jpeg.encode_async(photo.data, { width: 64, height: 64, quality: 80 })
    expect(ours.byteLength).toBeLessThan(theirs.byteLength)
  })
})
