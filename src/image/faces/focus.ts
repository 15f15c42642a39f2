/**
 * The focused second pass: around one seed, a dense scan (several scales, every position or every
 * other) on a small patch resampled from the working image, turned by the seed's tilt. Returns the
 * windows that pass every stage, as centres and sides in working-image pixels. Also the eye check.
 */
import type { Cascade } from './cascade.ts'
import { allocScanBuffers, levelIntegral, scanLevel, type Gray, type ScanBuffers } from './haar.ts'
import type { Octaves } from './pyramid.ts'

/** A square on the working image: centre, side, and the tilt in degrees of what it frames. */
export interface TiltedSquare {
  cx: number
  cy: number
  side: number
  angle: number
}

/** An accepted window: centre and side in working-image pixels, score = its last stage's margin. */
export interface Window {
  cx: number
  cy: number
  side: number
  score: number
}

/** Buffers reused across calls (grown when needed), one set per scan kind. */
let focusBuffers: ScanBuffers | undefined
let eyeBuffers: ScanBuffers | undefined

export interface PatchOptions {
  /** Centre of the patch, in pixels of the image sampled. */
  cx: number
  cy: number
  /** Image pixels per patch pixel. */
  scale: number
  /**
   * Degrees, the convention of rotateGray: a face tilted by +angle in the image is upright in
   * the patch.
   */
  angle: number
  width: number
  /** Default: `width` (a square patch). */
  height?: number
  /** Grey value outside the image, or negative for the nearest edge pixel. */
  outside: number
}

/** Samples a patch of `image` (bilinear), turned and scaled as `patch` says. */
export function samplePatch(image: Gray, patch: PatchOptions): Gray {
  const { cx, cy, width, outside } = patch
  const height = patch.height ?? width
  const radians = (patch.angle * Math.PI) / 180
  const cos = Math.cos(radians) * patch.scale
  const sin = Math.sin(radians) * patch.scale
  const { width: imageWidth, height: imageHeight, data } = image
  const out = new Float32Array(width * height)
  const centreU = width / 2
  const centreV = height / 2
  for (let v = 0; v < height; v++) {
    const offsetV = v + 0.5 - centreV
    // Source position of the row's first pixel centre, then one step per pixel along the row.
    let sourceX = (0.5 - centreU) * cos + offsetV * sin + cx - 0.5
    let sourceY = -(0.5 - centreU) * sin + offsetV * cos + cy - 0.5
    for (let u = 0, i = v * width; u < width; u++, i++, sourceX += cos, sourceY -= sin) {
      let x = sourceX
      let y = sourceY
      if (x < 0 || y < 0 || x > imageWidth - 1 || y > imageHeight - 1) {
        if (outside >= 0) {
          out[i] = outside
          continue
        }
        // Negative `outside`: clamp to the nearest edge pixel (replicate the border).
        x = x < 0 ? 0 : Math.min(x, imageWidth - 1)
        y = y < 0 ? 0 : Math.min(y, imageHeight - 1)
      }
      const left = x | 0
      const top = y | 0
      const rightWeight = x - left
      const bottomWeight = y - top
      const at = top * imageWidth + left
      const toRight = left + 1 < imageWidth ? 1 : 0
      const toBottom = top + 1 < imageHeight ? imageWidth : 0
      const upper = data[at]! + (data[at + toRight]! - data[at]!) * rightWeight
      const lower = data[at + toBottom]! + (data[at + toBottom + toRight]! - data[at + toBottom]!) * rightWeight
      out[i] = upper + (lower - upper) * bottomWeight
    }
  }
  return { width, height, data: out }
}

export interface FocusOptions {
  /** Window sides to try, as multiples of the seed's side, in trial order. */
  scales: readonly number[]
  /** Half-range of window centres, as a share of the seed's side. */
  range: number
  /** Windows flatter than this σ are not evaluated. */
  minStd: number
  /** Grey value outside the image, or negative for the nearest edge pixel. */
  outside: number
  /** Window step in patch pixels (default 1). */
  step?: number
  /** Stop when the first this-many scales accepted nothing (default: try all). */
  giveUpAfter?: number
  /** Stop after the scale (from the fourth on) by which this many windows were accepted. */
  enoughWindows?: number
  /** Stop after this many accepted windows in all (for counting only: biases the position). */
  maxWindows?: number
  /** Extra scale steps (×/÷ 1.1) allowed beyond `scales` while the extreme scale is busy. */
  extraScales?: number
}

/** Dense scan of `cascade` around `seed` in the working image; the accepted windows. */
export function focusScan(cascade: Cascade, octaves: Octaves, seed: TiltedSquare, options: FocusOptions): Window[] {
  const accepted: Window[] = []
  const window = cascade.winW
  const radians = (seed.angle * Math.PI) / 180
  const cos = Math.cos(radians)
  const sin = Math.sin(radians)
  const step = options.step ?? 1
  const acceptedPerScale = new Map<number, number>()
  const scanScale = (factor: number) => {
    const before = accepted.length
    const windowSide = seed.side * factor
    const scale = windowSide / window // working px per patch px
    const reach = Math.max(step, Math.ceil((options.range * seed.side) / scale / step) * step)
    const size = window + 2 * reach + 1
    if (!focusBuffers || focusBuffers.integral.sum.length < (size + 1) * (size + 1)) {
      const capacity = Math.max(4096, (size + 1) * (size + 1))
      focusBuffers = allocScanBuffers(capacity, Math.ceil(Math.sqrt(capacity)) + 2)
    }
    const remaining = (options.maxWindows ?? Infinity) - accepted.length
    if (remaining <= 0) return
    // Sample from the octave that leaves a reduction in [1, 2): averaged, not point-sampled.
    const octave = octaves.forReduction(scale)
    const patch = samplePatch(octave.image, {
      cx: seed.cx / octave.scale,
      cy: seed.cy / octave.scale,
      scale: scale / octave.scale,
      angle: seed.angle,
      width: size,
      outside: options.outside,
    })
    levelIntegral(patch, size, size, focusBuffers)
    const half = size / 2
    const scan = { step, minStd: options.minStd, maxHits: remaining }
    scanLevel(cascade, focusBuffers.integral, scan, (x, y, _stages, score) => {
      // Window centre relative to the patch centre, turned back into the working image.
      const alongU = (x + window / 2 - half) * scale
      const alongV = (y + window / 2 - half) * scale
      const cx = alongU * cos + alongV * sin + seed.cx
      const cy = -alongU * sin + alongV * cos + seed.cy
      accepted.push({ cx, cy, side: windowSide, score })
    })
    acceptedPerScale.set(factor, accepted.length - before)
  }
  for (let index = 0; index < options.scales.length; index++) {
    if (index === options.giveUpAfter && accepted.length === 0) return accepted
    // Enough evidence: stop, but only once the scales around 1 (the first three) are all seen,
    // so the size estimate is not biased towards the seed's.
    if (options.enoughWindows !== undefined && index >= 3 && accepted.length >= options.enoughWindows) break
    scanScale(options.scales[index]!)
  }
  // The seed's size can be off by more than the scales cover (a window much larger than the face
  // still passes): while the extreme scale tried is about as busy as the busiest, go one further.
  if (options.extraScales && accepted.length) {
    for (const direction of [-1, 1]) {
      for (let extra = 0; extra < options.extraScales; extra++) {
        const factors = [...acceptedPerScale.keys()]
        const edge = direction < 0 ? Math.min(...factors) : Math.max(...factors)
        const busiest = Math.max(...acceptedPerScale.values())
        if (acceptedPerScale.get(edge)! < 0.5 * busiest || acceptedPerScale.get(edge)! === 0) break
        scanScale(direction < 0 ? edge / 1.1 : edge * 1.1)
      }
    }
  }
  return accepted
}

/**
 * Eye check of a candidate face (its Haar square and tilt) with an eye cascade: the band of the
 * square where eyes sit (a fixed share of its height, both halves) is scanned at eye sizes of
 * about a quarter of the side. Returns how many halves (0–2) hold an accepted eye.
 */
export function countEyes(cascade: Cascade, octaves: Octaves, face: TiltedSquare, outside: number): number {
  const radians = (face.angle * Math.PI) / 180
  // Band centre: 0.15·side above the square's centre, along the face's own "up".
  const bandX = face.cx - 0.15 * face.side * Math.sin(radians)
  const bandY = face.cy - 0.15 * face.side * Math.cos(radians)
  let left = false
  let right = false
  for (const eyeShare of [0.2, 0.24, 0.29, 0.35]) {
    const scale = (eyeShare * face.side) / cascade.winW
    const width = Math.round((0.9 * face.side) / scale)
    const height = Math.round((0.45 * face.side) / scale)
    if (width < cascade.winW || height < cascade.winH) continue
    const octave = octaves.forReduction(scale)
    const patch = samplePatch(octave.image, {
      cx: bandX / octave.scale,
      cy: bandY / octave.scale,
      scale: scale / octave.scale,
      angle: face.angle,
      width,
      height,
      outside,
    })
    const need = (width + 1) * (height + 1)
    if (!eyeBuffers || eyeBuffers.integral.sum.length < need || eyeBuffers.row.length < width + 1) {
      eyeBuffers = allocScanBuffers(need, width + 1)
    }
    levelIntegral(patch, width, height, eyeBuffers)
    scanLevel(cascade, eyeBuffers.integral, { step: 1, minStd: 0 }, (x) => {
      const offCentre = x + cascade.winW / 2 - width / 2
      if (offCentre < -0.05 * width) left = true
      else if (offCentre > 0.05 * width) right = true
    })
    if (left && right) break
  }
  return (left ? 1 : 0) + (right ? 1 : 0)
}
