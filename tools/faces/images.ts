/**
 * The face sets as the research tools and the benchmark read them: ground truth, decoded bitmaps
 * (optionally mirrored: new pixels for the same faces), and a cache of decoded pixels between
 * runs (FACES_CACHE=/tmp/dir, development only: decoding costs more than detecting).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { decode } from '../../src/image/codecs.ts'
import { flip } from '../../src/image/transform.ts'
import type { Bitmap } from '../../src/image/types.ts'
import { FACE_SETS, facesDataDir, haveFaceData, readImageBytes, type FaceSet } from '../../test/support/face-data.ts'

export { readGroundTruth, readImageBytes, type GroundTruthImage } from '../../test/support/face-data.ts'

function cachePath(set: FaceSet, file: string): string | undefined {
  const cacheDir = process.env.FACES_CACHE
  return cacheDir ? join(cacheDir, set, `${file}.rgba`) : undefined
}

/** The decoded pixels from the cache, when it is on and holds them. */
export function cachedBitmap(set: FaceSet, file: string): Bitmap | undefined {
  const path = cachePath(set, file)
  if (!path || !existsSync(path)) return undefined
  const bytes = readFileSync(path)
  const width = bytes.readUInt32LE(0)
  const height = bytes.readUInt32LE(4)
  return { width, height, data: new Uint8Array(bytes.buffer, bytes.byteOffset + 8, width * height * 4) }
}

/** Stores decoded pixels in the cache (when it is on): width and height, then RGBA. */
export function cacheBitmap(set: FaceSet, file: string, bitmap: Bitmap): void {
  const path = cachePath(set, file)
  if (!path) return
  mkdirSync(join(process.env.FACES_CACHE!, set), { recursive: true })
  const header = Buffer.alloc(8)
  header.writeUInt32LE(bitmap.width, 0)
  header.writeUInt32LE(bitmap.height, 4)
  const pixels = Buffer.from(bitmap.data.buffer, bitmap.data.byteOffset, bitmap.data.byteLength)
  writeFileSync(path, Buffer.concat([header, pixels]))
}

/** The full-size bitmap of one image, from the cache or decoded (and then cached). */
export async function loadBitmap(set: FaceSet, file: string, options: { mirror?: boolean } = {}): Promise<Bitmap> {
  let bitmap = cachedBitmap(set, file)
  if (!bitmap) {
    bitmap = await decode(readImageBytes(set, file), 'jpg')
    cacheBitmap(set, file, bitmap)
  }
  return options.mirror ? flip(bitmap, 'h') : bitmap
}

/** The sets named on a command line: one of them, or `all`. */
export function pickSets(name: string): readonly FaceSet[] {
  if (name === 'all') return FACE_SETS
  if (!(FACE_SETS as readonly string[]).includes(name)) throw new Error(`unknown face set ${name}`)
  return [name as FaceSet]
}

/** Stops the tool with a message when the sets are missing (they are not part of the repository). */
export function requireFaceData(sets: readonly FaceSet[]): void {
  if (haveFaceData(...sets)) return
  console.error(`face data not found in ${facesDataDir()}: set HEADSHOT_FACES_DATA (see test/support/face-data.ts)`)
  process.exit(2)
}
