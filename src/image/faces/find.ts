/**
 * Faces of an encoded original, in upright (EXIF-oriented) source pixels: what gets persisted with
 * the picture and what face gravity later works with.
 */
import { decode } from '../codecs.ts'
import type { FaceBox } from '../types.ts'
import type { SourceFormat } from '../../url/types.ts'
import { detectFaces } from './index.ts'

export async function findFaces(bytes: Uint8Array, format: SourceFormat): Promise<FaceBox[]> {
  const bitmap = await decode(bytes, format, { autoOrient: true })
  return detectFaces(bitmap).map(({ x, y, w, h }) => ({ x, y, w, h }))
}
