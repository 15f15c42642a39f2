/** In-plane rotation of a grey image (for tilted faces) and the mapping of points back. */
import type { Gray } from './haar.ts'

export interface Rotated {
  image: Gray
  /** Maps a point of the rotated image back to the source image. */
  back: (x: number, y: number) => [number, number]
}

/**
 * Rotates `g` by `deg` (counter-clockwise as seen on screen, y down) about its centre onto a canvas
 * large enough for the whole image, scaled by `scale` (≤ 1 shrinks). Bilinear; the corners outside
 * the source take the value `fill` (use the image mean so no strong edges appear).
 */
export function rotateGray(g: Gray, deg: number, scale: number, fill: number): Rotated {
  const a = (deg * Math.PI) / 180
  const cos = Math.cos(a)
  const sin = Math.sin(a)
  const { width: W, height: H, data } = g
  const ow = Math.max(1, Math.round((Math.abs(W * cos) + Math.abs(H * sin)) * scale))
  const oh = Math.max(1, Math.round((Math.abs(W * sin) + Math.abs(H * cos)) * scale))
  const out = new Float32Array(ow * oh)
  const cx = W / 2
  const cy = H / 2
  const ocx = ow / 2
  const ocy = oh / 2
  const inv = 1 / scale
  // Source position of output pixel centre (u, v): R(−a)·((u, v) − oc)/scale + c.
  for (let v = 0; v < oh; v++) {
    const dy = (v + 0.5 - ocy) * inv
    let sx = (0.5 - ocx) * inv * cos + dy * sin + cx - 0.5
    let sy = -(0.5 - ocx) * inv * sin + dy * cos + cy - 0.5
    const ix = inv * cos
    const iy = -inv * sin
    const o = v * ow
    for (let u = 0; u < ow; u++, sx += ix, sy += iy) {
      if (sx < -0.5 || sy < -0.5 || sx > W - 0.5 || sy > H - 0.5) {
        out[o + u] = fill
        continue
      }
      let x0 = Math.floor(sx)
      let y0 = Math.floor(sy)
      let fx = sx - x0
      let fy = sy - y0
      if (x0 < 0) { x0 = 0; fx = 0 }
      if (y0 < 0) { y0 = 0; fy = 0 }
      if (x0 >= W - 1) { x0 = W - 1; fx = 0 }
      if (y0 >= H - 1) { y0 = H - 1; fy = 0 }
      const p = y0 * W + x0
      const x1 = fx > 0 ? 1 : 0
      const y1 = fy > 0 ? W : 0
      const t = data[p]! + (data[p + x1]! - data[p]!) * fx
      const b = data[p + y1]! + (data[p + y1 + x1]! - data[p + y1]!) * fx
      out[o + u] = t + (b - t) * fy
    }
  }
  return {
    image: { width: ow, height: oh, data: out },
    back: (x, y) => {
      const dx = (x - ocx) * inv
      const dy = (y - ocy) * inv
      return [dx * cos + dy * sin + cx, -dx * sin + dy * cos + cy]
    },
  }
}
