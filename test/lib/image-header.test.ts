import { beforeAll, describe, expect, test } from 'bun:test'
import { Frame, GIF, Image } from 'imagescript'
import { decodeSize, NEED_MORE_BYTES, probeImage } from '../../src/lib/image-header.ts'
import { gifFrameBomb, hugeJpegHeader, hugePngHeader, hugeWebpHeader } from '../support/fetch-fixtures.ts'
import { gif as writeGif } from '../support/hostile-images.ts'

const bytesOf = (...parts: Array<number[] | string>): Uint8Array =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? Array.from(p, (c) => c.charCodeAt(0)) : p)))

/** Real encoder output, 37×23 so width and height cannot be confused. */
const real: Record<'png' | 'jpg' | 'webp_lossy' | 'gif', Uint8Array> = {} as never

beforeAll(async () => {
  const image = new Image(37, 23)
  image.fill(0x3366ccff)
  real.png = await image.encode()
  real.jpg = await image.encodeJPEG(80)
  real.webp_lossy = await image.encodeWEBP(80)
  real.gif = await new GIF([Frame.from(image)]).encode()
})

describe('probeImage on real images', () => {
  test.each([
    ['png', 'png'],
    ['jpg', 'jpg'],
    ['webp_lossy', 'webp'],
    ['gif', 'gif'],
  ] as const)('%s', (key, format) => {
    expect(probeImage(real[key])).toMatchObject({ ok: true, value: { format, width: 37, height: 23 } })
  })

  test('lossless WebP (VP8L) and WebP with alpha (VP8X)', async () => {
    const lossless = await new Image(37, 23).encodeWEBP(null)
    expect(lossless[15]).toBe('L'.charCodeAt(0)) // really the VP8L variant
    expect(probeImage(lossless)).toMatchObject({ ok: true, value: { format: 'webp', width: 37, height: 23 } })

    const vp8x = bytesOf('RIFF', [0, 0, 0, 0], 'WEBPVP8X', [10, 0, 0, 0], [0x10, 0, 0, 0], [36, 0, 0], [22, 0, 0])
    expect(probeImage(vp8x)).toMatchObject({ ok: true, value: { format: 'webp', width: 37, height: 23 } })
  })

  test('an animated GIF reports its logical screen', async () => {
    const frames = [Frame.from(new Image(40, 30)), Frame.from(new Image(40, 30))]
    const gif = await new GIF(frames).encode()
    expect(probeImage(gif)).toMatchObject({ ok: true, value: { format: 'gif', width: 40, height: 30 } })
  })

  test('only the header is needed: the first bytes of each real image are enough', () => {
    expect(probeImage(real.png.subarray(0, 24))).toMatchObject({ ok: true })
    // A GIF is read through its first image descriptor (the frame is what a decoder allocates).
    expect(probeImage(real.gif.subarray(0, 1024))).toMatchObject({ ok: true })
    expect(probeImage(real.webp_lossy.subarray(0, 30))).toMatchObject({ ok: true })
  })
})

describe('JPEG marker walk', () => {
  const sof = (marker: number, w: number, h: number): number[] => [
    0xff,
    marker,
    0,
    11,
    8,
    h >> 8,
    h & 0xff,
    w >> 8,
    w & 0xff,
    1,
    1,
    0x11,
    0,
  ]
  const segment = (marker: number, payload: number[]): number[] => [
    0xff,
    marker,
    (payload.length + 2) >> 8,
    (payload.length + 2) & 0xff,
    ...payload,
  ]

  test('skips APPn, DQT, DHT, DAC and the JPG marker to reach a progressive SOF2', () => {
    const jpeg = bytesOf(
      [0xff, 0xd8],
      segment(
        0xe0,
        Array.from('JFIF\0', (c) => c.charCodeAt(0)),
      ),
      segment(0xe1, new Array(3000).fill(0)), // a big EXIF block
      segment(0xdb, new Array(65).fill(1)),
      segment(0xc4, new Array(20).fill(0)), // DHT shares the SOF range but is a table
      segment(0xcc, [0, 0]), // DAC
      segment(0xc8, [0, 0]), // JPG
      sof(0xc2, 640, 480),
    )
    expect(probeImage(jpeg)).toMatchObject({ ok: true, value: { format: 'jpg', width: 640, height: 480 } })
  })

  test('fill bytes before a marker and standalone markers are skipped', () => {
    const jpeg = bytesOf(
      [0xff, 0xd8, 0xff, 0xff, 0xff],
      segment(0xe0, [1, 2]).slice(1),
      [0xff, 0x01],
      [0xff, 0xd0],
      sof(0xc0, 1, 2),
    )
    expect(probeImage(jpeg)).toMatchObject({ ok: true, value: { format: 'jpg', width: 1, height: 2 } })
  })

  test('every prefix of a real JPEG before its SOF asks for more bytes, never "not an image"', () => {
    const jpeg = real.jpg
    let sofEnd = 0
    for (let n = 0; n <= jpeg.length; n++) {
      const r = probeImage(jpeg.subarray(0, n))
      if (r.ok) {
        sofEnd = n
        break
      }
      expect(r.error).toBe(NEED_MORE_BYTES)
    }
    expect(sofEnd).toBeGreaterThan(20) // SOI, a JFIF APP0 segment, then SOF0 up to its width field
  })

  test.each([
    ['scan before a frame header', [0xff, 0xd8, 0xff, 0xda, 0, 2]],
    ['end of image before a frame header', [0xff, 0xd8, 0xff, 0xd9]],
    ['garbage where a marker belongs', [0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0x12, 0x34]],
    ['a segment length below 2', [0xff, 0xd8, 0xff, 0xe0, 0, 1]],
    ['a frame header with height deferred to DNL', sof(0xc0, 100, 0).map((b, i) => (i === 0 ? 0xff : b))],
  ])('refuses %s', (_name, body) => {
    const bytes = body[1] === 0xd8 ? bytesOf(body) : bytesOf([0xff, 0xd8], body)
    const r = probeImage(bytes)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error).not.toBe(NEED_MORE_BYTES)
  })
})

describe('prefixes: "need more bytes" versus "not an image"', () => {
  test.each([
    ['nothing', []],
    ['half a PNG signature', [0x89, 0x50, 0x4e]],
    ['a PNG signature without IHDR', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49]],
    ['"GIF8"', Array.from('GIF8', (c) => c.charCodeAt(0))],
    ['a GIF signature without the screen size', Array.from('GIF89a\x25\x00', (c) => c.charCodeAt(0))],
    ['"RIFF" and a size', [...Array.from('RIFF', (c) => c.charCodeAt(0)), 1, 2, 3, 4]],
    ['RIFF…WEBPVP8 without the frame header', [...Array.from('RIFF\0\0\0\0WEBPVP8 ', (c) => c.charCodeAt(0)), 1, 2, 3]],
    ['JPEG SOI + a marker without its length', [0xff, 0xd8, 0xff, 0xe0]],
  ])('%s → need more bytes', (_name, prefix) => {
    expect(probeImage(new Uint8Array(prefix))).toEqual({ ok: false, error: NEED_MORE_BYTES })
  })

  test.each([
    ['an HTML error page', '<!DOCTYPE html><html><body>Not found</body></html>'],
    ['HTML with leading whitespace', '\n  <html>'],
    ['JSON', '{"error":"rate limited"}'],
    ['SVG', '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'],
    ['BMP', 'BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00'],
    ['TIFF (little endian)', 'II*\x00\x08\x00\x00\x00'],
    ['TIFF (big endian)', 'MM\x00*\x00\x00\x00\x08'],
    ['AVIF', '\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1'],
    ['RIFF WAVE audio', 'RIFF\x24\x00\x00\x00WAVEfmt '],
    ['a single byte that starts no format', 'x'],
  ])('%s → not an image', (_name, text) => {
    const r = probeImage(bytesOf(text))
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error).not.toBe(NEED_MORE_BYTES)
  })

  test.each([
    [
      'PNG whose first chunk is not IHDR (Apple CgBI)',
      [
        0x89,
        0x50,
        0x4e,
        0x47,
        0x0d,
        0x0a,
        0x1a,
        0x0a,
        0,
        0,
        0,
        4,
        ...Array.from('CgBI', (c) => c.charCodeAt(0)),
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
      ],
    ],
    ['WebP with an unknown first chunk', Array.from('RIFF\0\0\0\0WEBPVP9 ', (c) => c.charCodeAt(0))],
    [
      'lossy WebP that is not a key frame',
      [
        ...Array.from('RIFF\0\0\0\0WEBPVP8 ', (c) => c.charCodeAt(0)),
        0,
        0,
        0,
        0,
        1,
        0,
        0,
        0x9d,
        0x01,
        0x2a,
        10,
        0,
        10,
        0,
      ],
    ],
    [
      'a PNG of zero width',
      [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 0, 0, 0, 0, 5],
    ],
    [
      'a GIF of zero height',
      Array.from('GIF89a\x05\x00\x00\x00\x00\x00\x00\x2c\x00\x00\x00\x00\x05\x00\x00\x00\x00', (c) => c.charCodeAt(0)),
    ],
  ])('refuses %s', (_name, body) => {
    const r = probeImage(new Uint8Array(body))
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error).not.toBe(NEED_MORE_BYTES)
  })
})

describe('crafted headers claiming 20000×20000 are read, not trusted to be small', () => {
  test.each([
    ['png', hugePngHeader(20_000, 20_000)],
    ['jpg', hugeJpegHeader(20_000, 20_000)],
    ['webp', hugeWebpHeader(20_000, 20_000)],
  ] as const)('%s', (format, header) => {
    expect(probeImage(header)).toMatchObject({ ok: true, value: { format, width: 20_000, height: 20_000 } })
  })

  test('gif (the format caps dimensions at 65535)', () => {
    const descriptor = [0x2c, 0, 0, 0, 0, 0x20, 0x4e, 0x20, 0x4e, 0]
    expect(probeImage(bytesOf('GIF89a', [0x20, 0x4e, 0x20, 0x4e, 0, 0, 0, ...descriptor]))).toMatchObject({
      ok: true,
      value: { format: 'gif', width: 20_000, height: 20_000 },
    })
  })

  test('gif frame bomb: a 1×1 screen with an 8000×8000 first frame decodes to 1×1, at the cost of 8000×8000', () => {
    const probe = probeImage(gifFrameBomb(8000, 8000))
    expect(probe).toEqual({
      ok: true,
      value: {
        format: 'gif',
        width: 1,
        height: 1,
        decode: { width: 8000, height: 8000 },
        mayHaveAlpha: true,
        orientation: 1,
      },
    })
    expect(probe.ok && decodeSize(probe.value)).toEqual({ width: 8000, height: 8000 })
    // A frame placed beyond the screen counts from the screen's origin to its far corner.
    const placed = probeImage(writeGif({ width: 10, height: 10 }, [{ left: 60_000, top: 5, width: 1, height: 1 }]))
    expect(placed).toMatchObject({ ok: true, value: { width: 10, height: 10, decode: { width: 60_001, height: 10 } } })
    // A frame within its screen costs what the screen does.
    const sane = probeImage(writeGif({ width: 10, height: 10 }, [{ left: 2, top: 2, width: 8, height: 8 }]))
    expect(sane.ok && sane.value.decode).toBeUndefined()
    expect(sane.ok && decodeSize(sane.value)).toEqual({ width: 10, height: 10 })
    // Cut before the frame's descriptor, the size is not known yet.
    expect(probeImage(gifFrameBomb(8000, 8000).subarray(0, 18))).toEqual({ ok: false, error: NEED_MORE_BYTES })
  })
})
