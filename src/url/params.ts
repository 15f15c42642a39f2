/**
 * The transformation parameter table: every key Cloudinary's image URLs use, implemented or not
 * (documented in docs/compatibility.md, Transformation parameters).
 *
 * One entry per URL key: its long name (used in `Invalid <name> in transformation: <value>`),
 * whether we implement it, and, if we do, a value parser that returns the Component fields it
 * fills. Value parsers check ranges, so a bad value is a typed problem (→ 400), never a throw.
 * The table *is* the documentation of what the parser accepts; add a parameter here and nowhere
 * else (in the spirit of unjs/ipx `handlers.ts`).
 *
 * Regexes in this file are anchored, use bounded quantifiers and have no nested repetition:
 * every one runs in time linear in its (already length-capped) input.
 */
import { HttpError } from '../lib/http-error.ts'
import { ok, err, type Result } from '../result.ts'
import { parseColor } from './colors.ts'
import type {
  Angle,
  Border,
  Component,
  CompassGravity,
  CropMode,
  DeliveryError,
  Effect,
  EffectName,
  Flag,
  FormatChoice,
  Gravity,
  Length,
  Quality,
  Radius,
  Rgba,
} from './types.ts'
import { CROP_MODES } from './types.ts'

// ---------------------------------------------------------------------------------------------
// Problems and sanity bounds
// ---------------------------------------------------------------------------------------------

/**
 * Why a value was refused. `invalid`/`unsupported` become
 * `Invalid|Unsupported <long name> in transformation: <value>`; `shownValue` replaces the whole
 * value when only a piece was wrong (one flag of `fl_a.b`); `error` is a complete message.
 */
export type ValueProblem =
  | { kind: 'invalid' | 'unsupported'; shownValue?: string }
  | { kind: 'error'; error: DeliveryError }

export type ValueParse<T> = Result<T, ValueProblem>

const invalid = (shownValue?: string): ValueParse<never> =>
  err(shownValue === undefined ? { kind: 'invalid' } : { kind: 'invalid', shownValue })
const unsupported = (shownValue?: string): ValueParse<never> =>
  err(shownValue === undefined ? { kind: 'unsupported' } : { kind: 'unsupported', shownValue })

/**
 * Syntax sanity bounds, not output limits (image/ enforces `ImageLimits`). They keep every number
 * a small, exactly printable double, so canonical keys never need exponent notation.
 */
export const BOUNDS = {
  maxPixels: 100_000, // w, h, x, y, r, bo widths in pixels
  maxRelative: 100, // w_100.0 = 100 × the image; more is never sensible
  maxZoom: 100,
  maxDpr: 10,
  minAspectRatio: 0.001,
  maxAspectRatio: 1000,
  maxAngleDegrees: 360,
  maxAngles: 8, // a_hflip.vflip.90…
  maxNamed: 10, // t_a.b.c…
  maxDefaultImage: 255, // d_<id>
} as const

// ---------------------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------------------

const INTEGER = /^-?\d{1,9}$/
// 20 fraction digits: enough for any shortest double (≤ 17 significant) ≥ 0.001, i.e. canonical ratios.
const DECIMAL = /^-?\d{1,9}\.\d{1,20}$/

/** A number as written: `80`, `-10`, `0.5`, `2.0`. `isDecimal` keeps `1` (pixels) apart from `1.0` (100 %). */
interface WrittenNumber {
  value: number
  isDecimal: boolean
}

function parseWrittenNumber(text: string, allowNegative: boolean): WrittenNumber | undefined {
  if (!allowNegative && text.startsWith('-')) return undefined
  const isDecimal = DECIMAL.test(text)
  if (!isDecimal && !INTEGER.test(text)) return undefined
  // `+ 0` turns -0 into 0, so `x_-0` and `x_0` are the same value.
  const value = Number(text) + 0
  // Below 1e-6 JS prints numbers in exponent notation, which the grammar (and so a canonical key)
  // cannot express; nothing meaningful is that small anyway.
  if (value !== 0 && Math.abs(value) < 1e-6) return undefined
  return { value, isDecimal }
}

function parseIntegerIn(text: string, min: number, max: number): number | undefined {
  const n = parseWrittenNumber(text, min < 0)
  return n !== undefined && !n.isDecimal && n.value >= min && n.value <= max ? n.value : undefined
}

/** Integer or decimal in (0, max]: zoom, dpr, aspect-ratio parts. */
function parsePositive(text: string, max: number): number | undefined {
  const n = parseWrittenNumber(text, false)
  return n !== undefined && n.value > 0 && n.value <= max ? n.value : undefined
}

// ---------------------------------------------------------------------------------------------
// Value parsers, one per parameter kind
// ---------------------------------------------------------------------------------------------

/** w, h: `80` pixels, or `0.5` / `1.0` / `2.0` a multiple of the current image. `w_0` is invalid. */
function parseSize(text: string): ValueParse<Length> {
  // Client-hints widths and initial-size references need request context we do not model.
  if (text === 'auto' || text.startsWith('auto:') || text.startsWith('iw') || text.startsWith('ih')) {
    return unsupported()
  }
  const n = parseWrittenNumber(text, false)
  if (n === undefined || n.value <= 0) return invalid()
  if (n.isDecimal) return n.value <= BOUNDS.maxRelative ? ok({ kind: 'rel', value: n.value }) : invalid()
  return n.value <= BOUNDS.maxPixels ? ok({ kind: 'px', value: n.value }) : invalid()
}

/** x, y: integer pixels (may be negative, an offset) or a fraction of the image in [-1, 1]. */
function parseOffset(text: string): ValueParse<Length> {
  const n = parseWrittenNumber(text, true)
  if (n === undefined) return invalid()
  if (n.isDecimal) return Math.abs(n.value) <= 1 ? ok({ kind: 'rel', value: n.value }) : invalid()
  return Math.abs(n.value) <= BOUNDS.maxPixels ? ok({ kind: 'px', value: n.value }) : invalid()
}

const KNOWN_CROP_MODES: ReadonlySet<string> = new Set<CropMode>(CROP_MODES)
/** AI crops (`auto`, `auto_pad`) and add-on crops: real Cloudinary modes we do not implement. */
const UNSUPPORTED_CROP_MODES: ReadonlySet<string> = new Set(['auto', 'auto_pad', 'imagga_crop', 'imagga_scale'])

function parseCrop(text: string): ValueParse<CropMode> {
  if (KNOWN_CROP_MODES.has(text)) return ok(text as CropMode)
  return UNSUPPORTED_CROP_MODES.has(text) ? unsupported() : invalid()
}

const COMPASS: ReadonlySet<string> = new Set<CompassGravity>([
  'north_west',
  'north',
  'north_east',
  'west',
  'center',
  'east',
  'south_west',
  'south',
  'south_east',
])

/** Face gravities: `face`/`faces` fall back to north when no face is found, as on Cloudinary. */
const FACE_GRAVITIES: ReadonlyMap<string, Gravity> = new Map<string, Gravity>([
  ['face', { kind: 'face', mode: 'face', fallback: 'north' }],
  ['faces', { kind: 'face', mode: 'faces', fallback: 'north' }],
  ['face:center', { kind: 'face', mode: 'face', fallback: 'center' }],
  ['faces:center', { kind: 'face', mode: 'faces', fallback: 'center' }],
  ['face:auto', { kind: 'face', mode: 'face', fallback: 'auto' }],
  ['faces:auto', { kind: 'face', mode: 'faces', fallback: 'auto' }],
])

/** Gravities Cloudinary has and we do not (custom coordinates, add-ons, focal-point `auto:` forms…). */
const UNSUPPORTED_GRAVITY_PREFIXES = [
  'custom',
  'adv_',
  'auto:',
  'xy_center',
  'liquid',
  'ocr_text',
  'body',
  'face:',
  'faces:',
]

function parseGravity(text: string): ValueParse<Gravity> {
  if (COMPASS.has(text)) return ok({ kind: 'compass', value: text as CompassGravity })
  const face = FACE_GRAVITIES.get(text)
  if (face !== undefined) return ok({ ...face }) // a copy: Components are plain, caller-owned data
  if (text === 'auto') return ok({ kind: 'auto' })
  return UNSUPPORTED_GRAVITY_PREFIXES.some((prefix) => text.startsWith(prefix)) ? unsupported() : invalid()
}

function parseZoom(text: string): ValueParse<number> {
  const zoom = parsePositive(text, BOUNDS.maxZoom)
  return zoom === undefined ? invalid() : ok(zoom)
}

function parseDpr(text: string): ValueParse<number> {
  if (text === 'auto') return unsupported() // needs client hints
  const dpr = parsePositive(text, BOUNDS.maxDpr)
  return dpr === undefined ? invalid() : ok(dpr)
}

const AUTO_QUALITY_LEVELS: ReadonlySet<string> = new Set(['best', 'good', 'eco', 'low'])

/** q: `1..100[:420|:444]`, or `auto[:best|good|eco|low]` (default `good`). */
function parseQuality(text: string): ValueParse<Quality> {
  const parts = text.split(':')
  if (parts.length > 3) return invalid()
  const [head = '', modifier, extra] = parts
  if (head === 'auto') {
    if (extra !== undefined) return extra === 'sensitive' ? unsupported() : invalid()
    if (modifier === undefined) return ok({ kind: 'auto', level: 'good' })
    if (AUTO_QUALITY_LEVELS.has(modifier))
      return ok({ kind: 'auto', level: modifier as 'best' | 'good' | 'eco' | 'low' })
    return modifier === 'sensitive' ? unsupported() : invalid()
  }
  if (head === 'jpegmini') return unsupported()
  const value = parseIntegerIn(head, 1, 100)
  if (value === undefined || extra !== undefined) return invalid()
  if (modifier === undefined) return ok({ kind: 'fixed', value })
  if (modifier === '420' || modifier === '444')
    return ok({ kind: 'fixed', value, chroma: modifier === '420' ? 420 : 444 })
  return invalid()
}

/** Image formats Cloudinary knows but we cannot encode (shared with the extension rule of parse.ts). */
export const UNENCODABLE_FORMATS: ReadonlySet<string> = new Set(['avif', 'bmp', 'tiff', 'tif', 'ico', 'heic', 'jxl'])

/** f: `jpg|jpeg|png|webp|gif|auto`; `auto:image` means `auto` for image resources. */
function parseFormat(text: string): ValueParse<FormatChoice> {
  switch (text) {
    case 'jpg':
    case 'jpeg':
      return ok('jpg')
    case 'png':
    case 'webp':
    case 'gif':
      return ok(text)
    case 'auto':
    case 'auto:image':
      return ok('auto')
  }
  if (UNENCODABLE_FORMATS.has(text)) {
    return err({ kind: 'error', error: new HttpError(400, `Unsupported output format ${text}`) })
  }
  return text.startsWith('auto:') ? unsupported() : invalid()
}

/** ar: `16:9` or `1.5`, kept as the width/height ratio. */
function parseAspectRatio(text: string): ValueParse<number> {
  const parts = text.split(':')
  if (parts.length > 2) return invalid()
  const [first = '', second] = parts
  const numerator = parsePositive(first, BOUNDS.maxPixels)
  const denominator = second === undefined ? 1 : parsePositive(second, BOUNDS.maxPixels)
  if (numerator === undefined || denominator === undefined) return invalid()
  const ratio = numerator / denominator
  return ratio >= BOUNDS.minAspectRatio && ratio <= BOUNDS.maxAspectRatio ? ok(ratio) : invalid()
}

/** r: `max`, or 1–4 pixel radii expanded like CSS `border-radius` to [TL, TR, BR, BL]. */
function parseRadius(text: string): ValueParse<Radius> {
  if (text === 'max') return ok({ kind: 'max' })
  const parts = text.split(':')
  if (parts.length > 4) return invalid()
  const radii: number[] = []
  for (const part of parts) {
    const radius = parseIntegerIn(part, 0, BOUNDS.maxPixels)
    if (radius === undefined) return invalid()
    radii.push(radius)
  }
  const [a = 0, b = a, c = a, d = b] = radii
  return ok({ kind: 'px', corners: [a, b, c, d] })
}

const ANGLE_MODES: ReadonlySet<string> = new Set(['hflip', 'vflip', 'ignore', 'auto_right', 'auto_left'])

/** a: integer degrees (± 360) and flip/EXIF modes joined by `.`; order is kept (it matters). */
function parseAngles(text: string): ValueParse<Angle[]> {
  const parts = text.split('.')
  if (parts.length > BOUNDS.maxAngles) return invalid()
  const angles: Angle[] = []
  for (const part of parts) {
    if (ANGLE_MODES.has(part)) {
      angles.push({ kind: 'mode', value: part as Extract<Angle, { kind: 'mode' }>['value'] })
      continue
    }
    const degrees = parseIntegerIn(part, -BOUNDS.maxAngleDegrees, BOUNDS.maxAngleDegrees)
    if (degrees === undefined) return part === 'exif' ? unsupported() : invalid()
    angles.push({ kind: 'deg', value: degrees })
  }
  return ok(angles)
}

/**
 * Effects we implement: the argument range and the level used when the URL gives none
 * (Cloudinary's documented ranges and defaults).
 * `argument: null` = the effect takes no argument (its level is 0).
 * pixelate/pixelate_faces default to 0 = "automatic cell size, chosen from the image size".
 */
const EFFECTS: Readonly<Record<EffectName, { argument: { min: number; max: number } | null; defaultLevel: number }>> = {
  grayscale: { argument: null, defaultLevel: 0 },
  negate: { argument: null, defaultLevel: 0 },
  sepia: { argument: { min: 1, max: 100 }, defaultLevel: 80 },
  blur: { argument: { min: 1, max: 2000 }, defaultLevel: 100 },
  blur_faces: { argument: { min: 1, max: 2000 }, defaultLevel: 500 },
  pixelate: { argument: { min: 1, max: 2000 }, defaultLevel: 0 }, // docs say 1–200, the SDK 1–2000: we take the SDK's
  pixelate_faces: { argument: { min: 1, max: 200 }, defaultLevel: 0 },
  brightness: { argument: { min: -99, max: 100 }, defaultLevel: 80 },
  contrast: { argument: { min: -100, max: 100 }, defaultLevel: 0 },
  saturation: { argument: { min: -100, max: 100 }, defaultLevel: 80 },
  sharpen: { argument: { min: 1, max: 2000 }, defaultLevel: 100 },
  vignette: { argument: { min: 0, max: 100 }, defaultLevel: 20 },
  blackwhite: { argument: { min: 0, max: 100 }, defaultLevel: 50 },
}

/** Real Cloudinary image effects we do not implement (→ "Unsupported effect", not "Invalid effect"). */
const UNSUPPORTED_EFFECTS: ReadonlySet<string> = new Set([
  'unsharp_mask',
  'colorize',
  'hue',
  'gamma',
  'red',
  'green',
  'blue',
  'improve',
  'auto_brightness',
  'auto_color',
  'auto_contrast',
  'oil_paint',
  'vibrance',
  'trim',
  'redeye',
  'adv_redeye',
  'shadow',
  'cartoonify',
  'outline',
  'gradient_fade',
  'art',
  'background_removal',
  'bgremoval',
  'make_transparent',
  'replace_color',
  'tint',
  'fill_light',
  'viesus_correct',
  'style_transfer',
  'vectorize',
  'distort',
  'shear',
  'displace',
  'mask',
  'multiply',
  'screen',
  'overlay',
  'anti_removal',
  'cut_out',
  'assist_colorblind',
  'simulate_colorblind',
  'ordered_dither',
  'noise',
  'upscale',
  'enhance',
  'extract',
  'dropshadow',
  'gen_remove',
  'gen_replace',
  'gen_recolor',
  'gen_restore',
  'gen_background_replace',
  'light',
  'theme',
  'transition',
  'loop',
  'preview',
])

const hasOwn = (record: object, key: string): boolean => Object.hasOwn(record, key)

/** e_contrast arguments: `50`, `level_50`, `level_50;type_sigmoidal` (linear contrast is not implemented). */
function parseContrastLevel(args: string, range: { min: number; max: number }): ValueParse<number> {
  if (!args.includes('level_') && !args.includes('type_')) {
    const level = parseIntegerIn(args, range.min, range.max)
    return level === undefined ? invalid() : ok(level)
  }
  let level: number | undefined
  let sawType = false
  for (const part of args.split(';')) {
    if (part.startsWith('level_') && level === undefined) {
      level = parseIntegerIn(part.slice('level_'.length), range.min, range.max)
      if (level === undefined) return invalid()
    } else if (part.startsWith('type_') && !sawType) {
      sawType = true
      if (part === 'type_linear') return unsupported()
      if (part !== 'type_sigmoidal') return invalid()
    } else {
      return invalid()
    }
  }
  return ok(level ?? EFFECTS.contrast.defaultLevel)
}

/** e: `name[:level]`, the level defaulted from EFFECTS so the image layer never guesses. */
function parseEffect(text: string): ValueParse<Effect> {
  const colon = text.indexOf(':')
  const name = colon < 0 ? text : text.slice(0, colon)
  const args = colon < 0 ? undefined : text.slice(colon + 1)
  if (!hasOwn(EFFECTS, name)) return UNSUPPORTED_EFFECTS.has(name) ? unsupported() : invalid()
  const effectName = name as EffectName
  const spec = EFFECTS[effectName]
  if (args === undefined) return ok({ name: effectName, level: spec.defaultLevel })
  if (spec.argument === null) return invalid()
  if (effectName === 'contrast') {
    const level = parseContrastLevel(args, spec.argument)
    return level.ok ? ok({ name: effectName, level: level.value }) : level
  }
  const level = parseIntegerIn(args, spec.argument.min, spec.argument.max)
  return level === undefined ? invalid() : ok({ name: effectName, level })
}

const BORDER = /^(\d{1,6})px_solid_(.{1,40})$/

/** bo: `<N>px_solid_<colour>` (solid is the only style Cloudinary supports). */
function parseBorder(text: string): ValueParse<Border> {
  const match = BORDER.exec(text)
  if (match === null) return invalid()
  const width = parseIntegerIn(match[1] ?? '', 1, BOUNDS.maxPixels)
  const color = parseColor(match[2] ?? '')
  return width === undefined || color === undefined ? invalid() : ok({ width, color })
}

/** b: a colour; the content-aware backgrounds (`auto…`, `blurred`, `gen_fill`) are not implemented. */
function parseBackground(text: string): ValueParse<Rgba> {
  if (text === 'auto' || text.startsWith('auto:') || text.startsWith('blurred') || text.startsWith('gen_fill')) {
    return unsupported()
  }
  const color = parseColor(text)
  return color === undefined ? invalid() : ok(color)
}

function parseOpacity(text: string): ValueParse<number> {
  const opacity = parseIntegerIn(text, 0, 100)
  return opacity === undefined ? invalid() : ok(opacity)
}

const FLAGS: ReadonlySet<string> = new Set<Flag>([
  'progressive',
  'attachment',
  'lossy',
  'ignore_aspect_ratio',
  'strip_profile',
  'keep_iptc',
  'keep_attribution',
  'force_strip',
  'preserve_transparency',
  'immutable_cache',
  'getinfo',
])
/** Real Cloudinary flags we do not implement (→ "Unsupported flag", not "Invalid flag"). */
const UNSUPPORTED_FLAGS: ReadonlySet<string> = new Set([
  'png8',
  'png24',
  'png32',
  'any_format',
  'relative',
  'layer_apply',
  'animated',
  'awebp',
  'apng',
  'sanitize',
  'clip',
  'clip_evenodd',
  'cutter',
  'tiled',
  'text_no_trim',
  'text_disallow_overflow',
  'no_overflow',
  'region_relative',
  'replace_image',
  'splice',
  'force_icc',
  'alternate',
  'c2pa',
  'ignore_mask_channels',
  'tiff8_lzw',
  'keep_dar',
  'no_stream',
  'mono',
  'draco',
  'streaming_attachment',
  'hlsv3',
  'truncate_ts',
  'waveform',
])
const ATTACHMENT_NAME = /^[A-Za-z0-9_\-! ]{1,100}$/ // a download file name, at most 100 characters

/** fl: known flags joined by `.`, sorted and de-duplicated (their order carries no meaning). */
function parseFlags(text: string): ValueParse<{ flags: Flag[]; attachmentName?: string }> {
  const flags = new Set<Flag>()
  let attachmentName: string | undefined
  for (const part of text.split('.')) {
    const colon = part.indexOf(':')
    const name = colon < 0 ? part : part.slice(0, colon)
    if (name === 'attachment' && colon >= 0) {
      const fileName = part.slice(colon + 1)
      // Two different attachment names cannot both apply.
      if (!ATTACHMENT_NAME.test(fileName) || (attachmentName !== undefined && attachmentName !== fileName)) {
        return invalid(part)
      }
      attachmentName = fileName
    } else if (!FLAGS.has(part)) {
      // A known flag with a qualifier (`progressive:semi|steep|none`) is a Cloudinary mode we do
      // not distinguish: unsupported, like the flags we do not implement at all.
      return FLAGS.has(name) || UNSUPPORTED_FLAGS.has(name) ? unsupported(part) : invalid(part)
    }
    flags.add(name as Flag)
  }
  const sorted = [...flags].sort()
  return ok(attachmentName === undefined ? { flags: sorted } : { flags: sorted, attachmentName })
}

const NAMED_TRANSFORMATION = /^[A-Za-z0-9_-]{1,64}$/ // one name, at most 64 characters

/** t: `a.b` → ['a', 'b'] (applied in order; expanded by named.ts). */
function parseNamed(text: string): ValueParse<string[]> {
  const names = text.split('.')
  if (names.length > BOUNDS.maxNamed || !names.every((name) => NAMED_TRANSFORMATION.test(name))) return invalid()
  return ok(names)
}

const DEFAULT_IMAGE_SEGMENT = /^[A-Za-z0-9_.-]{1,255}$/

/** d: `avatars:x.png` → `avatars/x.png` (the URL cannot carry `/` inside a component). */
function parseDefaultImage(text: string): ValueParse<string> {
  if (text.length > BOUNDS.maxDefaultImage) return invalid()
  const segments = text.split(':')
  const safe = segments.every((s) => DEFAULT_IMAGE_SEGMENT.test(s) && s !== '.' && s !== '..')
  return safe ? ok(segments.join('/')) : invalid()
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

export interface ImplementedParam {
  readonly key: string
  /** Long name for messages: `Invalid <name> in transformation: <value>`. */
  readonly name: string
  readonly implemented: true
  /** Parses the (percent-decoded) value into the Component fields it fills. */
  readonly parse: (value: string) => ValueParse<Partial<Component>>
}

export interface UnimplementedParam {
  readonly key: string
  readonly name: string
  readonly implemented: false
}

export type ParamSpec = ImplementedParam | UnimplementedParam

/** Builds an entry whose parser fills exactly one Component field (checked by the compiler). */
function param<F extends keyof Component>(
  key: string,
  name: string,
  field: F,
  parseValue: (value: string) => ValueParse<NonNullable<Component[F]>>,
): ImplementedParam {
  return {
    key,
    name,
    implemented: true,
    parse: (value) => {
      const parsed = parseValue(value)
      if (!parsed.ok) return parsed
      const patch: Partial<Component> = {}
      patch[field] = parsed.value
      return ok(patch)
    },
  }
}

const notImplemented = (key: string, name: string): UnimplementedParam => ({ key, name, implemented: false })

const TABLE: readonly ParamSpec[] = [
  param('w', 'width', 'width', parseSize),
  param('h', 'height', 'height', parseSize),
  param('c', 'crop', 'crop', parseCrop),
  param('g', 'gravity', 'gravity', parseGravity),
  param('x', 'x', 'x', parseOffset),
  param('y', 'y', 'y', parseOffset),
  param('z', 'zoom', 'zoom', parseZoom),
  param('dpr', 'dpr', 'dpr', parseDpr),
  param('q', 'quality', 'quality', parseQuality),
  param('f', 'format', 'format', parseFormat),
  param('ar', 'aspect_ratio', 'aspectRatio', parseAspectRatio),
  param('r', 'radius', 'radius', parseRadius),
  param('a', 'angle', 'angles', parseAngles),
  param('e', 'effect', 'effect', parseEffect),
  param('bo', 'border', 'border', parseBorder),
  param('b', 'background', 'background', parseBackground),
  param('o', 'opacity', 'opacity', parseOpacity),
  { key: 'fl', name: 'flag', implemented: true, parse: parseFlags },
  param('t', 'transformation name', 'named', parseNamed),
  param('d', 'default_image', 'defaultImage', parseDefaultImage),
  // Recognised (so a URL using them is a transformation, not a public id) but not implemented.
  notImplemented('l', 'overlay'),
  notImplemented('u', 'underlay'),
  notImplemented('if', 'if'),
  notImplemented('fn', 'custom_function'),
  notImplemented('bl', 'baseline'),
  notImplemented('pg', 'page'),
  notImplemented('dn', 'density'),
  notImplemented('cs', 'color_space'),
  notImplemented('co', 'color'),
  notImplemented('ac', 'audio_codec'),
  notImplemented('af', 'audio_frequency'),
  notImplemented('br', 'bit_rate'),
  notImplemented('dl', 'delay'),
  notImplemented('du', 'duration'),
  notImplemented('eo', 'end_offset'),
  notImplemented('fps', 'fps'),
  notImplemented('ki', 'keyframe_interval'),
  notImplemented('so', 'start_offset'),
  notImplemented('sp', 'streaming_profile'),
  notImplemented('vc', 'video_codec'),
  notImplemented('vs', 'video_sampling'),
  notImplemented('p', 'prefix'),
]

export const PARAMS: ReadonlyMap<string, ParamSpec> = new Map(TABLE.map((spec) => [spec.key, spec]))

const VARIABLE_NAME = /^\$[A-Za-z0-9]{1,64}$/

/** `$name` user variables are a recognised key family, though not implemented. */
export const isVariableKey = (key: string): boolean => VARIABLE_NAME.test(key)

/** Is this a recognised key (implemented or not)? Decides which path segments are transformations. */
export const isKnownKey = (key: string): boolean => PARAMS.has(key) || isVariableKey(key)
