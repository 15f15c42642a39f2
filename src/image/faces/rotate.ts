/** In-plane rotation of a grey image (for tilted faces) and the mapping of points back. */
import type { Gray } from './haar.ts'

export interface Rotated {
  image: Gray
  /** Maps a point of the rotated image back to the source image. */
  back: (x: number, y: number) => [number, number]
}

/**
 * Rotates `image` by `degrees` (counter-clockwise as seen on screen, y down) about its centre onto
 * a canvas large enough for the whole image, scaled by `scale` (≤ 1 shrinks). Bilinear; the corners
 * outside the source take the value `outside` (use the image mean so no strong edges appear).
 */
export function rotateGray(image: Gray, degrees: number, scale: number, outside: number): Rotated {
  const radians = (degrees * Math.PI) / 180
  const cos = Math.cos(radians)
  const sin = Math.sin(radians)
  const { width: sourceWidth, height: sourceHeight, data } = image
  const width = Math.max(1, Math.round((Math.abs(sourceWidth * cos) + Math.abs(sourceHeight * sin)) * scale))
  const height = Math.max(1, Math.round((Math.abs(sourceWidth * sin) + Math.abs(sourceHeight * cos)) * scale))
  const out = new Float32Array(width * height)
  const sourceCx = sourceWidth / 2
  const sourceCy = sourceHeight / 2
  const centreX = width / 2
  const centreY = height / 2
  const inverse = 1 / scale
  // Source position of output pixel centre (u, v): R(−a)·((u, v) − centre)/scale + source centre.
  for (let v = 0; v < height; v++) {
    const offsetV = (v + 0.5 - centreY) * inverse
    let sourceX = (0.5 - centreX) * inverse * cos + offsetV * sin + sourceCx - 0.5
    let sourceY = -(0.5 - centreX) * inverse * sin + offsetV * cos + sourceCy - 0.5
    const stepX = inverse * cos
    const stepY = -inverse * sin
    const rowStart = v * width
    for (let u = 0; u < width; u++, sourceX += stepX, sourceY += stepY) {
      if (sourceX < -0.5 || sourceY < -0.5 || sourceX > sourceWidth - 0.5 || sourceY > sourceHeight - 0.5) {
        out[rowStart + u] = outside
        continue
      }
      let left = Math.floor(sourceX)
      let top = Math.floor(sourceY)
      let rightWeight = sourceX - left
      let bottomWeight = sourceY - top
      if (left < 0) {
        left = 0
        rightWeight = 0
      }
      if (top < 0) {
        top = 0
        bottomWeight = 0
      }
      if (left >= sourceWidth - 1) {
        left = sourceWidth - 1
        rightWeight = 0
      }
      if (top >= sourceHeight - 1) {
        top = sourceHeight - 1
        bottomWeight = 0
      }
      const at = top * sourceWidth + left
      const toRight = rightWeight > 0 ? 1 : 0
      const toBottom = bottomWeight > 0 ? sourceWidth : 0
      const upper = data[at]! + (data[at + toRight]! - data[at]!) * rightWeight
      const lower = data[at + toBottom]! + (data[at + toBottom + toRight]! - data[at + toBottom]!) * rightWeight
      out[rowStart + u] = upper + (lower - upper) * bottomWeight
    }
  }
  return {
    image: { width, height, data: out },
    back: (x, y) => {
      const offsetX = (x - centreX) * inverse
      const offsetY = (y - centreY) * inverse
      return [offsetX * cos + offsetY * sin + sourceCx, -offsetX * sin + offsetY * cos + sourceCy]
    },
  }
}
