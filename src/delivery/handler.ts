/**
 * The delivery route: raw URL → parsed request → authorised → picture (fetched once) →
 * derivative (transformed once) → bytes with CDN-friendly headers.
 * Every failure becomes a status plus an `X-Cld-Error` message; nothing here throws to the server.
 */
import { FetchError } from '../fetch/types.ts'
import { acceptsWebp, chooseOutputFormat } from '../image/format.ts'
import { planChain } from '../image/pipeline.ts'
import type { DeriveInput, DeriveOutput, ImageLimits } from '../image/types.ts'
import { TransformError } from '../image/types.ts'
import { createDerivativeSource, derivativeKey, type DerivativeSource } from '../ingest/derivatives.ts'
import type { PictureSource } from '../ingest/pictures.ts'
import { HttpError } from '../lib/http-error.ts'
import { SingleFlight } from '../lib/single-flight.ts'
import type { PluginRegistry } from '../plugins/registry.ts'
import { UpstreamError } from '../plugins/types.ts'
import type { BlobStore, Picture, Repository } from '../store/types.ts'
import { canonicalChain } from '../url/canonical.ts'
import { expandNamed } from '../url/named.ts'
import { parseDeliveryPath } from '../url/parse.ts'
import { verifyDeliverySignature } from '../url/signature.ts'
import type { Component, DeliveryRequest, OutputFormat } from '../url/types.ts'
import { QueueFullError } from '../workers/derive-pool.ts'
import { LruCache } from '../lib/lru.ts'
import { sha256Hex } from '../store/blobs.ts'
import type { Placeholders } from './placeholders.ts'
import { cacheTagOf } from './cache-tags.ts'
import {
  CACHE_PLACEHOLDER,
  CACHE_UNVERSIONED,
  CACHE_VERSIONED,
  errorResponse,
  imageResponse,
  type ImageResponse,
} from './respond.ts'

export interface DeliveryDeps {
  cloudName: string
  apiSecret: string
  restrictedTypes: ReadonlySet<string>
  registry: PluginRegistry
  pictures: PictureSource
  repo: Repository
  blobs: BlobStore
  /** Runs a transformation (in a worker pool in production). */
  derive: (input: DeriveInput) => Promise<DeriveOutput>
  /** Cache-Control of URLs without `v<version>` (default 30 days; the app ties it to the refresh TTL). */
  unversionedCacheControl?: string
  /** Stored derivatives (default: one built from repo, blobs and derive). */
  derivatives?: DerivativeSource
  imageLimits: ImageLimits
  /** Named transformations (`t_<name>`), looked up at request time so a reload takes effect at once. */
  namedTransformation: (name: string) => string | undefined
  /** Strict transformations: unsigned URLs may only use named transformations, these canonical chains, or existing derivatives. */
  strictTransformations?: { allowed: ReadonlySet<string> }
  /** Default images for `d_`. */
  placeholders: Placeholders
  /** How long an identical request is answered from memory (default 1000 ms; 0 turns it off). */
  hotCacheTtlMs?: number
  /** Detects and persists faces when a picture has none recorded yet (face gravity, *_faces effects). */
  ensureFaces?: (picture: Picture) => Promise<Picture>
  now?: () => number
  log?: (message: string, error?: unknown) => void
}

/** A failure with its HTTP status and `X-Cld-Error` text. */
class DeliveryFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

const HOT_TTL_MS_DEFAULT = 1000
const HOT_CACHE_BYTES = 32_000_000

/**
 * The path exactly as the client sent it (still percent-encoded), without the query string.
 * Signatures are computed over the escaped text, so the decoded form must never be used here.
 */
export function rawPathOf(url: string): string {
  const afterScheme = url.indexOf('://')
  const pathStart = afterScheme < 0 ? 0 : url.indexOf('/', afterScheme + 3)
  if (pathStart < 0) return '/'
  let end = url.length
  for (const stop of ['?', '#']) {
    const at = url.indexOf(stop, pathStart)
    if (at >= 0 && at < end) end = at
  }
  return url.slice(pathStart, end)
}

export interface DeliveryHandler {
  (request: Request): Promise<Response>
  /** Forget hot responses (a picture changed or was deleted). */
  invalidate(): void
}

export function createDeliveryHandler(deps: DeliveryDeps): DeliveryHandler {
  const now = deps.now ?? Date.now
  const log = deps.log ?? ((message, error) => (error === undefined ? console.error(message) : console.error(message, error)))
  const unversionedCacheControl = deps.unversionedCacheControl ?? CACHE_UNVERSIONED
  const derivatives = deps.derivatives ?? createDerivativeSource({ repo: deps.repo, blobs: deps.blobs, derive: deps.derive, now })
  // Placeholders are tiny and shared by every missing picture: keep their derivatives in memory.
  const placeholderOutputs = new LruCache<{ bytes: Uint8Array; format: OutputFormat; hash: string }>(32_000_000, (v) => v.bytes.byteLength)
  const placeholderFlights = new SingleFlight<{ bytes: Uint8Array; format: OutputFormat; hash: string }>()

  /**
   * `open`: anything may be served and fetched. `eager_only`: an unsigned URL of a restricted type,
   * which may only be answered from a derivative made ahead by `explicit` with `eager` (Cloudinary's
   * rule for restricted types); it never reaches upstream and never derives.
   */
  function authorise(request: DeliveryRequest): 'open' | 'eager_only' {
    if (request.signature) {
      if (!verifyDeliverySignature(request.signature, deps.apiSecret)) throw new DeliveryFailure(401, 'Invalid signature')
      return 'open'
    }
    return deps.restrictedTypes.has(request.type) ? 'eager_only' : 'open'
  }

  function expand(components: Component[]): Component[] {
    const expanded = expandNamed(components, deps.namedTransformation)
    if (!expanded.ok) throw new DeliveryFailure(expanded.error.status, expanded.error.message)
    return expanded.value
  }

  /** Strict mode: is this unsigned chain allowed without looking at the store? */
  function strictlyAllowed(delivery: DeliveryRequest, canonical: string): boolean {
    if (!deps.strictTransformations || delivery.signature || canonical === '') return true
    const onlyNamed = delivery.components.every((c) => Object.keys(c).length === 1 && c.named !== undefined)
    return onlyNamed || deps.strictTransformations.allowed.has(canonical)
  }

  async function servePlaceholder(
    request: Request,
    delivery: DeliveryRequest,
    name: string,
    chain: Component[],
    id?: string,
  ): Promise<ImageResponse> {
    const missing = `Resource not found - ${delivery.publicId}`
    const placeholder = await deps.placeholders.load(name)
    if (!placeholder) throw new DeliveryFailure(404, missing)
    const { format, variesOnAccept } = chooseOutputFormat({
      chain,
      extension: delivery.extension,
      sourceFormat: placeholder.format,
      accept: request.headers.get('accept') ?? '',
    })
    planChain(chain, { width: placeholder.width, height: placeholder.height }, deps.imageLimits)
    const key = `${placeholder.hash}/${canonicalChain(chain)}/${format}`
    let output = placeholderOutputs.get(key)
    if (!output) {
      output = await placeholderFlights.run(key, async () => {
        const derived = await deps.derive({ bytes: placeholder.bytes, format: placeholder.format, chain, output: format, faces: [] })
        const result = { bytes: derived.bytes, format: derived.format, hash: sha256Hex(derived.bytes) }
        placeholderOutputs.set(key, result)
        return result
      })
    }
    return {
      ...output,
      cacheControl: CACHE_PLACEHOLDER,
      varyAccept: variesOnAccept,
      cldError: missing,
      attachmentName: attachmentOf(chain, delivery.publicId),
      // Tagged with the picture it stands in for, so a purge when the picture appears replaces it.
      cacheTag: id === undefined ? undefined : cacheTagOf(delivery.type, id),
    }
  }

  /** Everything a delivery request resolves to, before HTTP (conditional requests, HEAD) applies. */
  async function resolveImage(request: Request): Promise<ImageResponse> {
    const parsed = parseDeliveryPath(rawPathOf(request.url), { cloudName: deps.cloudName })
    if (!parsed.ok) throw new DeliveryFailure(parsed.error.status, parsed.error.message)
    const delivery = parsed.value

    const plugin = deps.registry.get(delivery.type)
    if (!plugin) throw new DeliveryFailure(400, `Invalid delivery type ${delivery.type}`)
    const access = authorise(delivery)
    const restricted = () => new DeliveryFailure(401, `Restricted delivery type ${delivery.type}`)

    const id = plugin.parseId(delivery.publicId)
    if (!id.ok) {
      if (access === 'eager_only') throw restricted()
      throw new DeliveryFailure(400, `Invalid public id ${delivery.publicId}: ${id.error}`)
    }
    const expanded = expand(delivery.components)
    // `d_` chooses what to serve when there is no picture; it is not part of the picture's derivative.
    const placeholderName = lastDefined(expanded, (c) => c.defaultImage)
    const chain = withoutDefaultImage(expanded)
    const canonical = canonicalChain(chain)

    let picture: Picture
    if (access === 'eager_only') {
      const stored = await deps.repo.getPicture(plugin.type, id.value)
      if (stored?.status !== 'ok') throw restricted()
      picture = stored
    } else if (strictlyAllowed(delivery, canonical)) {
      picture = await deps.pictures.ensure(plugin, id.value)
    } else {
      // Strict transformations: an unsigned, unlisted chain is only served if it was derived before
      // (e.g. eagerly); it never triggers upstream fetches or new work.
      const stored = await deps.repo.getPicture(plugin.type, id.value)
      const existing = stored?.status === 'ok' && (await derivatives.exists(stored, canonical))
      if (!existing || !stored) throw new DeliveryFailure(401, `Transformation ${delivery.rawComponents.join('/')} is not allowed`)
      picture = stored
    }
    if (picture.status !== 'ok' || !picture.contentHash || !picture.format) {
      if (placeholderName) return servePlaceholder(request, delivery, placeholderName, chain, picture.publicId)
      throw new DeliveryFailure(404, `Resource not found - ${delivery.publicId}`)
    }

    const { format, variesOnAccept } = chooseOutputFormat({
      chain,
      extension: delivery.extension,
      sourceFormat: picture.format,
      accept: request.headers.get('accept') ?? '',
    })
    // Limits are checked on the plan, before any pixel is decoded (throws TransformError → 400).
    planChain(chain, { width: picture.width ?? 0, height: picture.height ?? 0 }, deps.imageLimits)

    const key = derivativeKey(canonical, format)
    if (access === 'eager_only' && !(await derivatives.find(picture, key))?.eager) throw restricted()

    const common: Omit<ImageResponse, 'bytes' | 'hash' | 'format'> = {
      cacheControl: delivery.version !== undefined ? CACHE_VERSIONED : unversionedCacheControl,
      varyAccept: variesOnAccept,
      attachmentName: attachmentOf(chain, delivery.publicId),
      cacheTag: cacheTagOf(picture.type, picture.publicId),
    }
    if (canonical === '' && format === picture.format) {
      const bytes = await deps.blobs.get(picture.contentHash)
      if (!bytes) throw new DeliveryFailure(500, 'Stored original is missing')
      return { ...common, bytes, format, hash: picture.contentHash }
    }

    if (picture.faces === null && deps.ensureFaces && needsFaces(chain)) picture = await deps.ensureFaces(picture)
    const { row, bytes } = await derivatives.get(picture, chain, format, key)
    return { ...common, bytes, format: row.format, hash: row.contentHash }
  }

  // Hot responses: the same URL asked again within a second is answered from memory, skipping the
  // parse, signature and store lookups. Safe because everything a response depends on is in the
  // raw path (signature, type, transformations) or in the normalised Accept choice; a picture that
  // changes upstream clears it (invalidate), and across instances one second of staleness is harmless.
  const hotTtlMs = deps.hotCacheTtlMs ?? HOT_TTL_MS_DEFAULT
  const hot = new LruCache<{ image: ImageResponse; at: number }>(hotTtlMs > 0 ? HOT_CACHE_BYTES : 0, (e) => e.image.bytes.byteLength + 512)

  const handle = async (request: Request): Promise<Response> => {
    const key = `${rawPathOf(request.url)}\u0000${acceptsWebp(request.headers.get('accept') ?? '') ? 'webp' : ''}`
    const cached = hot.get(key)
    if (cached && now() - cached.at < hotTtlMs) return imageResponse(request, cached.image)
    try {
      const image = await resolveImage(request)
      hot.set(key, { image, at: now() })
      return imageResponse(request, image)
    } catch (error) {
      const failure = classify(error)
      // Upstream trouble is routine (one line); anything unexpected gets its stack.
      if (failure.status === 500) log(`delivery ${request.method} ${rawPathOf(request.url)}: ${failure.message}`, error)
      else if (failure.status > 500) log(`delivery ${request.method} ${rawPathOf(request.url)}: ${failure.message}`)
      return errorResponse(request, failure.status, failure.message, failure.headers)
    }
  }
  return Object.assign(handle, { invalidate: () => hot.clear() })
}

function lastDefined<T>(chain: readonly Component[], pick: (c: Component) => T | undefined): T | undefined {
  for (let i = chain.length - 1; i >= 0; i--) {
    const value = pick(chain[i]!)
    if (value !== undefined) return value
  }
  return undefined
}

function withoutDefaultImage(chain: readonly Component[]): Component[] {
  return chain
    .map((c) => {
      if (c.defaultImage === undefined) return c
      const { defaultImage: _, ...rest } = c
      return rest
    })
    .filter((c) => Object.keys(c).length > 0)
}

/** Does this chain look at faces (face gravity, auto gravity, *_faces effects)? */
export function needsFaces(chain: readonly Component[]): boolean {
  return chain.some(
    (c) =>
      c.gravity?.kind === 'face' ||
      c.gravity?.kind === 'auto' ||
      c.effect?.name === 'blur_faces' ||
      c.effect?.name === 'pixelate_faces',
  )
}

/** `fl_attachment[:name]`: the download name, defaulting to the public id (as Cloudinary does). */
function attachmentOf(chain: Component[], publicId: string): string | undefined {
  for (let i = chain.length - 1; i >= 0; i--) {
    const component = chain[i]!
    if (!component.flags?.includes('attachment')) continue
    const name = component.attachmentName || publicId.split('/').pop() || 'image'
    // Header-safe: the parser limits fl_attachment names; public ids can hold anything.
    return name.replace(/[^A-Za-z0-9_.\- !]/g, '_')
  }
  return undefined
}

/** Map any failure to the status a client (and a CDN) should see. */
function classify(error: unknown): DeliveryFailure {
  if (error instanceof DeliveryFailure) return error
  if (error instanceof HttpError) return new DeliveryFailure(error.status, error.message, { ...error.headers })
  if (error instanceof TransformError) return new DeliveryFailure(400, error.message)
  if (error instanceof QueueFullError) return new DeliveryFailure(429, error.message, { 'Retry-After': '1' })
  if (error instanceof Error && error.name === 'ImageDecodeError') return new DeliveryFailure(502, `Upstream image could not be decoded: ${error.message}`)
  if (error instanceof UpstreamError) {
    if (error.code === 'timeout') return new DeliveryFailure(504, `Upstream timeout: ${error.message}`)
    if (error.code === 'rate_limited') {
      const seconds = error.retryAt ? Math.max(1, Math.ceil((error.retryAt - Date.now()) / 1000)) : 60
      return new DeliveryFailure(503, `Upstream rate limit: ${error.message}`, { 'Retry-After': String(seconds) })
    }
    return new DeliveryFailure(502, `Upstream error: ${error.message}`)
  }
  if (error instanceof FetchError) {
    if (error.code === 'timeout') return new DeliveryFailure(504, `Upstream timeout: ${error.message}`)
    return new DeliveryFailure(502, `Upstream error: ${error.message}`)
  }
  return new DeliveryFailure(500, 'Internal error')
}
