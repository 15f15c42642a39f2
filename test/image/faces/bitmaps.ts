/** Small synthetic bitmaps and candidates for the face detector's tests. */
import type { Candidate } from '../../../src/image/faces/verify.ts'
import type { Bitmap } from '../../../src/image/types.ts'

/** A grey bitmap whose pixel (x, y) has the level `level(x, y)` (0–255) in R, G and B. */
export function greyBitmap(width: number, height: number, level: (x: number, y: number) => number): Bitmap {
  const data = new Uint8Array(width * height * 4)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const value = Math.round(level(x, y))
      data.set([value, value, value, 255], (y * width + x) * 4)
    }
  }
  return { width, height, data }
}

/** Deterministic texture (no face in it): every window has contrast, so the scans evaluate them. */
export function noiseBitmap(width: number, height: number, seed = 1): Bitmap {
  let state = seed
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648
    return state / 2147483648
  }
  return greyBitmap(width, height, () => 40 + 170 * next())
}

/** The part of `bitmap` from (left, top), `width` × `height` pixels. */
export function cropBitmap(bitmap: Bitmap, left: number, top: number, width: number, height: number): Bitmap {
  const data = new Uint8Array(width * height * 4)
  for (let y = 0; y < height; y++) {
    const start = ((top + y) * bitmap.width + left) * 4
    data.set(bitmap.data.subarray(start, start + width * 4), y * width * 4)
  }
  return { width, height, data }
}

/** A candidate with the given square and score, and neutral evidence otherwise. */
export function candidateAt(square: Partial<Candidate> & Pick<Candidate, 'cx' | 'cy' | 'side' | 'score'>): Candidate {
  return { angle: 0, probeWindows: 1, probeStages: 20, windows: 1, margin: 0, secondOpinion: 0, eyes: -1, ...square }
}

/** Whether a point lies inside a box. */
export function inside(point: { x: number; y: number }, box: { x: number; y: number; w: number; h: number }): boolean {
  return point.x >= box.x && point.x <= box.x + box.w && point.y >= box.y && point.y <= box.y + box.h
}
