/**
 * Faces of an encoded original, in upright (EXIF-oriented) source pixels: what gets persisted with
 * the picture and what face gravity later works with.
 *
 * The detector works on a reduced copy anyway (its smallest face is a share of the shorter side),
 * so a JPEG is decoded straight at 1/2–1/4–1/8 scale when that loses nothing: about 30 ms instead
 * of 51 ms per 1024² portrait, with the same boxes (checked by `bench/faces.ts --shrink`).
 */
import { decode, JPEG_DCT_SHRINKS } from '../codecs.ts'
import { probeImage } from '../../lib/image-header.ts'
import { orientedSize } from '../transform.ts'
import type { Rect } from '../types.ts'
import type { ImageFormat } from '../../url/types.ts'
import { detectFaces, workingReduction } from './index.ts'

export async function findFaces(bytes: Uint8Array, format: ImageFormat): Promise<Rect[]> {
  const header = probeImage(bytes)
  const upright = header.ok ? orientedSize(header.value, header.value.orientation) : undefined
  const reduction = upright ? workingReduction(upright.width, upright.height) : 1
  // The largest DCT shrink that keeps at least the working resolution.
  const shrink = [...JPEG_DCT_SHRINKS].reverse().find((s) => s <= reduction) ?? 1

  const bitmap = await decode(bytes, format, { autoOrient: true, shrink })
  // Boxes back in the original's upright pixels, whatever scale the decode was at.
  const sx = upright ? upright.width / bitmap.width : 1
  const sy = upright ? upright.height / bitmap.height : 1
  return detectFaces(bitmap).map(({ x, y, w, h }) => ({ x: x * sx, y: y * sy, w: w * sx, h: h * sy }))
}
