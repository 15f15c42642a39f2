/**
 * One transformation component (`c_fill,g_face,h_120,w_80`) and chains of them (`…/r_max`).
 * Tokenising is plain splitting on `,` and the first `_`: linear, no backtracking.
 */
import { HttpError } from '../lib/http-error.ts'
import { ok, err, type Result } from '../result.ts'
import { badRequest, shown } from './errors.ts'
import { PARAMS, isKnownKey, isVariableKey, type ValueProblem } from './params.ts'
import { decodePercentStrict } from './percent.ts'
import {
  NON_CROPPING_MODES,
  PADDING_MODES,
  type Component,
  type CropMode,
  type DeliveryError,
  type Gravity,
} from './types.ts'

/**
 * Most components one URL (or one named-transformation expansion) may chain. Each component is a
 * full image-processing step, so this bounds the work a single request can ask for.
 */
export const MAX_COMPONENTS = 20

/** Keys that may repeat inside one component. Only the last `e_` applies (as on Cloudinary); others: 400. */
const REPEATABLE_KEYS: ReadonlySet<string> = new Set(['e'])

interface Token {
  key: string
  value: string
}

/** `key_value` split at the first `_`; undefined when the token has no key. */
function splitToken(token: string): Token | undefined {
  const underscore = token.indexOf('_')
  if (underscore <= 0) return undefined
  return { key: token.slice(0, underscore), value: token.slice(underscore + 1) }
}

/**
 * A path segment is a transformation when every comma-separated token is `key_value` with a
 * recognised key (implemented or not, params.ts); otherwise it starts the public id.
 * The value is not looked at here, so
 * `w_abc` is still a transformation and later fails with a 400.
 */
export function isTransformationSegment(segment: string): boolean {
  if (segment === '') return false
  for (const token of segment.split(',')) {
    const parts = splitToken(token)
    if (parts === undefined || !isKnownKey(parts.key)) return false
  }
  return true
}

function problemToError(problem: ValueProblem, name: string, rawValue: string): DeliveryError {
  if (problem.kind === 'error') return problem.error
  const adjective = problem.kind === 'invalid' ? 'Invalid' : 'Unsupported'
  return new HttpError(400, `${adjective} ${name} in transformation: ${shown(problem.shownValue ?? rawValue)}`)
}

/** Parses one component into a Component that holds only what the text said. */
export function parseComponent(text: string): Result<Component, DeliveryError> {
  const component: Component = {}
  if (text === '') return ok(component)
  const rawValues = new Map<string, string>()
  for (const token of text.split(',')) {
    const parts = splitToken(token)
    if (parts === undefined) return badRequest(`Invalid transformation parameter: ${shown(token)}`)
    const { key, value } = parts
    if (isVariableKey(key)) return badRequest(`Transformation parameter not supported: ${shown(key)}`)
    const spec = PARAMS.get(key)
    if (spec === undefined) return badRequest(`Invalid transformation parameter: ${shown(key)}`)
    if (!spec.implemented) return badRequest(`Transformation parameter not supported: ${key}`)
    if (rawValues.has(key) && !REPEATABLE_KEYS.has(key)) {
      return badRequest(`Duplicate transformation parameter: ${key}`)
    }
    rawValues.set(key, value)
    // Values may arrive percent-encoded (`fl_attachment:my%20file`: the SDK escapes spaces).
    const decoded = decodePercentStrict(value)
    if (decoded === undefined) return badRequest(`Invalid ${spec.name} in transformation: ${shown(value)}`)
    // `w_$width`: a user-variable reference, part of the variables feature we do not implement.
    if (decoded.startsWith('$')) return badRequest(`Unsupported ${spec.name} in transformation: ${shown(value)}`)
    const parsed = spec.parse(decoded)
    if (!parsed.ok) return err(problemToError(parsed.error, spec.name, value))
    Object.assign(component, parsed.value) // a repeated e_ overwrites: the last one applies
  }
  const conflict = findConflict(component, rawValues)
  return conflict === undefined ? ok(component) : badRequest(conflict)
}

/**
 * Combinations refused with a 400: g_auto on a non-cropping mode and fill_pad without g_auto (as on
 * Cloudinary), and a face gravity on a pad mode.
 */
function findConflict(component: Component, rawValues: ReadonlyMap<string, string>): string | undefined {
  const { crop, gravity } = component
  if (crop === undefined) return undefined
  return cropGravityConflict(crop, gravity, shown(rawValues.get('g') ?? ''))
}

/**
 * The one rule for crop modes and gravities that cannot go together (checked when a URL is parsed
 * and again when a component is planned, where a bare `w_`/`h_` means `c_scale`). Cloudinary
 * documents the 400 for g_auto only; a face gravity on a mode that keeps the whole picture has
 * nothing to choose and is simply not used (real URLs like c_fit,g_face exist), except on pad
 * modes, where padding is placed by compass gravity alone.
 */
export function cropGravityConflict(
  crop: CropMode,
  gravity: Gravity | undefined,
  gravityText: string,
): string | undefined {
  const onPad = PADDING_MODES.has(crop) && crop !== 'fill_pad'
  if ((gravity?.kind === 'auto' && NON_CROPPING_MODES.has(crop)) || (gravity?.kind === 'face' && onPad)) {
    return `Conflicting transformation parameters: g_${gravityText} and c_${crop}`
  }
  if (crop === 'fill_pad' && gravity?.kind !== 'auto') return 'Crop mode fill_pad requires g_auto'
  return undefined
}

export interface ParsedChain {
  components: Component[]
  /** Component texts exactly as written. */
  rawComponents: string[]
}

/**
 * Parses a `/`-separated chain where every part must be a transformation (the text of a named
 * transformation, or the transformation part of a URL). An empty text is the empty chain.
 */
export function parseChain(text: string): Result<ParsedChain, DeliveryError> {
  if (text === '') return ok({ components: [], rawComponents: [] })
  const rawComponents = text.split('/')
  if (rawComponents.length > MAX_COMPONENTS) return badRequest('Too many transformation components')
  const components: Component[] = []
  for (const raw of rawComponents) {
    if (raw === '') return badRequest('Invalid transformation: empty component')
    const component = parseComponent(raw)
    if (!component.ok) return component
    components.push(component.value)
  }
  return ok({ components, rawComponents })
}
