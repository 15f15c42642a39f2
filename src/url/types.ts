/**
 * The typed form of a Cloudinary-style delivery URL (docs/compatibility.md).
 * Produced by the pure parser in this folder; consumed by delivery/ and image/.
 */
import type { HttpError } from '../lib/http-error.ts'

/** The formats we decode from upstreams and encode to. Extensions are normalised (`jpeg` → `jpg`). */
export const IMAGE_FORMATS = ['jpg', 'png', 'webp', 'gif'] as const
export type ImageFormat = (typeof IMAGE_FORMATS)[number]

export type CompassGravity =
  | 'north_west'
  | 'north'
  | 'north_east'
  | 'west'
  | 'center'
  | 'east'
  | 'south_west'
  | 'south'
  | 'south_east'

/** Gravity as written in the URL. Face/auto forms are resolved by image/ (faces interface). */
export type Gravity =
  | { kind: 'compass'; value: CompassGravity }
  | { kind: 'face'; mode: 'face' | 'faces'; fallback: 'north' | 'center' | 'auto' } // g_face, g_faces, face:center, face:auto…
  | { kind: 'auto' } // g_auto (saliency)

export const CROP_MODES = [
  'scale',
  'fit',
  'limit',
  'mfit',
  'fill',
  'lfill',
  'fill_pad',
  'pad',
  'lpad',
  'mpad',
  'crop',
  'thumb',
] as const
export type CropMode = (typeof CROP_MODES)[number]

/** Modes that only resize or pad: nothing is cut away, so a content-aware gravity has nothing to choose. */
export const NON_CROPPING_MODES: ReadonlySet<CropMode> = new Set<CropMode>([
  'scale',
  'fit',
  'limit',
  'mfit',
  'pad',
  'lpad',
  'mpad',
])
/** Modes that may add padding around the picture (and so may turn a transparent background visible). */
export const PADDING_MODES: ReadonlySet<CropMode> = new Set<CropMode>(['pad', 'lpad', 'mpad', 'fill_pad'])

/** A length: whole pixels (`w_80`) or a multiple of the current image (`w_0.5`, `w_1.0`). */
export type Length = { kind: 'px'; value: number } | { kind: 'rel'; value: number }

/** RGBA colour, 0–255 each. */
export interface Rgba {
  r: number
  g: number
  b: number
  a: number
}

export type Quality =
  | { kind: 'fixed'; value: number; chroma?: 420 | 444 } // q_1..100[:420|:444]
  | { kind: 'auto'; level: 'best' | 'good' | 'eco' | 'low' } // q_auto[:level]

export type FormatChoice = ImageFormat | 'auto'

export type Radius = { kind: 'max' } | { kind: 'px'; corners: [number, number, number, number] } // TL, TR, BR, BL (CSS order)

export type Angle =
  | { kind: 'deg'; value: number }
  | { kind: 'mode'; value: 'hflip' | 'vflip' | 'ignore' | 'auto_right' | 'auto_left' }

export type EffectName =
  | 'grayscale'
  | 'sepia'
  | 'blur'
  | 'blur_faces'
  | 'pixelate'
  | 'pixelate_faces'
  | 'negate'
  | 'brightness'
  | 'contrast'
  | 'saturation'
  | 'sharpen'
  | 'vignette'
  | 'blackwhite'

/**
 * One effect; `level` is the optional numeric argument (defaults per Cloudinary, filled by the parser).
 * `level` is 0 for effects that take no argument (grayscale, negate) and, for pixelate and
 * pixelate_faces, 0 means "no size given: choose the cell size from the image size".
 */
export interface Effect {
  name: EffectName
  level: number
}

export interface Border {
  width: number
  color: Rgba
}

export type Flag =
  | 'progressive'
  | 'attachment'
  | 'lossy'
  | 'ignore_aspect_ratio'
  | 'strip_profile'
  | 'keep_iptc'
  | 'keep_attribution'
  | 'force_strip'
  | 'preserve_transparency'
  | 'immutable_cache'
  | 'getinfo'

/**
 * One `/`-separated component, e.g. `c_fill,g_face,h_120,w_80`.
 * Every field is optional: a component holds only what the URL said.
 */
export interface Component {
  crop?: CropMode
  width?: Length
  height?: Length
  aspectRatio?: number // ar_16:9 → 1.777…, ar_1.5 → 1.5
  gravity?: Gravity
  x?: Length
  y?: Length
  zoom?: number // z_0.7
  dpr?: number // dpr_2 / dpr_2.0
  quality?: Quality
  format?: FormatChoice // f_
  radius?: Radius // r_
  angles?: Angle[] // a_hflip.45
  effect?: Effect // e_ (only the last e_ of a component counts)
  border?: Border // bo_
  background?: Rgba // b_
  opacity?: number // o_ 0..100
  flags?: Flag[] // fl_
  attachmentName?: string // fl_attachment:<name>
  named?: string[] // t_a.b → ['a','b'] (expanded by delivery/ before image work)
  defaultImage?: string // d_avatars:x.png → 'avatars/x.png'
}

export interface Signature {
  /** The text between `s--` and `--` (8 or 32 url-safe base64 chars). */
  value: string
  /** The raw, still-escaped path text after `s--…--/` (query removed). */
  signedText: string
}

/** A parsed delivery URL. `publicId` is percent-decoded; `rawPublicId` is exactly as sent. */
export interface DeliveryRequest {
  cloud?: string
  resourceType: 'image'
  type: string
  signature?: Signature
  /** Raw component texts, exactly as in the URL (for error messages and strict-transformation allow-lists). */
  rawComponents: string[]
  components: Component[]
  version?: number
  rawPublicId: string
  publicId: string
  /** Output format from the extension, if the id ended in a known image extension. */
  extension?: ImageFormat
}

/** A delivery error: HTTP status plus the exact `X-Cld-Error` text. */
/** URL-layer failures are ordinary data (Result), carried as the one HttpError type. */
export type DeliveryError = HttpError
