/**
 * Faces of an encoded original, in upright (EXIF-oriented) source pixels: what gets persisted with
 * the picture and what face gravity later works with.
 *
 * The detector works on a reduced copy anyway (its smallest face is a share of the shorter side),
 * so a JPEG is decoded straight at 1/2–1/4–1/8 scale when that loses nothing: about 30 ms instead
 * of 51 ms per 1024² portrait, with the same boxes (checked by `bench/faces.ts --shrink`).
 */
import { decode } from '../codecs.ts'
import { probeImage } from '../probe.ts'
import type { FaceBox } from '../types.ts'
import type { SourceFormat } from '../../url/types.ts'
import { detectFaces, workingReduction } from './index.ts'

const DCT_SHRINKS = [8, 4, 2] as const

export async function findFaces(bytes: Uint8Array, format: SourceFormat): Promise<FaceBox[]> {
  const header = probeImage(bytes)
  const turned = (header?.orientation ?? 1) >= 5
  const width = header ? (turned ? header.height : header.width) : 0
  const height = header ? (turned ? header.width : header.height) : 0
  const reduction = header ? workingReduction(width, height) : 1
  const shrink = DCT_SHRINKS.find((factor) => factor <= reduction) ?? 1

  const bitmap = await decode(bytes, format, { autoOrient: true, shrink })
  const scaleX = width > 0 ? width / bitmap.width : 1
  const scaleY = height > 0 ? height / bitmap.height : 1
  return detectFaces(bitmap).map(({ x, y, w, h }) =>
    ({ x: x * scaleX, y: y * scaleY, w: w * scaleX, h: h * scaleY }))
}
