/**
 * Delivery URL path → DeliveryRequest (docs/compatibility.md, URL grammar).
 *
 * Works on the raw, still-escaped path: signatures cover the escaped text, so nothing is decoded
 * before the structure is known. The path is split once into segments that remember their
 * offsets; the signed text is then cut out *by position* (never by searching for the signature
 * string, which is how thumbor's signature-stripping bypass happened).
 */
import { deepFreeze } from '../lib/freeze.ts'
import { LruCache } from '../lib/lru.ts'
import { ok, type Result } from '../result.ts'
import { isTransformationSegment, parseComponent, MAX_COMPONENTS } from './component.ts'
import { badRequest, notFound, shown } from './errors.ts'
import { UNENCODABLE_FORMATS } from './params.ts'
import { decodePercentStrict } from './percent.ts'
import type { Component, DeliveryError, DeliveryRequest, ImageFormat, Signature } from './types.ts'

/** Longest path (query excluded) we parse, in UTF-8 bytes. SDK URLs for avatars are far shorter. */
export const MAX_PATH_BYTES = 2048

/** Words that sit in the resource-type position; seeing one tells us there is no cloud segment. */
const RESOURCE_TYPE_WORDS: ReadonlySet<string> = new Set(['image', 'video', 'raw'])
const DELIVERY_TYPE = /^[a-z0-9_]+$/
const SIGNATURE_SEGMENT = /^s--([A-Za-z0-9_-]{8}|[A-Za-z0-9_-]{32})--$/
const VERSION_SEGMENT = /^v\d+$/
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_CHARACTER_DECODED = /[\u0000-\u001f\u007f-\u009f]/

export const ENCODABLE_EXTENSIONS: ReadonlyMap<string, ImageFormat> = new Map<string, ImageFormat>([
  ['jpg', 'jpg'],
  ['jpeg', 'jpg'],
  ['png', 'png'],
  ['gif', 'gif'],
  ['webp', 'webp'],
])

/** A path segment and where it starts in the path, so text can be cut out by position. */
export interface Segment {
  readonly text: string
  readonly start: number
}

/** Where the parts of a delivery path are. Shared by the parser and `signDeliveryPath`. */
export interface PathLayout {
  /** The path with query and fragment removed. */
  readonly path: string
  readonly segments: readonly Segment[]
  readonly cloud?: string
  readonly resourceType: string
  readonly type: string
  /** Index in `segments` of the first segment after the type (a signature, or the rest). */
  readonly afterType: number
}

/**
 * The path exactly as the client sent it (still percent-encoded), without the query string.
 * Signatures are computed over the escaped text, so the decoded form must never be used here.
 */
export function rawPathOf(url: string): string {
  const afterScheme = url.indexOf('://')
  const pathStart = afterScheme < 0 ? 0 : url.indexOf('/', afterScheme + 3)
  return pathStart < 0 ? '/' : stripQuery(url.slice(pathStart))
}

/** The path without `?query` / `#fragment`: the query (the SDK's `?_a=`) is never routed on nor signed. */
export function stripQuery(rawPath: string): string {
  const query = rawPath.indexOf('?')
  const fragment = rawPath.indexOf('#')
  const end = Math.min(query < 0 ? rawPath.length : query, fragment < 0 ? rawPath.length : fragment)
  return rawPath.slice(0, end)
}

function splitSegments(path: string): Segment[] {
  const segments: Segment[] = []
  let start = 1 // after the leading '/'
  for (let i = 1; i <= path.length; i++) {
    if (i === path.length || path.charCodeAt(i) === 0x2f /* / */) {
      segments.push({ text: path.slice(start, i), start })
      start = i + 1
    }
  }
  return segments
}

const textAt = (segments: readonly Segment[], index: number): string | undefined => segments[index]?.text

/**
 * Finds cloud, resource type and type (the SDKs' forms `/<cloud>/image/<type>`, `/image/<type>`,
 * `/res/<cloud>/image/<type>`). With `knownCloud`, a first segment equal to it is always the cloud.
 * Checks the path-level limits too: length, leading `/`, control characters, empty segments.
 */
export function locateDeliveryPath(rawPath: string, knownCloud?: string): Result<PathLayout, DeliveryError> {
  const path = stripQuery(rawPath)
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so short paths need no counting.
  if (
    path.length > MAX_PATH_BYTES ||
    (path.length * 3 > MAX_PATH_BYTES && Buffer.byteLength(path, 'utf8') > MAX_PATH_BYTES)
  ) {
    return badRequest('URL too long')
  }
  if (!path.startsWith('/') || CONTROL_CHARACTER.test(path)) return badRequest('Invalid URL')
  const segments = splitSegments(path)
  const first = textAt(segments, 0) ?? ''

  let cloudIndex: number | undefined
  if (knownCloud !== undefined && first === knownCloud) cloudIndex = 0
  else if (
    first === 'res' &&
    ((knownCloud !== undefined && textAt(segments, 1) === knownCloud) ||
      RESOURCE_TYPE_WORDS.has(textAt(segments, 2) ?? ''))
  )
    cloudIndex = 1
  else if (RESOURCE_TYPE_WORDS.has(first)) cloudIndex = undefined
  else cloudIndex = 0

  const resourceIndex = cloudIndex === undefined ? 0 : cloudIndex + 1
  const cloud = cloudIndex === undefined ? undefined : textAt(segments, cloudIndex)
  const resourceType = textAt(segments, resourceIndex)
  const type = textAt(segments, resourceIndex + 1)
  if (cloud === '' || resourceType === undefined || resourceType === '') return badRequest('Invalid URL')
  if (cloud !== undefined && knownCloud !== undefined && cloud !== knownCloud) {
    return notFound(`Unknown cloud name ${shown(cloud)}`)
  }
  if (resourceType !== 'image') return badRequest(`Invalid resource type ${shown(resourceType)}`)
  if (type === undefined || type === '') return badRequest('Invalid URL')
  if (!DELIVERY_TYPE.test(type)) return badRequest(`Invalid delivery type ${shown(type)}`)

  const afterType = resourceIndex + 2
  const emptySegment = findMisplacedEmptySegment(segments, afterType)
  if (emptySegment !== undefined) return badRequest(emptySegment)
  return ok(
    cloud === undefined
      ? { path, segments, resourceType, type, afterType }
      : { path, segments, cloud, resourceType, type, afterType },
  )
}

/**
 * `//` never appears in SDK URLs (the SDK collapses it) except after a scheme (`http://…`, for
 * fetch-style ids). Anything else is a malformed URL, and refusing it keeps `a//b` and `a/b`
 * from being two spellings of one request. A trailing `/` means the public id is missing.
 */
function findMisplacedEmptySegment(segments: readonly Segment[], afterType: number): string | undefined {
  for (let i = afterType; i < segments.length; i++) {
    if (textAt(segments, i) !== '') continue
    if (i === segments.length - 1) return 'Missing public ID'
    if (i === afterType || !(textAt(segments, i - 1) ?? '').endsWith(':')) return 'Invalid URL'
  }
  return afterType >= segments.length ? 'Missing public ID' : undefined
}

interface SplitRest {
  components: Component[]
  rawComponents: string[]
  version?: number
  /** Index (in the rest) of the first public-id segment. */
  idStart: number
}

/**
 * Transformations, then an optional version, then the public id. With a version segment (the first
 * non-final `v<digits>`), everything before it is a transformation; without one, leading segments are
 * transformations while every token has a known key. The last segment always belongs to the id.
 */
function splitRest(rest: readonly Segment[]): Result<SplitRest, DeliveryError> {
  const last = rest.length - 1
  const versionIndex = rest.findIndex((s, i) => i < last && VERSION_SEGMENT.test(s.text))
  let transformationCount: number
  if (versionIndex >= 0) {
    transformationCount = versionIndex // everything before the version must be a transformation
  } else {
    transformationCount = 0
    while (transformationCount < last && isTransformationSegment(rest[transformationCount]?.text ?? '')) {
      transformationCount++
    }
  }
  if (transformationCount > MAX_COMPONENTS) return badRequest('Too many transformation components')

  const rawComponents = rest.slice(0, transformationCount).map((s) => s.text)
  const components = parseTransformations(rawComponents)
  if (!components.ok) return components
  if (versionIndex < 0) return ok({ components: components.value, rawComponents, idStart: transformationCount })

  const versionText = rest[versionIndex]?.text ?? ''
  const version = Number(versionText.slice(1))
  if (!Number.isSafeInteger(version)) return badRequest(`Invalid version ${shown(versionText)}`)
  return ok({ components: components.value, rawComponents, version, idStart: versionIndex + 1 })
}

/**
 * Parsed transformation parts of URLs, by their raw text (`c_fill,h_120,w_80/r_max`): a warm hit
 * repeats the same few chains with new versions and ids. Entries are deeply frozen, so no caller can
 * change what the next request gets (a mutation throws), and one chain is one array, which lets
 * later steps remember what they derive from it by identity (delivery/request.ts). Failures are not
 * kept: they are parsed again.
 */
const PARSED_CHAINS = new LruCache<readonly Component[]>(1024)
const NO_COMPONENTS: Component[] = deepFreeze([])

function parseTransformations(rawComponents: readonly string[]): Result<Component[], DeliveryError> {
  if (rawComponents.length === 0) return ok(NO_COMPONENTS)
  const key = rawComponents.join('/')
  const cached = PARSED_CHAINS.get(key)
  if (cached !== undefined) return ok(cached as Component[])
  const components: Component[] = []
  for (const raw of rawComponents) {
    const component = parseComponent(raw)
    if (!component.ok) return component
    components.push(component.value)
  }
  PARSED_CHAINS.set(key, deepFreeze(components))
  return ok(components)
}

interface PublicId {
  rawPublicId: string
  publicId: string
  extension?: ImageFormat
}

/**
 * A known image extension becomes the output format (any other dot is part of the id), then the id
 * is percent-decoded for lookup.
 */
function readPublicId(rawIdWithExtension: string): Result<PublicId, DeliveryError> {
  let rawPublicId = rawIdWithExtension
  let extension: ImageFormat | undefined
  const lastSlash = rawIdWithExtension.lastIndexOf('/')
  const dot = rawIdWithExtension.lastIndexOf('.')
  if (dot > lastSlash) {
    const candidate = rawIdWithExtension.slice(dot + 1).toLowerCase()
    const format = ENCODABLE_EXTENSIONS.get(candidate)
    if (UNENCODABLE_FORMATS.has(candidate)) return badRequest(`Unsupported output format ${candidate}`)
    // An unknown "extension" is part of the id: Facebook usernames such as `john.smith`.
    if (format !== undefined) {
      extension = format
      rawPublicId = rawIdWithExtension.slice(0, dot)
    }
  }
  if (rawPublicId === '' || rawPublicId.endsWith('/')) return badRequest('Missing public ID')

  const publicId = decodePercentStrict(rawPublicId)
  if (publicId === undefined) return badRequest('Invalid percent-encoding in public ID')
  if (CONTROL_CHARACTER_DECODED.test(publicId)) return badRequest('Invalid character in public ID')
  // `.`/`..` segments have no place in an identifier and are a traversal risk for any store.
  if (publicId.includes('.') && publicId.split('/').some((part) => part === '.' || part === '..')) {
    return badRequest('Invalid public ID')
  }
  return ok(extension === undefined ? { rawPublicId, publicId } : { rawPublicId, publicId, extension })
}

/**
 * Parses a raw delivery path (`/demo/image/facebook/s--SIG--/c_fill,w_80/v12/65646572251.jpg?_a=x`).
 * Whether the type is known, the signature valid, or the id exists is decided by the caller.
 */
export function parseDeliveryPath(
  rawPath: string,
  options: { cloudName: string },
): Result<DeliveryRequest, DeliveryError> {
  const located = locateDeliveryPath(rawPath, options.cloudName)
  if (!located.ok) return located
  const { path, segments, cloud, type, afterType } = located.value

  let restStart = afterType
  let signature: Signature | undefined
  const maybeSignature = segments[afterType]?.text ?? ''
  if (maybeSignature.startsWith('s--')) {
    const match = SIGNATURE_SEGMENT.exec(maybeSignature)
    if (match === null) return badRequest(`Malformed signature ${shown(maybeSignature)}`)
    const signed = segments[afterType + 1]
    if (signed === undefined) return badRequest('Missing public ID')
    signature = { value: match[1] ?? '', signedText: path.slice(signed.start) }
    restStart = afterType + 1
  }

  const rest = segments.slice(restStart)
  const split = splitRest(rest)
  if (!split.ok) return split
  const { components, rawComponents, version, idStart } = split.value
  const idSegment = rest[idStart]
  if (idSegment === undefined) return badRequest('Missing public ID')
  const id = readPublicId(path.slice(idSegment.start))
  if (!id.ok) return id

  const request: DeliveryRequest = {
    resourceType: 'image',
    type,
    rawComponents,
    components,
    rawPublicId: id.value.rawPublicId,
    publicId: id.value.publicId,
  }
  if (cloud !== undefined) request.cloud = cloud
  if (signature !== undefined) request.signature = signature
  if (version !== undefined) request.version = version
  if (id.value.extension !== undefined) request.extension = id.value.extension
  return ok(request)
}
