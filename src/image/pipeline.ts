/**
 * The derivation pipeline: probe → plan (pure) → decode once → steps per component → encode.
 *
 * Like imgproxy, the whole chain is planned first from the request and the source size alone.
 * That plan is what limits are checked against (nothing is decoded for a request we refuse),
 * and it is exposed (`planChain`) so callers can compute the output size without pixels.
 * Carrying out a component is then an ordered list of small steps, each a function of
 * (image, plan, context).
 */
import type { Component, Effect, Flag, ImageFormat, Rgba } from '../url/types.ts'
import { decode, encode, resolveQuality, flatten, undecodable, JPEG_DCT_SHRINKS } from './codecs.ts'
import { lastDefined } from '../url/chain.ts'
import { addBorder, applyOpacity, cornerRadii, roundCorners, type CornerRadii } from './draw.ts'
import { checkWork } from './budget.ts'
import { applyEffect } from './effects.ts'
import { focusFromFaces, mapRect, planGeometry, requestedAspect, type GeometryPlan } from './geometry.ts'
import { checkDpr, checkOutputSize, checkSourceSize, DEFAULT_IMAGE_LIMITS } from './limits.ts'
import { decodeSize, probeImage } from '../lib/image-header.ts'
import { crop, extend, resize } from './resize.ts'
import {
  flip,
  flipRect,
  orientedSize,
  rotateArbitrary,
  rotatedSize,
  rotateQuarter,
  rotateRect,
  rotateRectQuarter,
  type QuarterTurn,
} from './transform.ts'
import { HttpError } from '../lib/http-error.ts'
import { shrinkOnLoad } from './shrink-on-load.ts'
import type { Bitmap, DeriveInput, DeriveOutput, Rect, ImageLimits, Size } from './types.ts'

/** A rotation or flip from `a_`, in the order written (`a_hflip.45`: flip, then turn). */
export type Turn =
  | { kind: 'flip'; direction: 'h' | 'v' }
  | { kind: 'quarter'; turn: QuarterTurn }
  | { kind: 'free'; degrees: number }

/** One component, planned: every number the steps need, computed before any pixel work. */
export interface ComponentPlan {
  component: Component
  input: Size
  /** `a_auto_right`/`a_auto_left`: a quarter turn BEFORE cropping, when the box's orientation differs. */
  preTurn: QuarterTurn
  geometry: GeometryPlan
  /** Face boxes in the pixels the effect sees (after geometry), for `blur_faces`/`pixelate_faces`. */
  faces: Rect[]
  effect?: Effect
  /** Resolved `r_` radii for the size after geometry. */
  radii?: CornerRadii
  /** `bo_` width in pixels (× dpr) and colour. */
  border?: { width: number; color: Rgba }
  turns: Turn[]
  opacity?: number
  output: Size
}

export interface ChainPlan {
  components: ComponentPlan[]
  /** Size of the final image. */
  output: Size
  /** Face boxes in the final image's pixels (they follow every crop, resize, pad, turn). */
  faces: Rect[]
}

/**
 * Plans a whole chain for a source of `sourceSize` (upright pixels, i.e. after EXIF orientation),
 * checking every limit on the way. Pure: no pixels, no I/O. Throws a 400 HttpError.
 * `faces` only moves crop windows (and sizes `c_crop,g_face` without w/h); pass them for an exact plan.
 * A size that is not known (0×0) gets only the checks that need no size.
 */
export function planChain(
  chain: readonly Component[],
  sourceSize: Size,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
  faces: readonly Rect[] = [],
): ChainPlan {
  checkChain(chain, limits)
  if (!(sourceSize.width >= 1 && sourceSize.height >= 1)) return { components: [], output: sourceSize, faces: [] }
  checkSourceSize(sourceSize, limits)
  let size = sourceSize
  let boxes: Rect[] = faces.map((f) => ({ ...f }))
  const components: ComponentPlan[] = []
  for (const component of chain) {
    const p = planComponent(component, size, boxes, limits)
    components.push(p.plan)
    boxes = p.faces
    size = p.plan.output
  }
  return { components, output: size, faces: boxes }
}

function planComponent(
  c: Component,
  input: Size,
  faces: Rect[],
  limits: ImageLimits,
): { plan: ComponentPlan; faces: Rect[] } {
  const dpr = c.dpr ?? 1
  let size = input

  // a_auto_right / a_auto_left: turn first if the requested box is portrait and the image
  // landscape (or the reverse), so the crop keeps as much as possible.
  let preTurn: QuarterTurn = 0
  const auto = c.angles?.find((a) => a.kind === 'mode' && (a.value === 'auto_right' || a.value === 'auto_left'))
  if (auto && c.crop !== undefined) {
    const want = requestedAspect(c, size)
    if (want !== undefined && want !== 1 && size.width !== size.height && want > 1 !== size.width > size.height) {
      preTurn = auto.kind === 'mode' && auto.value === 'auto_right' ? 90 : 270
      faces = faces.map((f) => rotateRectQuarter(f, size, preTurn))
      size = { width: size.height, height: size.width }
    }
  }

  const geometry = planGeometry(c, size, focusFromFaces(faces))
  checkOutputSize(geometry.output, limits)
  faces = faces.map((f) => mapRect(f, geometry, size))
  const effectFaces = faces
  size = geometry.output

  const radii =
    c.radius === undefined
      ? undefined
      : cornerRadii(
          size,
          c.radius.kind === 'max' ? 'max' : (c.radius.corners.map((r) => r * dpr) as [number, number, number, number]),
        )
  let border: ComponentPlan['border']
  if (c.border && c.border.width > 0) {
    border = { width: Math.max(1, Math.round(c.border.width * dpr)), color: c.border.color }
    const b = border.width
    faces = faces.map((f) => ({ ...f, x: f.x + b, y: f.y + b }))
    size = { width: size.width + 2 * b, height: size.height + 2 * b }
  }

  const turns: Turn[] = []
  for (const a of c.angles ?? []) {
    if (a.kind === 'mode') {
      if (a.value === 'hflip' || a.value === 'vflip') {
        const direction = a.value === 'hflip' ? 'h' : 'v'
        turns.push({ kind: 'flip', direction })
        const at = size
        faces = faces.map((f) => flipRect(f, at, direction))
      }
      continue // ignore / auto_*: handled at decode / before geometry
    }
    if (!Number.isFinite(a.value)) throw new HttpError(400, `Invalid angle in transformation: ${a.value}`)
    const deg = ((a.value % 360) + 360) % 360
    if (deg === 0) continue
    const at = size
    if (deg % 90 === 0) {
      const turn = deg as QuarterTurn
      turns.push({ kind: 'quarter', turn })
      faces = faces.map((f) => rotateRectQuarter(f, at, turn))
      size = turn === 180 ? size : { width: size.height, height: size.width }
    } else {
      turns.push({ kind: 'free', degrees: deg })
      faces = faces.map((f) => rotateRect(f, at, deg))
      size = rotatedSize(size, deg)
    }
  }
  checkOutputSize(size, limits)

  if (c.opacity !== undefined && !(c.opacity >= 0 && c.opacity <= 100))
    throw new HttpError(400, `Invalid opacity in transformation: ${c.opacity}`)
  const plan: ComponentPlan = { component: c, input, preTurn, geometry, faces: effectFaces, turns, output: size }
  if (c.effect) plan.effect = c.effect
  if (radii) plan.radii = radii
  if (border) plan.border = border
  if (c.opacity !== undefined && c.opacity < 100) plan.opacity = c.opacity
  return { plan, faces }
}

/** Checks that need neither the image nor its size: unsupported parameters, dpr cap. */
export function checkChain(chain: readonly Component[], limits: ImageLimits = DEFAULT_IMAGE_LIMITS): void {
  for (const c of chain) assertSupported(c)
  checkDpr(chain, limits)
}

/**
 * Decodes once, applies the chain, encodes to `input.output`.
 * Throws a 400 HttpError for requests we refuse, before decoding anything;
 * a 502 HttpError when the bytes are not a readable image.
 */
export async function deriveImage(
  input: DeriveInput,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): Promise<DeriveOutput> {
  checkChain(input.chain, limits)
  const header = probeImage(input.bytes)
  if (!header.ok) throw undecodable('Unsupported or corrupt image')
  const probe = header.value
  const autoOrient = !input.chain.some((c) => c.angles?.some((a) => a.kind === 'mode' && a.value === 'ignore'))
  const upright = autoOrient ? orientedSize(probe, probe.orientation) : { width: probe.width, height: probe.height }
  // The plan is on the image a decode yields; limits and price count what the decode works
  // through (a GIF frame far beyond its screen), so such a file is refused or paid for before it
  // is decoded, not after.
  const decoded = probe.decode ? decodeSize(probe) : undefined
  if (decoded) checkSourceSize(decoded, limits)
  let plan = planChain(input.chain, upright, limits, input.faces)
  const source = { format: header.value.format, size: upright, ...(decoded ? { decoded } : {}) }
  if (input.budget) checkWork(plan, source, input.output, input.budget)

  const shrink = plan.components[0] ? shrinkOnLoad(plan.components[0]) : 1
  let image = await decode(input.bytes, input.format, { autoOrient, shrink })
  let components = plan.components
  if (image.width !== upright.width || image.height !== upright.height) {
    const scale = JPEG_DCT_SHRINKS.map((s) => 1 / s).find(
      (s) => image.width === Math.ceil(upright.width * s) && image.height === Math.ceil(upright.height * s),
    )
    if (shrink >= 2 && scale !== undefined) {
      // Shrink-on-load happened: same plan, the first window just lives in smaller pixels.
      components = [
        rescaleFirst(components[0]!, image.width / upright.width, image.height / upright.height),
        ...components.slice(1),
      ]
    } else {
      // The header lied (a decoder that disagrees with it): plan again on the real pixels, and
      // price what is left to do on them.
      const real = { width: image.width, height: image.height }
      plan = planChain(input.chain, real, limits, input.faces)
      if (input.budget) checkWork(plan, { ...source, size: real }, input.output, input.budget)
      components = plan.components
    }
  }

  const ctx: StepContext = { output: input.output }
  for (const p of components) {
    for (const step of STEPS) image = step(image, p, ctx)
    // A large component leaves hundreds of MB behind (a blur's float buffers, the image it
    // replaced): collect it before the next one allocates, so a worker's peak is one step's rather
    // than the whole chain's (what src/workers/pool-size.ts sizes the pool by).
    if (image.width * image.height >= COLLECT_FROM_PIXELS) Bun.gc(true)
  }

  const requested = lastDefined(input.chain, (c) => c.quality)
  const quality = resolveQuality(requested, input.output)
  const progressive = input.chain.some((c) => c.flags?.includes('progressive'))
  const fullChroma = requested?.kind === 'fixed' && requested.chroma === 444
  const bytes = await encode(image, input.output, { quality, progressive, fullChroma })
  return { bytes, format: input.output, width: image.width, height: image.height }
}

/** 4 MP: below, a component's garbage is small enough for the collector's own pace. */
const COLLECT_FROM_PIXELS = 4_000_000

// --- shrink-on-load (the decision lives in shrink-on-load.ts, shared with the work budget) -----

export { shrinkOnLoad }

/** The first component's source window in the pixels of a shrunk decode (scale rx × ry). */
function rescaleFirst(p: ComponentPlan, rx: number, ry: number): ComponentPlan {
  const turned = p.preTurn === 90 || p.preTurn === 270
  const [sx, sy] = turned ? [ry, rx] : [rx, ry]
  const full = turned ? { width: p.input.height, height: p.input.width } : p.input
  const e = p.geometry.extract ?? { x: 0, y: 0, w: full.width, h: full.height }
  const extract = { x: e.x * sx, y: e.y * sy, w: e.w * sx, h: e.h * sy }
  return {
    ...p,
    input: { width: Math.round(p.input.width * rx), height: Math.round(p.input.height * ry) },
    geometry: { ...p.geometry, extract },
  }
}

// --- steps ------------------------------------------------------------------------------------

interface StepContext {
  output: ImageFormat
}

type Step = (image: Bitmap, plan: ComponentPlan, ctx: StepContext) => Bitmap

const TRANSPARENT: Rgba = { r: 0, g: 0, b: 0, a: 0 }
const WHITE: Rgba = { r: 255, g: 255, b: 255, a: 255 }

/** Padding colour: `b_`, else transparent where the output keeps alpha and white where it cannot. */
function padColour(c: Component, ctx: StepContext): Rgba {
  return c.background ?? (ctx.output === 'jpg' ? WHITE : TRANSPARENT)
}

/** `a_auto_right`/`a_auto_left`: the quarter turn decided in the plan, before cropping. */
const preTurnStep: Step = (image, { preTurn }) => rotateQuarter(image, preTurn)

/** Extract → resize → pad, as planned. A whole-pixel extract without resize is a plain copy. */
const geometryStep: Step = (image, { component, geometry }, ctx) => {
  const { extract, resize: size, pad } = geometry
  if (size) image = resize(image, size.width, size.height, extract ? { region: extract } : {})
  else if (extract) image = crop(image, extract.x, extract.y, extract.w, extract.h)
  if (pad) image = extend(image, pad.width, pad.height, pad.x, pad.y, padColour(component, ctx))
  return image
}

/** `e_`: one effect per component (the parser keeps the last one, as Cloudinary does). */
const effectStep: Step = (image, { effect, faces }) => (effect ? applyEffect(image, effect, faces) : image)

/** `r_`: rounded corners (transparent outside; JPEG later shows the background there). */
const radiusStep: Step = (image, { radii }) => (radii ? roundCorners(image, radii) : image)

/** `bo_`: a border around the (possibly rounded) image. */
const borderStep: Step = (image, { border, radii }) =>
  border ? addBorder(image, border.width, border.color, radii) : image

/** `a_`: flips and rotations in the order written. */
const turnStep: Step = (image, { turns }) => {
  for (const t of turns) {
    image =
      t.kind === 'flip'
        ? flip(image, t.direction)
        : t.kind === 'quarter'
          ? rotateQuarter(image, t.turn)
          : rotateArbitrary(image, t.degrees)
  }
  return image
}

/** `o_`: opacity (JPEG output then blends onto white, as Cloudinary does). */
const opacityStep: Step = (image, { opacity }) => (opacity === undefined ? image : applyOpacity(image, opacity))

/**
 * `b_<colour>` outside pad modes: fill transparent areas with the colour (Cloudinary semantics),
 * including the corners made by `r_` or a free rotation in the same component.
 * In a pad mode `b_` is the padding colour only.
 */
const backgroundStep: Step = (image, { component, geometry }) => {
  if (!component.background || geometry.pad) return image
  return flatten(image, component.background)
}

/**
 * The order within a component: pre-turn, geometry, effect (on the cropped pixels, where the
 * faces are known), corners, border (following the corners), rotation of the finished picture,
 * opacity, background.
 */
const STEPS: readonly Step[] = [
  preTurnStep,
  geometryStep,
  effectStep,
  radiusStep,
  borderStep,
  turnStep,
  opacityStep,
  backgroundStep,
]

// --- what a component may contain -------------------------------------------------------------

/**
 * Flags and what the image pipeline does with them. Every flag the parser can produce is listed,
 * so none is ignored by accident: a new one fails the type check here.
 */
const FLAG_HANDLING: Record<Flag, string> = {
  ignore_aspect_ratio: 'geometry: c_scale with one dimension keeps the other',
  progressive: 'encode: progressive JPEG (baseline otherwise)',
  lossy: 'accepted; GIF output is always palette-quantised, PNG stays PNG',
  strip_profile: 'satisfied: our encoders never write metadata',
  force_strip: 'satisfied: our encoders never write metadata',
  keep_iptc: 'accepted; metadata is never carried over to derivatives',
  keep_attribution: 'accepted; metadata is never carried over to derivatives',
  preserve_transparency: 'satisfied: alpha is kept wherever the output format has it',
  attachment: 'delivery: Content-Disposition, no pixel effect',
  immutable_cache: 'delivery: Cache-Control, no pixel effect',
  getinfo: 'delivery: answered with JSON from the plan; removed from the chain before deriving',
}

/**
 * Every Component field, and who carries it out. A field the parser adds later that is not in
 * this table is refused (400 "… is not supported"), never silently ignored.
 */
const FIELD_HANDLING: Record<keyof Component, string> = {
  crop: 'geometry',
  width: 'geometry',
  height: 'geometry',
  aspectRatio: 'geometry',
  gravity: 'geometry',
  x: 'geometry',
  y: 'geometry',
  zoom: 'geometry',
  dpr: 'geometry (and r_, bo_ pixels)',
  quality: 'encoder',
  format: 'format.ts (chosen before deriving)',
  radius: 'radiusStep',
  angles: 'turnStep / preTurnStep / decode (a_ignore)',
  effect: 'effectStep',
  border: 'borderStep',
  background: 'pad colour / backgroundStep',
  opacity: 'opacityStep',
  flags: 'FLAG_HANDLING',
  attachmentName: 'delivery (Content-Disposition)',
  named: 'delivery expands t_ before image work',
  defaultImage: 'delivery (placeholder choice)',
}

function assertSupported(c: Component): void {
  for (const key of Object.keys(c)) {
    if ((c as Record<string, unknown>)[key] === undefined) continue
    if (!(key in FIELD_HANDLING)) throw new HttpError(400, `Transformation parameter ${key} is not supported`)
  }
  if (c.named?.length) throw new HttpError(400, `Unexpanded named transformation: ${c.named.join('.')}`)
  for (const f of c.flags ?? []) {
    if (!(f in FLAG_HANDLING)) throw new HttpError(400, `Invalid flag in transformation: ${f}`)
  }
}
