/**
 * The work budget: what a derivation will cost, priced from its plan before any pixel is decoded,
 * and refused (400 "Transformation too costly") when the request may not spend that much.
 * Size limits (limits.ts) bound each image; this bounds the sum: every step of the chain, at the
 * size it really runs at (intermediate images included), weighted by what the step costs per pixel.
 *
 * The unit: one *work unit* is one megapixel through a simple per-pixel pass (`e_grayscale`), about
 * 14 ms of one core on the machine of bench/README.md. `WEIGHTS` are units per megapixel, measured
 * against that pass by bench/work.ts (which prints each weight beside its measurement, so a change
 * to a step's speed shows up there).
 *
 * Pure: plans and numbers in, numbers or an HttpError out.
 */
import { HttpError } from '../lib/http-error.ts'
import { MAX_COMPONENTS } from '../url/component.ts'
import type { Component, Effect, ImageFormat } from '../url/types.ts'
import { JPEG_DCT_SHRINKS } from './codecs.ts'
import { blurFacesMargin, blurSigma, EXACT_BLUR_MAX_SIGMA } from './effects.ts'
import { fixedOutputSize } from './geometry.ts'
import type { ChainPlan, ComponentPlan } from './pipeline.ts'
import { shrinkOnLoad } from './shrink-on-load.ts'
import { rotatedSize } from './transform.ts'
import type { Rect, Size } from './types.ts'

/** How much one derivation may cost. */
export interface WorkBudget {
  /** Named in refusals ("unsigned budget 100"). */
  name: string
  /** Most work units (see above). */
  maxWork: number
  /** Most components that do pixel work; delivery-only ones (`q_`, `f_`, `fl_`) are free. */
  maxSteps: number
  /**
   * No image along the chain (intermediate ones included) wider or taller than this multiple of
   * the source's longer side. Infinity: no cap beyond the size limits.
   */
  maxUpscale: number
}

/** Signed URLs and the API's eager derivations spend `signed`; anyone else `unsigned`. */
export interface WorkBudgets {
  signed: WorkBudget
  unsigned: WorkBudget
}

/**
 * Defaults (HEADSHOT_MAX_WORK, HEADSHOT_MAX_WORK_UNSIGNED, HEADSHOT_MAX_STEPS_UNSIGNED,
 * HEADSHOT_MAX_UPSCALE_UNSIGNED). The unsigned budget (about 1.7 s of one core) keeps every
 * ordinary avatar transformation inside (face crops up to 1000², 2000² with `dpr_2`, corners,
 * borders, a couple of effects: at most ~95 units, test/image/budget.test.ts lists them) and
 * refuses the 4096² blur of a Gravatar picture (150–310 units by output format). Signed URLs are
 * trusted with a few seconds: that blur passes, a 16 MP GIF does not.
 */
export const DEFAULT_WORK_BUDGETS: WorkBudgets = {
  signed: { name: 'signed', maxWork: 500, maxSteps: MAX_COMPONENTS, maxUpscale: Number.POSITIVE_INFINITY },
  unsigned: { name: 'unsigned', maxWork: 120, maxSteps: 8, maxUpscale: 8 },
}

/**
 * Work units per megapixel, relative to `e_grayscale` (bench/work.ts measures them). Where a step's
 * cost depends on an argument (blur radius), the function of it is in `effectWeight`.
 */
export const WEIGHTS = {
  /** Decoding, per decoded megapixel. */
  decode: { jpg: 4.35, png: 1, webp: 1.2, gif: 1.7 } satisfies Record<ImageFormat, number>,
  /** JPEG entropy decoding, per stored megapixel, paid even when decoded at 1/2–1/8 scale. */
  jpegStored: 0.15,
  /**
   * Encoding, per output megapixel. It depends on the content (noisy pictures compress slower):
   * these are photographs' upper range (GIF's palette quantisation is the dear one).
   */
  encode: { jpg: 2.6, png: 12, webp: 5.1, gif: 24 } satisfies Record<ImageFormat, number>,
  /** Lanczos3 resampling: per megapixel of the source window, plus per megapixel written. */
  resizeIn: 1,
  resizeOut: 1.2,
  /** Whole-pixel moves: crop, pad canvas, quarter turn, flip, opacity. */
  copy: 0.2,
  rotate: 2.8, // free rotation, per output megapixel (bilinear, premultiplied)
  radius: 1.5,
  border: 2.3, // per megapixel of the bordered image
  background: 0.6,
  effects: {
    grayscale: 1,
    negate: 1.5,
    sepia: 2,
    blackwhite: 3.7,
    brightness: 11, // HSL round trip per pixel
    saturation: 11,
    contrast: 2.7,
    vignette: 2.3,
    pixelate: 0.6,
    /** Gaussian with the exact kernel: base + per tap; above EXACT_BLUR_MAX_SIGMA three box blurs, flat. */
    blurBase: 3,
    blurPerTap: 0.18,
    boxBlur: 4,
    /** Unsharp mask: a σ 1 blur plus the mix. */
    sharpenMix: 1.2,
  },
} as const

/** What a derivation will cost, step by step. */
export interface WorkEstimate {
  units: number
  items: WorkItem[]
}

export interface WorkItem {
  /** `decode`, `1: resize`, `2: e_blur`, `encode` … (component numbers from 1). */
  step: string
  megapixels: number
  units: number
}

export interface PricedSource {
  /** Upright size (what planChain was given). */
  size: Size
  format: ImageFormat
  /**
   * What decoding works through when more than `size` (`decodeSize` of the header: a GIF whose
   * first frame reaches beyond its screen is decoded whole, then cut to the screen).
   */
  decoded?: Size
}

export interface EstimateOptions {
  /**
   * Faces not detected yet: `*_faces` effects are priced as one region covering the whole image
   * (what one large face costs); the worker prices them again with the real boxes.
   */
  unknownFaces?: boolean
}

/** Records a step: its megapixels and a weight per megapixel (or, for `addUnits`, its units). */
type Add = (step: string, megapixels: number, weightOrUnits: number) => void

const MP = 1_000_000
const mp = (s: Size) => (s.width * s.height) / MP

/** Prices a planned chain: decode, every component's steps at their planned sizes, encode. */
export function estimateWork(
  plan: ChainPlan,
  source: PricedSource,
  output: ImageFormat,
  options: EstimateOptions = {},
): WorkEstimate {
  const items: WorkItem[] = []
  const add: Add = (step, megapixels, weight) => addUnits(step, megapixels, megapixels * weight)
  const addUnits = (step: string, megapixels: number, units: number) => {
    if (units > 0) items.push({ step, megapixels, units })
  }
  const first = plan.components[0]
  // A JPEG whose first step shrinks ≥ 2× is decoded at 1/2–1/8 scale (pipeline.ts): price what is decoded.
  const k = source.format === 'jpg' && first ? shrinkOnLoad(first) : 1
  const dct = [...JPEG_DCT_SHRINKS].reverse().find((s) => s <= k) ?? 1
  add('decode', mp(source.decoded ?? source.size) / (dct * dct), WEIGHTS.decode[source.format])
  if (source.format === 'jpg') add('decode', mp(source.size), WEIGHTS.jpegStored)

  plan.components.forEach((p, i) => {
    priceComponent(p, `${i + 1}: `, i === 0 ? dct : 1, options, add, addUnits)
  })
  add('encode', mp(plan.output), WEIGHTS.encode[output])
  return { units: items.reduce((sum, item) => sum + item.units, 0), items }
}

function priceComponent(
  p: ComponentPlan,
  at: string,
  decodedShrink: number,
  options: EstimateOptions,
  add: Add,
  addUnits: Add,
): void {
  const { geometry } = p
  if (p.preTurn !== 0) add(`${at}a_auto`, mp(p.input), WEIGHTS.copy)
  const whole = p.preTurn === 90 || p.preTurn === 270 ? { width: p.input.height, height: p.input.width } : p.input
  const window = geometry.extract ? { width: geometry.extract.w, height: geometry.extract.h } : whole
  if (geometry.resize) {
    add(`${at}resize`, mp(window) / (decodedShrink * decodedShrink), WEIGHTS.resizeIn)
    add(`${at}resize`, mp(geometry.resize), WEIGHTS.resizeOut)
  } else if (geometry.extract) add(`${at}crop`, mp(window), WEIGHTS.copy)
  if (geometry.pad) add(`${at}pad`, mp(geometry.pad), WEIGHTS.copy)

  let size = geometry.output
  if (p.effect) {
    const cost = effectCost(p.effect, size, p.faces, options.unknownFaces === true)
    addUnits(`${at}e_${p.effect.name}`, cost.megapixels, cost.units)
  }
  if (p.radii) add(`${at}r`, mp(size), WEIGHTS.radius)
  if (p.border) {
    size = { width: size.width + 2 * p.border.width, height: size.height + 2 * p.border.width }
    add(`${at}bo`, mp(size), WEIGHTS.border)
  }
  for (const turn of p.turns) {
    if (turn.kind === 'free') {
      size = rotatedSize(size, turn.degrees)
      add(`${at}a`, mp(size), WEIGHTS.rotate)
    } else add(`${at}a`, mp(size), WEIGHTS.copy)
  }
  if (p.opacity !== undefined) add(`${at}o`, mp(p.output), WEIGHTS.copy)
  if (p.component.background && !geometry.pad) add(`${at}b`, mp(p.output), WEIGHTS.background)
}

/** An effect on an image of `size`: the megapixels it works on and their units. */
function effectCost(
  effect: Effect,
  size: Size,
  faces: readonly Rect[],
  unknownFaces: boolean,
): { megapixels: number; units: number } {
  const whole = mp(size)
  const perPixel = (weight: number) => ({ megapixels: whole, units: whole * weight })
  switch (effect.name) {
    case 'blur':
      return perPixel(blurWeight(blurSigma(effect.level)))
    case 'sharpen':
      return perPixel(blurWeight(1) + WEIGHTS.effects.sharpenMix)
    case 'blur_faces':
    case 'pixelate_faces': {
      const blur = effect.name === 'blur_faces'
      const weight = blur ? blurWeight(blurSigma(effect.level)) : WEIGHTS.effects.pixelate
      const margin = blur ? Math.ceil(blurFacesMargin(effect.level)) : 0
      // Each face is processed on its own (with its margin of context), on a copy of the image.
      const regions = unknownFaces ? whole : faces.reduce((sum, f) => sum + regionMp(f, margin, size), 0)
      if (regions === 0) return { megapixels: 0, units: 0 } // no face: the image passes through untouched
      return { megapixels: whole + regions, units: whole * WEIGHTS.copy + regions * weight }
    }
    default:
      return perPixel(WEIGHTS.effects[effect.name])
  }
}

/** The exact kernel costs per tap (it grows with σ); the box blurs above EXACT_BLUR_MAX_SIGMA do not. */
export function blurWeight(sigma: number): number {
  if (sigma > EXACT_BLUR_MAX_SIGMA) return WEIGHTS.effects.boxBlur
  const taps = 2 * Math.ceil(sigma * 3) + 1
  return WEIGHTS.effects.blurBase + WEIGHTS.effects.blurPerTap * taps
}

/** Megapixels of a face box grown by `margin`, clipped to the image. */
function regionMp(f: Rect, margin: number, size: Size): number {
  const x0 = Math.max(0, Math.floor(f.x) - margin)
  const y0 = Math.max(0, Math.floor(f.y) - margin)
  const x1 = Math.min(size.width, Math.ceil(f.x + f.w) + margin)
  const y1 = Math.min(size.height, Math.ceil(f.y + f.h) + margin)
  return x1 > x0 && y1 > y0 ? ((x1 - x0) * (y1 - y0)) / MP : 0
}

// --- checks -----------------------------------------------------------------------------------

/** Fields that only change how the result is encoded or delivered: a component of only these costs nothing. */
const FREE_FIELDS: ReadonlySet<string> = new Set(['quality', 'format', 'flags', 'attachmentName', 'defaultImage'])

/** Components that do pixel work (anything beyond `q_`, `f_`, `fl_`, `d_`). */
export function pixelSteps(chain: readonly Component[]): number {
  return chain.filter((c) => Object.entries(c).some(([key, value]) => value !== undefined && !FREE_FIELDS.has(key)))
    .length
}

const tooCostly = (what: string, budget: WorkBudget, allowed: string) =>
  new HttpError(400, `Transformation too costly: ${what} (${budget.name} budget ${allowed})`)

function checkSteps(chain: readonly Component[], budget: WorkBudget): void {
  const steps = pixelSteps(chain)
  if (steps > budget.maxSteps) throw tooCostly(`${steps} steps`, budget, `${budget.maxSteps}`)
}

function checkUnits(units: number, budget: WorkBudget): void {
  if (units > budget.maxWork) throw tooCostly(`${Math.ceil(units)} work units`, budget, `${budget.maxWork}`)
}

/**
 * The checks that need no source: the number of steps, and the work the chain costs at least
 * whatever the source is (the components whose own pixel lengths fix their size, e.g.
 * `c_scale,h_4096,w_4096,e_blur:2000`, and the encode of the last one). Cheap enough to run before
 * the picture is looked up or fetched. `output`: the format when already known (else the cheapest).
 * Throws a 400 HttpError.
 */
export function checkChainBudget(chain: readonly Component[], budget: WorkBudget, output?: ImageFormat): void {
  checkSteps(chain, budget)
  checkUnits(minimumWork(chain, output), budget)
}

/** A lower bound of `estimateWork` for any source (see checkChainBudget). */
export function minimumWork(chain: readonly Component[], output?: ImageFormat): number {
  let units = 0
  // The size of the image so far, where the chain alone decides it (else undefined).
  let known: Size | undefined
  for (const c of chain) {
    if (pixelSteps([c]) === 0) continue
    // A component with geometry sets the size (maybe to one only the source decides); one without
    // keeps it or, with a border or a rotation, makes it larger: `known` stays a lower bound.
    if (GEOMETRY_FIELDS.some((field) => c[field] !== undefined)) known = fixedOutputSize(c)
    // The geometry itself may cost nothing (the source may have that size already); an effect does
    // (face effects may find no face: nothing).
    if (known && c.effect) units += effectCost(c.effect, known, [], false).units
  }
  const cheapest = Math.min(...Object.values(WEIGHTS.encode))
  if (known) units += mp(known) * (output ? WEIGHTS.encode[output] : cheapest)
  return units
}

/** Fields that decide a component's geometry (geometry.ts). */
const GEOMETRY_FIELDS = ['crop', 'width', 'height', 'aspectRatio', 'dpr', 'x', 'y', 'zoom', 'gravity'] as const

/**
 * Every check of the budget on a planned chain: steps, upscaling (each image along the chain
 * against the source's longer side) and work. Returns the estimate; throws a 400 HttpError.
 */
export function checkWork(
  plan: ChainPlan,
  source: PricedSource,
  output: ImageFormat,
  budget: WorkBudget,
  options: EstimateOptions = {},
): WorkEstimate {
  checkSteps(
    plan.components.map((p) => p.component),
    budget,
  )
  const longest = Math.max(source.size.width, source.size.height)
  const cap = budget.maxUpscale * longest
  for (const p of plan.components) {
    for (const s of [p.geometry.output, p.output]) {
      if (s.width > cap || s.height > cap) {
        const from = `${source.size.width}x${source.size.height}`
        throw tooCostly(`${s.width}x${s.height} from ${from}`, budget, `${budget.maxUpscale}x upscaling`)
      }
    }
  }
  const estimate = estimateWork(plan, source, output, options)
  checkUnits(estimate.units, budget)
  return estimate
}
