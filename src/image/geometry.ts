/**
 * Pure planning of the crop/resize/pad of ONE component (docs/compatibility.md, Crop modes and Gravity).
 *
 * Input: the size of the image entering the component, the component, and where its faces are.
 * Output: a small plan — extract a region, resize it, pad it — that the pipeline carries out.
 * No pixels are touched here, so the output size of a whole chain (and every limit) is known
 * before anything is decoded, and each rule below is testable with plain numbers.
 *
 * Decisions where Cloudinary's behaviour is not documented are marked [REC] (our choice).
 */
import type { CompassGravity, Component, CropMode, Gravity, Length } from '../url/types.ts'
import type { Rect, Size } from './types.ts'
import { HttpError } from '../lib/http-error.ts'
import { gravity as gravityText } from '../url/canonical.ts'
import { cropGravityConflict } from '../url/component.ts'

/** Where the interesting part of the current image is, in its pixels; undefined = nothing found. */
export type GravityFocus = (size: Size) => Rect | undefined

/** The focus providers behind `g_face`, `g_faces` and `g_auto`. */
export interface Focus {
  face: GravityFocus
  faces: GravityFocus
  auto: GravityFocus
  /**
   * `g_faces` with a window of a fixed size (`c_fill`, `c_lfill`): the rw×rh window inside the
   * image that keeps the most faces whole (see `facesWindow`). Undefined = centre on `faces`.
   */
  facesWindow?: (size: Size, rw: number, rh: number) => Rect | undefined
}

export const NO_FOCUS: Focus = { face: () => undefined, faces: () => undefined, auto: () => undefined }

/**
 * Focus from face boxes (in the current image's pixels): the largest face for `g_face`, the box
 * around all faces for `g_faces`. `g_auto` (saliency) has no detector of its own yet, so it uses
 * the faces too (Cloudinary's auto gravity also prioritises faces) and otherwise the centre.
 * Boxes are clipped to the image; a face entirely outside it (cropped away earlier) is ignored.
 */
export function focusFromFaces(faces: readonly Rect[]): Focus {
  const visible = (size: Size) => faces.map((f) => clip(f, size)).filter((f): f is Rect => f !== undefined)
  const largest = (size: Size) =>
    visible(size).reduce<Rect | undefined>((best, f) => (!best || f.w * f.h > best.w * best.h ? f : best), undefined)
  const union = (size: Size) => visible(size).reduce<Rect | undefined>((u, f) => (u ? unionRect(u, f) : f), undefined)
  const window = (size: Size, rw: number, rh: number) => {
    const v = visible(size)
    return v.length ? facesWindow(v, size, rw, rh) : undefined
  }
  return { face: largest, faces: union, auto: union, facesWindow: window }
}

/**
 * The rw×rh window (inside the image) for `g_faces` [REC]: when the box around all faces fits,
 * it is centred on that box (as before); otherwise the window that keeps the most faces whole
 * (≥ 99 % of the box inside), then the most face area, then the one closest to centring on the
 * faces it keeps. Candidate positions are the image edges and every face edge on each axis, so
 * the search is exact for "whole" and cheap (≤ (2n+3)² windows for n faces).
 */
export function facesWindow(faces: readonly Rect[], size: Size, rw: number, rh: number): Rect {
  const maxX = Math.max(0, size.width - rw)
  const maxY = Math.max(0, size.height - rh)
  const u = faces.reduce<Rect | undefined>((acc, f) => (acc ? unionRect(acc, f) : f), undefined)
  const centred = (r: Rect | undefined): Rect => {
    if (!r) return { x: maxX / 2, y: maxY / 2, w: rw, h: rh }
    return { x: clamp(r.x + r.w / 2 - rw / 2, 0, maxX), y: clamp(r.y + r.h / 2 - rh / 2, 0, maxY), w: rw, h: rh }
  }
  if (!u) return centred(u)
  const first = centred(u)
  if (contains(first, u)) return first
  const xs = new Set<number>([0, maxX, first.x])
  const ys = new Set<number>([0, maxY, first.y])
  for (const f of faces) {
    xs.add(clamp(f.x, 0, maxX))
    xs.add(clamp(f.x + f.w - rw, 0, maxX))
    ys.add(clamp(f.y, 0, maxY))
    ys.add(clamp(f.y + f.h - rh, 0, maxY))
  }
  const total = faces.reduce((a, f) => a + f.w * f.h, 0)
  let best: { whole: number; area: number; win: Rect } | undefined
  for (const x of xs) {
    for (const y of ys) {
      const win = { x, y, w: rw, h: rh }
      let whole = 0
      let area = 0
      for (const f of faces) {
        const a = interArea(f, win)
        area += a
        if (a >= 0.99 * f.w * f.h) whole++
      }
      // Face area counts in steps of 0.5 % so near-ties go to the better-centred window below.
      const q = Math.round((area / total) * 200)
      if (!best || whole > best.whole || (whole === best.whole && q > best.area)) best = { whole, area: q, win }
    }
  }
  // Re-centre on the faces the best window keeps whole, if that keeps them all whole too.
  const keep = faces.filter((f) => interArea(f, best!.win) >= 0.99 * f.w * f.h)
  const ku = keep.reduce<Rect | undefined>((acc, f) => (acc ? unionRect(acc, f) : f), undefined)
  const rc = centred(ku)
  if (ku && keep.every((f) => interArea(f, rc) >= 0.99 * f.w * f.h)) {
    const rcArea = Math.round((faces.reduce((a, f) => a + interArea(f, rc), 0) / total) * 200)
    if (rcArea >= best!.area) return rc
  }
  return best!.win
}

function interArea(a: Rect, b: Rect): number {
  const iw = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x)
  const ih = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y)
  return iw > 0 && ih > 0 ? iw * ih : 0
}

export interface PadPlan {
  width: number
  height: number
  /** Top-left of the image on the canvas. */
  x: number
  y: number
}

export interface GeometryPlan {
  /** Region of the input to keep. Fractional only when followed by `resize` (a sub-pixel window). */
  extract?: Rect
  /** Scale the (extracted) image to exactly this size. */
  resize?: Size
  /** Put the image on a canvas (colour: `b_`, else the pipeline's default). */
  pad?: PadPlan
  /** Size after this component's geometry. */
  output: Size
}

/** Modes that never cut anything away; `g_auto` with them is a 400, as on Cloudinary. */

/**
 * Plans the geometry of one component applied to an image of `size`.
 * Throws a 400 HttpError for requests that cannot be honoured (bad lengths, bad gravity for a mode).
 */
export function planGeometry(c: Component, size: Size, focus: Focus = NO_FOCUS): GeometryPlan {
  const iw = size.width
  const ih = size.height
  const dpr = c.dpr ?? 1
  if (!(dpr > 0) || !Number.isFinite(dpr)) throw new HttpError(400, `Invalid dpr in transformation: ${c.dpr}`)

  // 1. Lengths. Pixels are multiplied by dpr; relative lengths are multiples of the CURRENT image
  //    (the input of this component), times dpr as well.
  let W = resolveLength(c.width, iw, dpr, 'width')
  let H = resolveLength(c.height, ih, dpr, 'height')
  const ar = c.aspectRatio
  if (ar !== undefined && !(ar > 0 && Number.isFinite(ar)))
    throw new HttpError(400, `Invalid aspect_ratio in transformation: ${ar}`)
  if (ar !== undefined) {
    if (W !== undefined && H === undefined) H = atLeast1(W / ar)
    else if (H !== undefined && W === undefined) W = atLeast1(H * ar)
    // Both given: w and h win, ar has nothing left to decide.
  }
  const hasBox = W !== undefined || H !== undefined || ar !== undefined
  const mode: CropMode | undefined = c.crop ?? (hasBox ? 'scale' : undefined)

  // 2. Gravity rules that do not depend on the size.
  const g = c.gravity
  const conflict = mode === undefined ? undefined : cropGravityConflict(mode, g, g ? gravityText(g) : '')
  if (conflict) throw new HttpError(400, conflict)

  const none: GeometryPlan = { output: { width: iw, height: ih } }
  if (mode === undefined) return dpr !== 1 && Object.keys(c).length === 1 ? scaledBy(dpr, size) : none

  const xOff = resolveOffset(c.x, iw, dpr)
  const yOff = resolveOffset(c.y, ih, dpr)
  // For c_fill, pixel offsets are output pixels (the window is scaled); fractions stay fractions
  // of the source. `fill` gets both parts and converts the pixel part.
  const xPx = c.x?.kind === 'px' ? xOff : 0
  const yPx = c.y?.kind === 'px' ? yOff : 0
  const fillOff = { px: { x: xPx, y: yPx }, src: { x: xOff - xPx, y: yOff - yPx } }
  const ignoreAr = c.flags?.includes('ignore_aspect_ratio') ?? false
  const zoom = c.zoom ?? 1
  if (!(zoom > 0 && Number.isFinite(zoom))) throw new HttpError(400, `Invalid zoom in transformation: ${c.zoom}`)

  // 3. Complete the box. One dimension: the other follows the image's aspect ratio (c_crop: the
  //    other stays the full image). Only `ar`: see `arBox`.
  const keepOther = mode === 'crop' || (ignoreAr && mode === 'scale')
  let w: number
  let h: number
  if (W !== undefined && H !== undefined) [w, h] = [W, H]
  else if (W !== undefined) [w, h] = [W, keepOther ? ih : atLeast1((ih * W) / iw)]
  else if (H !== undefined) [w, h] = [keepOther ? iw : atLeast1((iw * H) / ih), H]
  else if (ar !== undefined) {
    const box = arBox(mode, ar, iw, ih)
    if (!box) return none
    ;[w, h] = box
  } else {
    // c_crop/c_thumb with g_face and no size: cut out the face region (z widens or tightens it).
    if ((mode === 'crop' || mode === 'thumb') && g && g.kind !== 'compass') {
      const f = resolveFocus(g, size, focus)
      if (f.rect) return finish(size, intRect(scaleAround(f.rect, 1 / zoom), size), undefined, undefined)
    }
    return none
  }

  // 4. The modes (docs/compatibility.md, Crop modes).
  switch (mode) {
    case 'scale':
      return finish(size, undefined, { width: w, height: h }, undefined)

    case 'fit':
    case 'limit':
    case 'mfit': {
      const f = Math.min(w / iw, h / ih)
      if ((mode === 'limit' && f >= 1) || (mode === 'mfit' && f <= 1)) return none
      return finish(size, undefined, { width: atLeast1(iw * f), height: atLeast1(ih * f) }, undefined)
    }

    case 'fill':
      return fill(size, w, h, g, focus, fillOff, 1)

    case 'lfill': {
      if (Math.max(w / iw, h / ih) <= 1) return fill(size, w, h, g, focus, fillOff, 1)
      // Smaller original: no upscaling, but still cut to the requested box within the image
      // (a 400×200 original asked for 800×100 gives 400×100, as a Cloudinary user reported).
      const rw = Math.min(w, iw)
      const rh = Math.min(h, ih)
      return finish(size, intRect(position(rw, rh, size, g, focus, xOff, yOff), size), undefined, undefined)
    }

    case 'thumb':
      return thumb(size, w, h, g, focus, zoom)

    case 'crop': {
      const rw = Math.min(w, iw)
      const rh = Math.min(h, ih)
      if (!g && (c.x !== undefined || c.y !== undefined)) {
        // x/y without gravity: the top-left corner of the region. A region reaching past the
        // image is cut at its edge [REC], the caller asked for that corner, not for that size.
        const x = clampInt(xOff, 0, iw - 1)
        const y = clampInt(yOff, 0, ih - 1)
        return finish(size, { x, y, w: Math.min(rw, iw - x), h: Math.min(rh, ih - y) }, undefined, undefined)
      }
      return finish(size, intRect(position(rw, rh, size, g, focus, xOff, yOff), size), undefined, undefined)
    }

    case 'pad':
    case 'lpad':
    case 'mpad': {
      const f = Math.min(w / iw, h / ih)
      let sw = iw
      let sh = ih
      if (mode === 'pad' || (mode === 'lpad' && f < 1)) {
        sw = atLeast1(iw * f)
        sh = atLeast1(ih * f)
      } else if (mode === 'mpad' && (iw > w || ih > h)) {
        return none // mpad never scales: a larger original is delivered unchanged
      }
      const resize = sw !== iw || sh !== ih ? { width: sw, height: sh } : undefined
      return finish(size, undefined, resize, padAt(sw, sh, w, h, g, xOff, yOff))
    }

    case 'fill_pad':
      return fillPad(size, w, h, g, focus)
  }
}

/**
 * The aspect ratio (w/h) a component asks for, when it asks for one: both w and h, or one of
 * them with `ar`, or `ar` alone. Used by `a_auto_right`/`a_auto_left` to decide whether to turn
 * the image before cropping.
 */
export function requestedAspect(c: Component, size: Size): number | undefined {
  const dpr = c.dpr && c.dpr > 0 ? c.dpr : 1
  const w = c.width && c.width.value > 0 ? resolveLength(c.width, size.width, dpr, 'width') : undefined
  const h = c.height && c.height.value > 0 ? resolveLength(c.height, size.height, dpr, 'height') : undefined
  if (w !== undefined && h !== undefined) return w / h
  return c.aspectRatio !== undefined && c.aspectRatio > 0 ? c.aspectRatio : undefined
}

/** Modes whose output is exactly the requested box, whatever the input (pad modes: the canvas). */
const BOX_MODES: ReadonlySet<CropMode> = new Set<CropMode>(['scale', 'fill', 'thumb', 'pad', 'lpad', 'fill_pad'])

/**
 * The size a component's geometry produces whatever image it is given, when its own pixel
 * lengths decide it (`c_fill,h_100,w_100` → 100×100; `c_fit,…`, `w_0.5` or a lone `w_` depend on
 * the input → undefined). Lets a request be priced before its source is known.
 */
export function fixedOutputSize(c: Component): Size | undefined {
  const hasBox = c.width !== undefined || c.height !== undefined || c.aspectRatio !== undefined
  const mode = c.crop ?? (hasBox ? 'scale' : undefined)
  if (mode === undefined || !BOX_MODES.has(mode)) return undefined
  if (c.width?.kind === 'rel' || c.height?.kind === 'rel') return undefined
  const dpr = c.dpr ?? 1
  const ar = c.aspectRatio
  const valid = (v: number | undefined) => v === undefined || (v > 0 && Number.isFinite(v))
  if (!valid(dpr) || !valid(ar) || !valid(c.width?.value) || !valid(c.height?.value)) return undefined
  let w = c.width === undefined ? undefined : atLeast1(c.width.value * dpr)
  let h = c.height === undefined ? undefined : atLeast1(c.height.value * dpr)
  if (ar !== undefined && w !== undefined && h === undefined) h = atLeast1(w / ar)
  else if (ar !== undefined && h !== undefined && w === undefined) w = atLeast1(h * ar)
  return w !== undefined && h !== undefined ? { width: w, height: h } : undefined
}

/**
 * Maps a rectangle of the component's input through its geometry (to keep face boxes in step
 * with the image along a chain).
 */
/**
 * A component holding only `dpr_N` that url/chain.ts `foldDpr` could not move into a sized
 * component: the previous result resampled N×.
 */
function scaledBy(dpr: number, size: Size): GeometryPlan {
  const output = { width: atLeast1(size.width * dpr), height: atLeast1(size.height * dpr) }
  return { resize: output, output }
}

export function mapRect(r: Rect, plan: GeometryPlan, input: Size): Rect {
  const ex = plan.extract ?? { x: 0, y: 0, w: input.width, h: input.height }
  const scaled = plan.resize ?? { width: ex.w, height: ex.h }
  const sx = scaled.width / ex.w
  const sy = scaled.height / ex.h
  const px = plan.pad?.x ?? 0
  const py = plan.pad?.y ?? 0
  return { x: (r.x - ex.x) * sx + px, y: (r.y - ex.y) * sy + py, w: r.w * sx, h: r.h * sy }
}

// --- modes ------------------------------------------------------------------------------------

/** Cover w×h, then cut the overflow around the gravity. Done as one sub-pixel source window. */
interface FillOffsets {
  px: { x: number; y: number }
  src: { x: number; y: number }
}
const NO_OFFSET: FillOffsets = { px: { x: 0, y: 0 }, src: { x: 0, y: 0 } }

function fill(
  size: Size,
  w: number,
  h: number,
  g: Gravity | undefined,
  focus: Focus,
  off: FillOffsets,
  zoom: number,
): GeometryPlan {
  const f = Math.max(w / size.width, h / size.height) * zoom
  // z<1 (thumb) would want a window larger than the image: shrink it uniformly, never distort.
  const k = Math.min(1, (size.width * f) / w, (size.height * f) / h)
  const rw = (w / f) * k
  const rh = (h / f) * k
  // Pixel offsets are in output pixels; the window lives in source pixels.
  const ox = off.px.x / f + off.src.x
  const oy = off.px.y / f + off.src.y
  const win = g?.kind === 'face' && g.mode === 'faces' ? focus.facesWindow?.(size, rw, rh) : undefined
  const region = win
    ? { x: clamp(win.x + ox, 0, size.width - rw), y: clamp(win.y + oy, 0, size.height - rh), w: rw, h: rh }
    : position(rw, rh, size, g, focus, ox, oy)
  return finish(size, region, { width: w, height: h }, undefined)
}

/**
 * c_thumb: a w×h window around the focus (the face box with room around it), scaled to w×h.
 * At z=1 the face box takes half the window's width or height, whichever binds [REC: Cloudinary's
 * margin is undocumented]; z>1 tightens, z<1 widens. Never larger than the image; without a face
 * it is `fill` (with zoom) around the compass gravity.
 */
function thumb(size: Size, w: number, h: number, g: Gravity | undefined, focus: Focus, zoom: number): GeometryPlan {
  const f = g && g.kind !== 'compass' ? resolveFocus(g, size, focus) : { rect: undefined, fallback: g }
  if (!f.rect) return fill(size, w, h, f.fallback, focus, NO_OFFSET, zoom)
  const ratio = w / h
  const want = 2 / zoom
  let rw = Math.max(f.rect.w * want, f.rect.h * want * ratio)
  let rh = rw / ratio
  // Clamp to the image keeping the ratio (then this is exactly the `fill` window).
  const k = Math.min(1, size.width / rw, size.height / rh)
  rw *= k
  rh *= k
  const cx = f.rect.x + f.rect.w / 2
  const cy = f.rect.y + f.rect.h / 2
  const region = { x: clamp(cx - rw / 2, 0, size.width - rw), y: clamp(cy - rh / 2, 0, size.height - rh), w: rw, h: rh }
  return finish(size, region, { width: w, height: h }, undefined)
}

/**
 * c_fill_pad (only meaningful with g_auto): `fill`, unless that would cut into the focus region;
 * then zoom out just enough to keep the focus whole and pad the rest of the box.
 */
function fillPad(size: Size, w: number, h: number, g: Gravity | undefined, focus: Focus): GeometryPlan {
  // Only reached with g_auto (cropGravityConflict refuses fill_pad without it).
  const f = focus.auto(size)
  const cover = Math.max(w / size.width, h / size.height)
  if (!f) return fill(size, w, h, g, focus, NO_OFFSET, 1)
  const region = position(w / cover, h / cover, size, g, focus, 0, 0)
  if (contains(region, f)) return fill(size, w, h, g, focus, NO_OFFSET, 1)
  // Largest scale at which a w×h window can still hold the whole focus box.
  const s = Math.min(cover, w / f.w, h / f.h)
  const ww = w / s // window in source pixels (may reach beyond the image)
  const wh = h / s
  const wx = clamp(f.x + f.w / 2 - ww / 2, Math.min(0, size.width - ww), Math.max(0, size.width - ww))
  const wy = clamp(f.y + f.h / 2 - wh / 2, Math.min(0, size.height - wh), Math.max(0, size.height - wh))
  // The part of the window inside the image is scaled by s; the rest becomes padding.
  const ix = Math.max(0, wx)
  const iy = Math.max(0, wy)
  const inner = { x: ix, y: iy, w: Math.min(size.width, wx + ww) - ix, h: Math.min(size.height, wy + wh) - iy }
  const rw = Math.min(w, atLeast1(inner.w * s))
  const rh = Math.min(h, atLeast1(inner.h * s))
  const px = Math.min(w - rw, Math.max(0, Math.round((ix - wx) * s)))
  const py = Math.min(h - rh, Math.max(0, Math.round((iy - wy) * s)))
  return finish(size, inner, { width: rw, height: rh }, { width: w, height: h, x: px, y: py })
}

/** The box implied by `ar` alone, per mode family [REC]: cropping modes take the largest window
 * of that ratio inside the image (Cloudinary's `ar_1.0,c_fill` squares without scaling), pad
 * modes the smallest canvas around it, `scale` keeps the width and distorts, fit modes: nothing. */
function arBox(mode: CropMode, ar: number, iw: number, ih: number): [number, number] | undefined {
  const wider = iw / ih > ar
  switch (mode) {
    case 'scale':
      return [iw, atLeast1(iw / ar)]
    case 'fit':
    case 'limit':
    case 'mfit':
      return undefined
    case 'pad':
    case 'lpad':
    case 'mpad':
      return wider ? [iw, atLeast1(iw / ar)] : [atLeast1(ih * ar), ih]
    case 'fill':
    case 'lfill':
    case 'crop':
    case 'thumb':
    case 'fill_pad':
      return wider ? [atLeast1(ih * ar), ih] : [iw, atLeast1(iw / ar)]
  }
}

// --- gravity ----------------------------------------------------------------------------------

interface ResolvedFocus {
  rect: Rect | undefined
  fallback: Gravity | undefined
}

/** Face/auto gravity → a focus box, or the compass fallback when nothing was found. */
function resolveFocus(g: Gravity, size: Size, focus: Focus): ResolvedFocus {
  if (g.kind === 'compass') return { rect: undefined, fallback: g }
  if (g.kind === 'auto') return { rect: focus.auto(size), fallback: undefined }
  const rect = g.mode === 'face' ? focus.face(size) : focus.faces(size)
  if (rect) return { rect, fallback: undefined }
  // No face: `g_face`/`g_faces` → north (Cloudinary), `:center` → centre, `:auto` → auto.
  if (g.fallback === 'auto') return { rect: focus.auto(size), fallback: undefined }
  return { rect: undefined, fallback: { kind: 'compass', value: g.fallback } }
}

/**
 * Top-left of an rw×rh window inside the image for a gravity, clamped inside the image.
 * Compass offsets point inwards from the anchored edge (x_10 with east moves left), the way
 * Cloudinary positions by gravity; with a focus box the window is centred on it, then shifted.
 */
function position(
  rw: number,
  rh: number,
  size: Size,
  g: Gravity | undefined,
  focus: Focus,
  xOff: number,
  yOff: number,
): Rect {
  const maxX = size.width - rw
  const maxY = size.height - rh
  let x: number
  let y: number
  const f = g ? resolveFocus(g, size, focus) : { rect: undefined, fallback: undefined }
  if (f.rect) {
    x = f.rect.x + f.rect.w / 2 - rw / 2 + xOff
    y = f.rect.y + f.rect.h / 2 - rh / 2 + yOff
  } else {
    const compass: CompassGravity = f.fallback?.kind === 'compass' ? f.fallback.value : 'center'
    const [ax, ay] = anchor(compass)
    x = ax === 0 ? xOff : ax === 2 ? maxX - xOff : maxX / 2 + xOff
    y = ay === 0 ? yOff : ay === 2 ? maxY - yOff : maxY / 2 + yOff
  }
  return { x: clamp(x, 0, maxX), y: clamp(y, 0, maxY), w: rw, h: rh }
}

/** Where an sw×sh image sits on a w×h canvas (pad modes: compass gravity, default centre). */
function padAt(
  sw: number,
  sh: number,
  w: number,
  h: number,
  g: Gravity | undefined,
  xOff: number,
  yOff: number,
): PadPlan {
  const compass: CompassGravity = g?.kind === 'compass' ? g.value : 'center'
  const [ax, ay] = anchor(compass)
  const free = (space: number, a: number, off: number) =>
    a === 0 ? off : a === 2 ? space - off : Math.floor(space / 2) + off
  return {
    width: Math.max(w, sw),
    height: Math.max(h, sh),
    x: Math.round(free(w - sw, ax, xOff)),
    y: Math.round(free(h - sh, ay, yOff)),
  }
}

/** 0 = left/top, 1 = centre, 2 = right/bottom. */
function anchor(g: CompassGravity): [number, number] {
  switch (g) {
    case 'north_west':
      return [0, 0]
    case 'north':
      return [1, 0]
    case 'north_east':
      return [2, 0]
    case 'west':
      return [0, 1]
    case 'center':
      return [1, 1]
    case 'east':
      return [2, 1]
    case 'south_west':
      return [0, 2]
    case 'south':
      return [1, 2]
    case 'south_east':
      return [2, 2]
  }
}

// --- helpers ----------------------------------------------------------------------------------

/** Drops no-op steps so the pipeline does no needless pixel work. */
function finish(
  size: Size,
  extract: Rect | undefined,
  resize: Size | undefined,
  pad: PadPlan | undefined,
): GeometryPlan {
  if (extract) {
    // Snap float noise (w/f·f) so "the whole image" is recognised as such.
    extract = { x: snap(extract.x), y: snap(extract.y), w: snap(extract.w), h: snap(extract.h) }
    if (extract.x === 0 && extract.y === 0 && extract.w === size.width && extract.h === size.height) extract = undefined
  }
  const base: Size = extract ? { width: extract.w, height: extract.h } : size
  if (resize && resize.width === base.width && resize.height === base.height && (!extract || isIntRect(extract)))
    resize = undefined
  if (extract && !resize && !isIntRect(extract)) extract = intRect(extract, size)
  const scaled = resize ?? (extract ? { width: extract.w, height: extract.h } : size)
  if (pad && pad.width === scaled.width && pad.height === scaled.height && pad.x === 0 && pad.y === 0) pad = undefined
  const output = pad ? { width: pad.width, height: pad.height } : scaled
  const plan: GeometryPlan = { output: { width: output.width, height: output.height } }
  if (extract) plan.extract = extract
  if (resize) plan.resize = resize
  if (pad) plan.pad = pad
  return plan
}

function resolveLength(l: Length | undefined, current: number, dpr: number, name: string): number | undefined {
  if (l === undefined) return undefined
  if (!(l.value > 0) || !Number.isFinite(l.value))
    throw new HttpError(400, `Invalid ${name} in transformation: ${l.value}`)
  return atLeast1((l.kind === 'px' ? l.value : l.value * current) * dpr)
}

function resolveOffset(l: Length | undefined, current: number, dpr: number): number {
  if (l === undefined) return 0
  if (!Number.isFinite(l.value)) throw new HttpError(400, `Invalid offset in transformation: ${l.value}`)
  return l.kind === 'px' ? l.value * dpr : l.value * current
}

const atLeast1 = (v: number) => Math.max(1, Math.round(v))
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v))
const clampInt = (v: number, lo: number, hi: number) => Math.round(clamp(v, lo, hi))
const snap = (v: number) => (Math.abs(v - Math.round(v)) < 1e-6 ? Math.round(v) : v)
const isIntRect = (r: Rect) =>
  Number.isInteger(r.x) && Number.isInteger(r.y) && Number.isInteger(r.w) && Number.isInteger(r.h)

/** Whole-pixel version of a window, kept inside the image. */
function intRect(r: Rect, size: Size): Rect {
  const w = clampInt(r.w, 1, size.width)
  const h = clampInt(r.h, 1, size.height)
  return { x: clampInt(r.x, 0, size.width - w), y: clampInt(r.y, 0, size.height - h), w, h }
}

function scaleAround(r: Rect, k: number): Rect {
  const cx = r.x + r.w / 2
  const cy = r.y + r.h / 2
  return { x: cx - (r.w * k) / 2, y: cy - (r.h * k) / 2, w: r.w * k, h: r.h * k }
}

function clip(r: Rect, size: Size): Rect | undefined {
  const x0 = Math.max(0, r.x)
  const y0 = Math.max(0, r.y)
  const x1 = Math.min(size.width, r.x + r.w)
  const y1 = Math.min(size.height, r.y + r.h)
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, w: x1 - x0, h: y1 - y0 } : undefined
}

function unionRect(a: Rect, b: Rect): Rect {
  const x = Math.min(a.x, b.x)
  const y = Math.min(a.y, b.y)
  return { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y }
}

function contains(outer: Rect, inner: Rect): boolean {
  const e = 1e-6
  return (
    inner.x >= outer.x - e &&
    inner.y >= outer.y - e &&
    inner.x + inner.w <= outer.x + outer.w + e &&
    inner.y + inner.h <= outer.y + outer.h + e
  )
}
