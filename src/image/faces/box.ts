/** From the Haar square to the face box our data sets use: hairline to chin, cheek to cheek. */
import type { Rect } from '../types.ts'
import type { TiltedSquare } from './focus.ts'
import { DEFAULT_TUNING, type Tuning } from './tuning.ts'

/**
 * Haar square → hairline-to-chin box (w/h ≈ 0.73), clipped to the image. Upright: fixed ratios of
 * the square's side (`boxWidth`, `boxHeight`, `boxShiftDown`). Tilted: the same box turned with
 * the face, then the axis-aligned hull of that box taken as an ellipse, which is how the data
 * sets box a tilted face (extreme template points, not the corners of a turned box).
 */
export function mapToHairlineChin(
  square: TiltedSquare,
  image: { width: number; height: number },
  tuning: Tuning = DEFAULT_TUNING,
): Rect {
  const width = tuning.boxWidth * square.side
  const height = tuning.boxHeight * square.side
  const radians = (square.angle * Math.PI) / 180
  // The face's "down" in the source image, undoing the rotation try.
  const cx = square.cx + tuning.boxShiftDown * square.side * Math.sin(radians)
  const cy = square.cy + tuning.boxShiftDown * square.side * Math.cos(radians)
  const cos = Math.abs(Math.cos(radians))
  const sin = Math.abs(Math.sin(radians))
  const hullWidth = 2 * Math.sqrt((width / 2) ** 2 * cos * cos + (height / 2) ** 2 * sin * sin)
  const hullHeight = 2 * Math.sqrt((width / 2) ** 2 * sin * sin + (height / 2) ** 2 * cos * cos)
  const left = Math.max(0, cx - hullWidth / 2)
  const top = Math.max(0, cy - hullHeight / 2)
  const right = Math.min(image.width, cx + hullWidth / 2)
  const bottom = Math.min(image.height, cy + hullHeight / 2)
  return { x: roundTenth(left), y: roundTenth(top), w: roundTenth(right - left), h: roundTenth(bottom - top) }
}

const roundTenth = (value: number) => Math.round(value * 10) / 10
