import { describe, expect, test } from 'bun:test'
import codecs from 'imagescript/codecs/node/index.js'
import { encode } from '../../src/image/codecs.ts'
import { probeImage as readHeader, sniffFormat } from '../../src/lib/image-header.ts'

/** The header, or undefined when the bytes are not an image we read. */
const probeImage = (bytes: Uint8Array) => {
  const header = readHeader(bytes)
  return header.ok ? header.value : undefined
}
import { quadrants, RED, solid } from '../support/image-fixtures.ts'
import { withExifOrientation } from '../support/jpeg-exif.ts'
// imagescript's pure-JS PNG writer can write RGB (colour type 2), the native one only RGBA.
import pngjs from 'imagescript/png/node.js'

describe('probeImage reads size and alpha from headers only', () => {
  test('JPEG: size from SOF, never alpha, orientation from EXIF (both byte orders)', async () => {
    const jpg = await encode(quadrants(37, 21), 'jpg', { quality: 80 })
    expect(probeImage(jpg)).toEqual({ format: 'jpg', width: 37, height: 21, mayHaveAlpha: false, orientation: 1 })
    expect(probeImage(withExifOrientation(jpg, 6))!.orientation).toBe(6)
    expect(probeImage(withExifOrientation(jpg, 8, 'II'))!.orientation).toBe(8)
  })
  test('PNG: RGBA may have alpha, RGB does not, RGB + tRNS does', async () => {
    const rgba = await encode(solid(5, 3, RED), 'png', { quality: 100 })
    expect(probeImage(rgba)).toEqual({ format: 'png', width: 5, height: 3, mayHaveAlpha: true, orientation: 1 })
    const rgb: Uint8Array = pngjs.encode(new Uint8Array(5 * 3 * 3), { width: 5, height: 3, channels: 3 })
    expect(probeImage(rgb)!.mayHaveAlpha).toBe(false)
    // splice a tRNS chunk before IDAT (after the 33-byte signature + IHDR)
    const trns = new Uint8Array([0, 0, 0, 6, 0x74, 0x52, 0x4e, 0x53, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    const withTrns = new Uint8Array([...rgb.subarray(0, 33), ...trns, ...rgb.subarray(33)])
    expect(probeImage(withTrns)!.mayHaveAlpha).toBe(true)
  })
  test('GIF: logical screen size; may always have alpha', async () => {
    expect(probeImage(await encode(solid(7, 9, RED), 'gif', { quality: 80 }))).toEqual({
      format: 'gif',
      width: 7,
      height: 9,
      mayHaveAlpha: true,
      orientation: 1,
    })
  })
  test('WebP: VP8X, VP8L and plain VP8 headers', () => {
    const vp8l = codecs.webp.encode(solid(300, 2, RED).data, { width: 300, height: 2, quality: null })
    expect(probeImage(vp8l)).toMatchObject({ format: 'webp', width: 300, height: 2 })
    const opaque = codecs.webp.encode(solid(5000, 1, RED).data, { width: 5000, height: 1, quality: 80 })
    expect(String.fromCharCode(...opaque.subarray(12, 16))).toBe('VP8 ')
    expect(probeImage(opaque)).toEqual({ format: 'webp', width: 5000, height: 1, mayHaveAlpha: false, orientation: 1 })
    const translucent = codecs.webp.encode(solid(20, 10, { ...RED, a: 128 }).data, {
      width: 20,
      height: 10,
      quality: 80,
    })
    expect(String.fromCharCode(...translucent.subarray(12, 16))).toBe('VP8X')
    expect(probeImage(translucent)).toEqual({
      format: 'webp',
      width: 20,
      height: 10,
      mayHaveAlpha: true,
      orientation: 1,
    })
    // A simple lossy file's header: RIFF, 'VP8 ', frame tag, start code 9d 01 2a, 14-bit sizes.
    const vp8 = new Uint8Array(30)
    vp8.set(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 '))
    vp8.set([0x9d, 0x01, 0x2a, 640 & 0xff, 640 >> 8, 480 & 0xff, 480 >> 8], 23)
    expect(probeImage(vp8)).toEqual({ format: 'webp', width: 640, height: 480, mayHaveAlpha: false, orientation: 1 })
  })
  test('anything else is undefined', () => {
    expect(probeImage(new Uint8Array([0x47, 0x49, 0x46]))).toBeUndefined()
    expect(probeImage(new TextEncoder().encode('<svg></svg>'))).toBeUndefined()
    expect(sniffFormat(new Uint8Array(0))).toBeUndefined()
  })
})
