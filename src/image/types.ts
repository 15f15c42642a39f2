/** Contracts of the image pipeline (decode → plan → render → encode). */
import type { Component, ImageFormat } from '../url/types.ts'
import type { WorkBudget } from './budget.ts'

/** Straight (non-premultiplied) RGBA, row-major, 4 bytes per pixel. */
export interface Bitmap {
  width: number
  height: number
  data: Uint8Array
}

export interface ImageLimits {
  /** Largest output width/height (default 4096 each). */
  maxOutputSide: number
  /** Largest output area (default 16 MP). */
  maxOutputPixels: number
  /** Largest dpr (default 4). */
  maxDpr: number
  /**
   * Largest source area we agree to decode (default 50 MP, see limits.ts). Optional so existing
   * literals stay valid; a decompression bomb is refused from its header, before allocating.
   */
  maxInputPixels?: number
}

/** A pixel size. */
export interface Size {
  width: number
  height: number
}

/**
 * An axis-aligned rectangle in pixels of some image (which one is said where it is used).
 * May be fractional where a resampler consumes it (sub-pixel crop windows keep aspect exact).
 */
export interface Rect {
  x: number
  y: number
  w: number
  h: number
}

export interface DeriveInput {
  bytes: Uint8Array
  format: ImageFormat
  /** Transformation chain, already expanded (no `t_`). Empty = original pixels re-encoded. */
  chain: Component[]
  output: ImageFormat
  /** Detected faces of the original (for face gravity); empty = none found. */
  faces: Rect[]
  /**
   * What this derivation may cost (budget.ts), checked again on the exact plan (real faces, real
   * decoded size) before decoding. Absent: only the size limits apply.
   */
  budget?: WorkBudget
}

export interface DeriveOutput {
  bytes: Uint8Array
  format: ImageFormat
  width: number
  height: number
}
