/**
 * Size and dpr limits, checked on the plan — before any decoding or pixel work — so an abusive
 * URL (`w_20000,c_scale`, `dpr_50`) costs a few arithmetic operations, not seconds of CPU and
 * gigabytes of RAM.
 */
import type { Component } from '../url/types.ts'
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
