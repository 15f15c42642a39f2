/**
 * Size and dpr limits, checked on the plan — before any decoding or pixel work — so an abusive
 * URL (`w_20000,c_scale`, `dpr_50`) costs a few arithmetic operations, not seconds of CPU and
 * gigabytes of RAM.
 */
import type { Component, CropMode } from '../url/types.ts'
import type { ImageLimits, Size } from './types.ts'
import { HttpError } from '../lib/http-error.ts'

export const DEFAULT_IMAGE_LIMITS: ImageLimits = {
  maxOutputSide: 4096,
  maxOutputPixels: 4096 * 4096, // 16 MP: a full-size 4096² still passes
  maxDpr: 4,
  maxInputPixels: 50_000_000, // ~7070²; decoding that already takes ~200 MB of RGBA
}

/** `dpr_` above the cap, anywhere in the chain. Needs no image at all. */
export function checkDpr(chain: readonly Component[], limits: ImageLimits): void {
  for (const c of chain) {
    if (c.dpr !== undefined && c.dpr > limits.maxDpr)
      throw new HttpError(400, `Invalid dpr in transformation: ${c.dpr}`)
  }
}

/** An image the pipeline would produce (final or intermediate). */
export function checkOutputSize(size: Size, limits: ImageLimits): void {
  if (
    size.width > limits.maxOutputSide ||
    size.height > limits.maxOutputSide ||
    size.width * size.height > limits.maxOutputPixels
  ) {
    throw new HttpError(400, `Maximum image size exceeded: ${size.width}x${size.height}`)
  }
}

/** A source we are asked to decode (a decompression bomb is refused from its header). */
export function checkSourceSize(size: Size, limits: ImageLimits): void {
  const max = limits.maxInputPixels ?? DEFAULT_IMAGE_LIMITS.maxInputPixels!
  if (size.width * size.height > max) {
    throw new HttpError(400, `Maximum source image size exceeded: ${size.width}x${size.height}`)
  }
}

/**
 * Modes whose geometry makes the image exactly the size asked for (a pad canvas at least that
 * size), whatever size comes in: a pixel width or height in these is the output's, for any source.
 */
const FIXED_BOX_MODES: ReadonlySet<CropMode> = new Set<CropMode>(['scale', 'fill', 'thumb', 'pad', 'lpad', 'fill_pad'])

/**
 * The limits that need no image, checked before the picture is looked up or fetched, so a URL that
 * must be refused costs no upstream call and leaves no row: the dpr cap, and output sizes the URL
 * fixes for every source (`w_5000,c_fill`, `w_3000,h_3000,c_pad`, `w_2000,ar_0.1`). Only what
 * `planChain` would refuse for every source is refused here; the rest is checked on the plan.
 */
export function checkBeforeSource(chain: readonly Component[], limits: ImageLimits): void {
  checkDpr(chain, limits)
  for (const c of chain) {
    const hasBox = c.width !== undefined || c.height !== undefined || c.aspectRatio !== undefined
    const mode = c.crop ?? (hasBox ? 'scale' : undefined)
    if (mode === undefined || !FIXED_BOX_MODES.has(mode)) continue
    const dpr = c.dpr ?? 1
    if (!(dpr > 0 && Number.isFinite(dpr))) continue // the plan says what is wrong with it
    // As the geometry resolves them (src/image/geometry.ts): pixels × dpr, rounded, at least 1.
    const px = (l: Component['width']) =>
      l?.kind === 'px' && l.value > 0 && Number.isFinite(l.value) ? Math.max(1, Math.round(l.value * dpr)) : undefined
    let w = px(c.width)
    let h = px(c.height)
    const ar = c.aspectRatio
    if (ar !== undefined && ar > 0 && Number.isFinite(ar) && (c.width === undefined) !== (c.height === undefined)) {
      if (w !== undefined) h = Math.max(1, Math.round(w / ar))
      else if (h !== undefined) w = Math.max(1, Math.round(h * ar))
    }
    if (w !== undefined && h !== undefined) checkOutputSize({ width: w, height: h }, limits)
    else if ((w ?? 0) > limits.maxOutputSide || (h ?? 0) > limits.maxOutputSide)
      throw new HttpError(400, `Maximum image size exceeded: ${w ?? '?'}x${h ?? '?'}`)
  }
}
