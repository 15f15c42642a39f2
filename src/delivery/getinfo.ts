/**
 * `fl_getinfo`: what the image URL would deliver, as JSON, computed from the plan alone
 * (`planChain`: the stored size and faces, no decoding). Cloudinary's shape (`input`, `output`
 * with width, height, format) plus what headshot knows about the picture (docs/compatibility.md).
 */
import { planChain } from '../image/pipeline.ts'
import type { ImageLimits, Rect, Size } from '../image/types.ts'
import type { HeldPicture } from '../store/types.ts'
import type { ImageFormat } from '../url/types.ts'
import type { Wanted } from './request.ts'

/** A face box as `[x, y, width, height]` in whole pixels (the shape of Cloudinary's `faces`). */
export type FaceBox = [number, number, number, number]

export interface ImageInfo {
  input: { width: number; height: number; bytes: number; format: ImageFormat }
  output: { width: number; height: number; format: ImageFormat; faces: FaceBox[] | null }
  /** Faces in the original's pixels; null when they were never detected. */
  faces: FaceBox[] | null
  public_id: string
  type: string
  version: number
}

export function describe(wanted: Wanted, picture: HeldPicture, format: ImageFormat, limits: ImageLimits): ImageInfo {
  const source = { width: picture.width, height: picture.height }
  const plan = planChain(wanted.chain, source, limits, picture.faces ?? [])
  const output = plan.output
  return {
    input: { width: source.width, height: source.height, bytes: picture.bytes, format: picture.format },
    output: {
      width: output.width,
      height: output.height,
      format,
      faces: picture.faces === null ? null : visibleBoxes(plan.faces, output),
    },
    faces: picture.faces === null ? null : visibleBoxes(picture.faces, source),
    public_id: wanted.delivery.publicId,
    type: picture.type,
    version: picture.version,
  }
}

/** Boxes clipped to the image, in whole pixels; faces cropped away entirely are left out. */
function visibleBoxes(rects: readonly Rect[], size: Size): FaceBox[] {
  const boxes: FaceBox[] = []
  for (const r of rects) {
    const x0 = Math.max(0, Math.round(r.x))
    const y0 = Math.max(0, Math.round(r.y))
    const x1 = Math.min(size.width, Math.round(r.x + r.w))
    const y1 = Math.min(size.height, Math.round(r.y + r.h))
    if (x1 > x0 && y1 > y0) boxes.push([x0, y0, x1 - x0, y1 - y0])
  }
  return boxes
}
