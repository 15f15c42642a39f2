/**
 * The delivery route as a short list of named steps: parse the raw URL, find the network, authorise,
 * read the id and the chain, get the picture (fetched once), choose the output and check its
 * limits, then answer from the original or a derivative (transformed once). Every failure is an
 * HttpError that becomes a status plus `X-Cld-Error`; nothing here throws to the server.
 */
import { checkWork, DEFAULT_WORK_BUDGETS, type WorkBudget, type WorkBudgets } from '../image/budget.ts'
import { chooseOutputFormat } from '../image/format.ts'
import { planChain } from '../image/pipeline.ts'
import { sha256Hex } from '../lib/hash.ts'
import type { DeriveInput, DeriveOutput, ImageLimits } from '../image/types.ts'
import {
  createDerivativeSource,
  type DerivativeSource,
  derivativeKey,
  isMissingOriginal,
  missingOriginal,
} from '../ingest/derivatives.ts'
import type { PictureSource } from '../ingest/pictures.ts'
import type { PluginRegistry } from '../plugin-host/registry.ts'
import { HttpError, toHttpError } from '../lib/http-error.ts'
import type { BlobStore, HeldPicture, Picture, Repository } from '../store/types.ts'
import { attachmentName, needsFaces } from '../url/chain.ts'
import { rawPathOf } from '../url/parse.ts'
import type { Component } from '../url/types.ts'
import { cacheTagOf } from './cache-tags.ts'
import { describe } from './getinfo.ts'
import { readRequest, restrictedType, type Wanted } from './request.ts'
import { createHotCache } from './hot-cache.ts'
import { createPlaceholderRenderer, type Placeholders } from './placeholders.ts'
import {
  CACHE_PLACEHOLDER,
  CACHE_UNVERSIONED,
  CACHE_VERSIONED,
  errorResponse,
  imageResponse,
  JSON_CONTENT_TYPE,
  type ImageResponse,
} from './respond.ts'

export interface DeliveryDeps {
  cloudName: string
  apiSecret: string
  restrictedTypes: ReadonlySet<string>
  /** HEADSHOT_SIGN_TYPE: signatures cover the delivery type too. */
  signType?: boolean
  registry: PluginRegistry
  pictures: PictureSource
  repo: Repository
  blobs: BlobStore
  /** Runs a transformation (in a worker pool in production); `signal`: nobody waits for it any more. */
  derive: (input: DeriveInput, options?: { signal?: AbortSignal }) => Promise<DeriveOutput>
  /** Stored derivatives (default: one built from repo, blobs and derive). */
  derivatives?: DerivativeSource
  /** Cache-Control of URLs without `v<version>` (default 30 days; the app ties it to the refresh TTL). */
  unversionedCacheControl?: string
  imageLimits: ImageLimits
  /** What one derivation may cost, signed and unsigned (default DEFAULT_WORK_BUDGETS). */
  workBudgets?: WorkBudgets
  /** Named transformations (`t_<name>`), looked up at request time so a reload takes effect at once. */
  namedTransformation: (name: string) => string | undefined
  /** Strict mode: unsigned URLs may only use named transformations, these canonical chains, or existing derivatives. */
  strictTransformations?: { allowed: ReadonlySet<string> }
  /** Default images for `d_`. */
  placeholders: Placeholders
  /** How long an identical request is answered from memory (default 1000 ms; 0 turns it off). */
  hotCacheTtlMs?: number
  /** Detects and persists faces when a picture has none recorded yet (face gravity, *_faces effects). */
  ensureFaces?: (picture: Picture, signal?: AbortSignal) => Promise<Picture>
  now?: () => number
  log?: (message: string, error?: unknown) => void
}

export interface DeliveryHandler {
  (request: Request): Promise<Response>
  /** Forget hot responses (a picture changed or was deleted). */
  invalidate(): void
}

export function createDeliveryHandler(deps: DeliveryDeps): DeliveryHandler {
  const now = deps.now ?? Date.now
  const log =
    deps.log ?? ((message, error) => (error === undefined ? console.error(message) : console.error(message, error)))
  const unversionedCacheControl = deps.unversionedCacheControl ?? CACHE_UNVERSIONED
  const derivatives =
    deps.derivatives ?? createDerivativeSource({ repo: deps.repo, blobs: deps.blobs, derive: deps.derive, now })
  const placeholders = createPlaceholderRenderer(deps.placeholders, deps.derive, deps.imageLimits)
  const hot = createHotCache({ ttlMs: deps.hotCacheTtlMs ?? 1000, now })

  /** Strict mode: is this unsigned chain allowed without looking at the store? */
  function strictlyAllowed({ delivery, canonical }: Wanted): boolean {
    if (!deps.strictTransformations || delivery.signature || canonical === '') return true
    return onlyNamed(delivery.components) || deps.strictTransformations.allowed.has(canonical)
  }

  /**
   * Signed URLs spend the signed budget, and so do chains the operator wrote: named transformations
   * only, or an entry of the strict allow-list. Anything else an anonymous caller composed is unsigned.
   */
  function budgetFor(wanted: Wanted): WorkBudget {
    const budgets = deps.workBudgets ?? DEFAULT_WORK_BUDGETS
    if (wanted.delivery.signature || onlyNamed(wanted.delivery.components)) return budgets.signed
    return deps.strictTransformations?.allowed.has(wanted.canonical) ? budgets.signed : budgets.unsigned
  }

  /** The picture to answer from. Unsigned restricted and unlisted strict URLs never go upstream. */
  async function pictureFor(wanted: Wanted): Promise<Picture> {
    if (wanted.access === 'open' && strictlyAllowed(wanted)) return deps.pictures.ensure(wanted.plugin, wanted.id)
    const stored = await deps.repo.getPicture(wanted.plugin.type, wanted.id)
    if (wanted.access === 'eager_only') {
      if (stored?.status !== 'ok') throw restrictedType(wanted.delivery)
      return stored
    }
    // Strict transformations: an unsigned, unlisted chain is only served if it was derived before.
    if (stored?.status !== 'ok' || !(await derivatives.exists(stored, wanted.canonical))) {
      throw new HttpError(401, `Transformation ${wanted.delivery.rawComponents.join('/')} is not allowed`)
    }
    return stored
  }

  /** No picture upstream: the `d_` default image, transformed alike, or 404. */
  async function placeholderFor(request: Request, wanted: Wanted): Promise<ImageResponse> {
    const missing = `Resource not found - ${wanted.delivery.publicId}`
    const rendered = wanted.placeholderName
      ? await placeholders.render(
          wanted.placeholderName,
          wanted.chain,
          (source) => outputOf(request, wanted, source).format,
          { budget: budgetFor(wanted), signal: request.signal },
        )
      : undefined
    if (!rendered) throw new HttpError(404, missing)
    return {
      ...rendered,
      cacheControl: CACHE_PLACEHOLDER,
      varyAccept: outputOf(request, wanted, 'png').variesOnAccept,
      cldError: missing,
      attachmentName: attachmentName(wanted.chain, wanted.delivery.publicId),
      // Tagged with the picture it stands in for, so a purge when the picture appears replaces it.
      cacheTag: cacheTagOf(wanted.plugin.type, wanted.id),
    }
  }

  const outputOf = (request: Request, wanted: Wanted, sourceFormat: NonNullable<Picture['format']>) =>
    chooseOutputFormat({
      chain: wanted.chain,
      extension: wanted.delivery.extension,
      sourceFormat,
      accept: request.headers.get('accept') ?? '',
    })

  /** Everything a delivery request resolves to, before HTTP (conditional requests, HEAD) applies. */
  async function resolveImage(request: Request): Promise<ImageResponse> {
    const wanted = readRequest(request, deps)
    let picture = await pictureFor(wanted)
    if (picture.status !== 'ok') {
      // A default image stands in for pixels; there is nothing to describe.
      if (wanted.getinfo) throw new HttpError(404, `Resource not found - ${wanted.delivery.publicId}`)
      return placeholderFor(request, wanted)
    }

    const { format, variesOnAccept } = outputOf(request, wanted, picture.format)
    // Limits are checked on the plan, before any pixel is decoded (400 when exceeded).
    const plan = planChain(wanted.chain, picture, deps.imageLimits, picture.faces ?? [])
    const key = derivativeKey(wanted.canonical, format)
    if (wanted.access === 'eager_only' && !(await derivatives.find(picture, key))?.eager)
      throw restrictedType(wanted.delivery)
    const servesOriginal = wanted.canonical === '' && format === picture.format

    const common = {
      // A version, or `fl_immutable_cache`, says the URL never changes meaning.
      cacheControl:
        // Only the picture's own version promises the bytes never change: any other `v<N>` (a typo, a
        // guess, an old version) is served the current picture, which may still change.
        wanted.delivery.version === picture.version || immutable(wanted.chain)
          ? CACHE_VERSIONED
          : unversionedCacheControl,
      varyAccept: variesOnAccept,
      attachmentName: attachmentName(wanted.chain, wanted.delivery.publicId),
      cacheTag: cacheTagOf(picture.type, picture.publicId),
    }
    if (wanted.getinfo) {
      // The faces are part of the answer: detect them once (persisted) if they never were.
      const described = picture.faces === null && deps.ensureFaces ? await deps.ensureFaces(picture) : picture
      if (described.status !== 'ok') throw new HttpError(404, `Resource not found - ${wanted.delivery.publicId}`)
      const bytes = new TextEncoder().encode(JSON.stringify(describe(wanted, described, format, deps.imageLimits)))
      const { attachmentName: _, ...headers } = common
      return { ...headers, bytes, format, contentType: JSON_CONTENT_TYPE, hash: sha256Hex(bytes) }
    }
    // The work budget on the same plan, unless nothing is to be derived: an over-budget chain is
    // only served when its derived image exists already (made by a signed URL or the API).
    const budget = budgetFor(wanted)
    if (wanted.access === 'open' && !servesOriginal) {
      const source = { size: { width: picture.width, height: picture.height }, format: picture.format }
      const unknownFaces = picture.faces === null && needsFaces(wanted.chain)
      try {
        checkWork(plan, source, format, budget, { unknownFaces })
      } catch (refusal) {
        if (!(await derivatives.find(picture, key))) throw refusal
      }
    }
    const serve = async (held: HeldPicture): Promise<ImageResponse> => {
      if (wanted.canonical === '' && format === held.format) {
        const bytes = await deps.blobs.get(held.contentHash)
        if (!bytes) throw missingOriginal()
        return { ...common, bytes, format, hash: held.contentHash }
      }
      // The client's signal: if it goes away, work still queued for it alone is called off.
      const signal = request.signal
      const withFaces =
        held.faces === null && deps.ensureFaces && needsFaces(wanted.chain)
          ? await deps.ensureFaces(held, signal)
          : held
      const { row, bytes } = await derivatives.get(withFaces, wanted.chain, format, key, { budget, signal })
      return { ...common, bytes, format: row.format, hash: row.contentHash }
    }
    try {
      return await serve(picture)
    } catch (error) {
      // The stored bytes are gone: fetch the picture again (when this request may go upstream).
      if (!isMissingOriginal(error) || wanted.access !== 'open' || !strictlyAllowed(wanted)) throw error
      picture = await deps.pictures.fetch(wanted.plugin, wanted.id, picture)
      if (picture.status !== 'ok') return placeholderFor(request, wanted)
      return serve(picture)
    }
  }

  const handle = async (request: Request): Promise<Response> => {
    const key = hot.keyOf(request)
    const cached = hot.get(key)
    if (cached) return imageResponse(request, cached)
    try {
      const image = await resolveImage(request)
      hot.set(key, image)
      return imageResponse(request, image)
    } catch (error) {
      // The client went away (its queued work was called off): nobody reads this answer.
      if (request.signal.aborted) return errorResponse(request, 499, 'Client closed request')
      const failure = toHttpError(error)
      // Upstream trouble is routine (one line, with the full upstream detail the client does not
      // get); anything unexpected gets its stack.
      const detail = error instanceof Error && failure.status > 500 ? error.message : failure.message
      const line = `delivery ${request.method} ${rawPathOf(request.url)}: ${detail}`
      if (failure.status === 500) log(line, error)
      else if (failure.status > 500) log(line)
      return errorResponse(request, failure.status, failure.message, { ...failure.headers })
    }
  }
  return Object.assign(handle, { invalidate: () => hot.clear() })
}

/** Every component is a `t_` reference (or only `fl_getinfo`): the chain is the operator's. */
const onlyNamed = (components: readonly Component[]) =>
  components.every((c) => (Object.keys(c).length === 1 && c.named !== undefined) || isGetinfoOnly(c))

const isGetinfoOnly = (c: Component) => Object.keys(c).length === 1 && c.flags?.length === 1 && c.flags[0] === 'getinfo'

const immutable = (chain: readonly Component[]) => chain.some((c) => c.flags?.includes('immutable_cache'))
