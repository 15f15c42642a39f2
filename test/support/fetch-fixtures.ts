/** Hand-made image headers for the size checks (nothing after the header is valid image data). */

const be32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]

/** PNG signature + IHDR (8-bit RGBA) claiming `width`×`height`. The CRC is computed, so it is a valid start. */
export function hugePngHeader(width: number, height: number): Uint8Array {
  const ihdr = [...Array.from('IHDR', (c) => c.charCodeAt(0)), ...be32(width), ...be32(height), 8, 6, 0, 0, 0]
  return new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...be32(13), ...ihdr, ...be32(crc32(ihdr))])
}

/**
 * A GIF whose logical screen is 1×1 but whose first frame claims `width`×`height`: what a decoder
 * allocates is the frame (a "frame bomb" hides behind a tiny screen).
 */
export function gifFrameBomb(width: number, height: number): Uint8Array {
  const le16 = (n: number) => [n & 0xff, n >> 8]
  const screen = [...le16(1), ...le16(1), 0x00, 0x00, 0x00]
  const comment = [0x21, 0xfe, 3, 0x61, 0x62, 0x63, 0]
  const descriptor = [0x2c, ...le16(0), ...le16(0), ...le16(width), ...le16(height), 0x00]
  return new Uint8Array([...Array.from('GIF89a', (c) => c.charCodeAt(0)), ...screen, ...comment, ...descriptor])
}

/** SOI + baseline SOF0 claiming `width`×`height` (3 components). */
export function hugeJpegHeader(width: number, height: number): Uint8Array {
  return new Uint8Array([
    0xff,
    0xd8,
    0xff,
    0xc0,
    0,
    17,
    8,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    3,
    1,
    0x22,
    0,
    2,
    0x11,
    1,
    3,
    0x11,
    1,
  ])
}

/** RIFF/WEBP with a VP8X chunk whose canvas is `width`×`height`. */
export function hugeWebpHeader(width: number, height: number): Uint8Array {
  const le24 = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff]
  return new Uint8Array([
    ...Array.from('RIFF', (c) => c.charCodeAt(0)),
    0xff,
    0xff,
    0xff,
    0x0f,
    ...Array.from('WEBPVP8X', (c) => c.charCodeAt(0)),
    10,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    ...le24(width - 1),
    ...le24(height - 1),
  ])
}

function crc32(bytes: number[]): number {
  let crc = 0xffffffff
  for (const b of bytes) {
    crc ^= b
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1
  }
  return (crc ^ 0xffffffff) >>> 0
}
