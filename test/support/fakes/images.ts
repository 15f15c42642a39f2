/**
 * Deterministic, recognisable pictures for the fake upstreams. A picture is a `seed` (say the user
 * name): the body is the seed's colour with a frame in the complementary colour, so a test can
 * tell whose picture arrived: byte for byte (`isPictureOf`) or, after a transformation, by colour (`hasColourOf`).
 * Encoded pictures are cached: the same (seed, size, format) is encoded once per test process.
 */
import { Frame, GIF, Image } from 'imagescript'
import { sniffImage } from '../http.ts'

export type PictureFormat = 'jpg' | 'png' | 'webp' | 'gif'
export type Rgb = readonly [number, number, number]

/** FNV-1a, so a seed always gives the same colour. */
function hash32(text: string): number {
  let hash = 0x811c9dc5
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash
}

/** The body colour of a seed's picture: a saturated hue picked by the seed's hash. */
export function colourOf(seed: string): Rgb {
  const hue = hash32(seed) % 360
  // HSV → RGB with S = 0.85, V = 0.9: bright and far from grey, so JPEG noise cannot blur two seeds together.
  const value = 0.9
  const chroma = value * 0.85
  const x = chroma * (1 - Math.abs(((hue / 60) % 2) - 1))
  const [r, g, b] =
    hue < 60
      ? [chroma, x, 0]
      : hue < 120
        ? [x, chroma, 0]
        : hue < 180
          ? [0, chroma, x]
          : hue < 240
            ? [0, x, chroma]
            : hue < 300
              ? [x, 0, chroma]
              : [chroma, 0, x]
  const offset = value - chroma
  return [Math.round((r + offset) * 255), Math.round((g + offset) * 255), Math.round((b + offset) * 255)]
}

const cache = new Map<string, Promise<Uint8Array>>()

async function encode(seed: string, width: number, height: number, format: PictureFormat): Promise<Uint8Array> {
  const [r, g, b] = colourOf(seed)
  const image = new Image(width, height)
  image.fill(Image.rgbaToColor(255 - r, 255 - g, 255 - b, 255))
  const frame = Math.floor(Math.min(width, height) / 8)
  if (width - 2 * frame > 0 && height - 2 * frame > 0) {
    image.drawBox(frame + 1, frame + 1, width - 2 * frame, height - 2 * frame, Image.rgbaToColor(r, g, b, 255))
  }
  switch (format) {
    case 'jpg':
      return image.encodeJPEG(90)
    case 'png':
      return image.encode(1)
    case 'webp':
      return image.encodeWEBP(90)
    case 'gif':
      return new GIF([Frame.from(image)]).encode()
  }
}

/** A `width`×`height` picture of `seed` in `format` (cached). */
export function makePicture(
  seed: string,
  width: number,
  height: number,
  format: PictureFormat = 'jpg',
): Promise<Uint8Array> {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`bad picture size ${width}x${height}`)
  }
  const key = `${seed}\u0000${width}x${height}\u0000${format}`
  let encoded = cache.get(key)
  if (!encoded) {
    encoded = encode(seed, width, height, format)
    cache.set(key, encoded)
  }
  return encoded
}

export const CONTENT_TYPES: Record<PictureFormat, string> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
}

/** The colour at the centre of an encoded JPEG or PNG (imagescript's Image.decode reads neither GIF nor WebP). */
export async function centreColour(bytes: Uint8Array): Promise<Rgb> {
  const decoded = await Image.decode(bytes)
  // imagescript pixel coordinates are 1-based.
  const [r, g, b] = decoded.getRGBAAt(Math.ceil(decoded.width / 2), Math.ceil(decoded.height / 2))
  return [r!, g!, b!]
}

/**
 * Whether `bytes` are exactly `seed`'s picture as a fake serves it (same size and format, byte for
 * byte). Cheap: no decoding, the encoding is deterministic and cached. For pictures that went
 * through a transformation, use `hasColourOf`.
 */
export async function isPictureOf(bytes: Uint8Array, seed: string): Promise<boolean> {
  const sniffed = sniffImage(bytes)
  if (!sniffed) return false
  return Buffer.from(bytes).equals(await makePicture(seed, sniffed.width, sniffed.height, sniffed.format))
}

/** Whether a (possibly re-encoded, resized) JPEG/PNG still shows `seed`'s colour at its centre. Decodes: slow on big images. */
export async function hasColourOf(bytes: Uint8Array, seed: string, tolerance = 24): Promise<boolean> {
  const actual = await centreColour(bytes)
  const expected = colourOf(seed)
  return actual.every((channel, index) => Math.abs(channel - expected[index]!) <= tolerance)
}
