/**
 * The delivery route as a short list of named steps: parse the raw URL, find the network, authorise,
 * read the id and the chain, check the limits that need no image, get the picture (fetched once),
 * choose the output and check its limits, then answer from the original or a derivative
 * (transformed once). Every failure is an HttpError that becomes a status plus `X-Cld-Error`;
 * nothing here throws to the server.
 *
 * Per-client limits charge a request only where it starts new work (an upstream fetch, a new
 * derivative or placeholder variant), never at the door: whatever is already stored is served to
 * anyone, however much they ask.
 */
import {
  checkChainBudget,
  checkWork,
  DEFAULT_WORK_BUDGETS,
  type WorkBudget,
  type WorkBudgets,
} from '../image/budget.ts'
import { acceptsWebp, chooseOutputFormat } from '../image/format.ts'
import { checkBeforeSource } from '../image/limits.ts'
import { planChain } from '../image/pipeline.ts'
import { sha256Hex } from '../lib/hash.ts'
import { keyBytes, LruCache } from '../lib/lru.ts'
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
import { noteTrace } from '../lib/request-trace.ts'
import type { TokenBuckets } from '../lib/token-bucket.ts'
import { type Charge, chargeFor } from './client-charge.ts'
import type { BlobPins } from '../store/pins.ts'
import type { ServedLog } from '../store/served.ts'
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
  CACHE_REDIRECT,
  CACHE_UNVERSIONED,
  CONTENT_TYPES,
  CACHE_VERSIONED,
  errorResponse,
  imageResponse,
  JSON_CONTENT_TYPE,
  type ImageResponse,
  type RedirectResponse,
  redirectResponse,
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
  /** Memory bound of the hot answers (default 32 MB; 0 turns them off). */
  hotCacheBytes?: number
  /** Detects and persists faces when a picture has none recorded yet (face gravity, *_faces effects). */
  ensureFaces?: (picture: Picture, signal?: AbortSignal) => Promise<Picture>
  /**
   * New work each client may cause (HEADSHOT_CLIENT_RATE): one token per unsigned request that
   * starts an upstream fetch or a transformation. Undefined: no per-client limit.
   */
  clientWork?: TokenBuckets
  /** Told when a request is refused for its client's allowance (a metric). */
  onClientLimited?: () => void
  /** Records each delivery of a held picture (batched), so the store bound forgets the least recently served. */
  served?: ServedLog
  /** An original read for a response is pinned meanwhile (the store bound never deletes it under us). */
  pins?: BlobPins
  /**
   * HEADSHOT_S3_REDIRECT_BYTES: an untransformed original of at least `minBytes` is answered 302 to
   * `urlFor` (a presigned URL of its object, valid PRESIGN_EXPIRES_SECONDS) instead of its bytes.
   */
  redirectOriginals?: { minBytes: number; urlFor(hash: string, contentType: string): string }
  now?: () => number
  log?: (message: string, error?: unknown) => void
}

export interface DeliveryHandler {
  /**
   * `client` names who sent the request (the bucket key of src/lib/client-ip.ts), worked out only
   * when the request is about to start work; undefined, or a function answering undefined: not limited.
   */
  (request: Request, client?: () => string | undefined): Promise<Response>
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
  const hot = createHotCache({ ttlMs: deps.hotCacheTtlMs ?? 1000, maxBytes: deps.hotCacheBytes, now })
  /**
   * Checks a warm hit would repeat, remembered once passed (never a refusal). Before the source:
   * keyed by everything they read (raw chain, whether signed, extension, WebP accepted), cleared
   * with the hot responses (a named-transformations reload). On the picture: per picture row
   * object (a changed row is a new object), a bounded number of chains each.
   */
  const passedBeforeSource = new LruCache<true>(4_000_000, (_, key) => keyBytes(key) + 64)
  const passedOnPicture = new WeakMap<Picture, Set<string>>()
  const MAX_PASSED_PER_PICTURE = 256

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
  async function pictureFor(wanted: Wanted, charge: Charge | undefined): Promise<Picture> {
    if (wanted.access === 'open' && strictlyAllowed(wanted)) {
      return deps.pictures.ensure(wanted.plugin, wanted.id, charge)
    }
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
  async function placeholderFor(request: Request, wanted: Wanted, charge: Charge | undefined): Promise<ImageResponse> {
    const missing = `Resource not found - ${wanted.delivery.publicId}`
    const rendered = wanted.placeholderName
      ? await placeholders.render(
          wanted.placeholderName,
          wanted.chain,
          (source) => outputOf(request, wanted, source).format,
          { budget: budgetFor(wanted), signal: request.signal, charge },
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

  /**
   * The part of the work budget that needs no source (steps, and the least the chain costs on any
   * picture), before the picture is looked up or fetched. A chain over it is still served when a
   * derived image of it exists already (made by a signed URL or the API), as the full check allows.
   */
  async function checkBudgetBeforeSource(request: Request, wanted: Wanted): Promise<boolean> {
    // The output format counts when the URL alone decides it (extension or `f_`), whatever the source.
    const outputs = new Set((['jpg', 'png', 'gif'] as const).map((source) => outputOf(request, wanted, source).format))
    const output = outputs.size === 1 ? [...outputs][0] : undefined
    try {
      checkChainBudget(wanted.chain, budgetFor(wanted), output)
      return true
    } catch (refusal) {
      const stored = await deps.repo.getPicture(wanted.plugin.type, wanted.id)
      if (stored?.status !== 'ok' || !(await derivatives.exists(stored, wanted.canonical))) throw refusal
      return false
    }
  }

  /** Everything a delivery request resolves to, before HTTP (conditional requests, HEAD) applies. */
  async function resolveImage(
    request: Request,
    client?: () => string | undefined,
  ): Promise<ImageResponse | RedirectResponse> {
    const wanted = readRequest(request, deps)
    // Before the picture is looked up (or fetched): a URL no source could satisfy costs no
    // upstream call and leaves no row. Unsigned restricted URLs get their 401 first, as before.
    const webp = acceptsWebp(request.headers.get('accept') ?? '')
    const chainKey = `${wanted.delivery.signature ? 's' : 'u'}\u0000${webp ? 'w' : ''}\u0000${wanted.delivery.extension ?? ''}\u0000${wanted.delivery.rawComponents.join('/')}`
    if (wanted.access === 'open' && !passedBeforeSource.get(chainKey)) {
      checkBeforeSource(wanted.chain, deps.imageLimits)
      if (await checkBudgetBeforeSource(request, wanted)) passedBeforeSource.set(chainKey, true)
    }
    const charge = chargeFor({
      buckets: deps.clientWork,
      client,
      signed: wanted.delivery.signature !== undefined,
      now,
      onLimited: deps.onClientLimited,
    })
    let picture = await pictureFor(wanted, charge)
    // In the same turn as the lookup: from here on the store bound leaves the picture alone.
    if (picture.status === 'ok') deps.served?.picture(picture.type, picture.publicId, now())
    if (picture.status !== 'ok') {
      // A default image stands in for pixels; there is nothing to describe.
      if (wanted.getinfo) throw new HttpError(404, `Resource not found - ${wanted.delivery.publicId}`)
      return placeholderFor(request, wanted, charge)
    }

    const { format, variesOnAccept } = outputOf(request, wanted, picture.format)
    const key = derivativeKey(wanted.canonical, format)
    const pictureKey = `${wanted.access}\u0000${format}\u0000${chainKey}`
    // Limits are checked on the plan, before any pixel is decoded (400 when exceeded); once passed
    // for this row and chain, a warm hit skips the plan and the work budget.
    const passed = passedOnPicture.get(picture)?.has(pictureKey) === true
    const plan = passed ? undefined : planChain(wanted.chain, picture, deps.imageLimits, picture.faces ?? [])
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
    if (plan) {
      let withinBudget = true
      if (wanted.access === 'open' && !servesOriginal) {
        const source = { size: { width: picture.width, height: picture.height }, format: picture.format }
        const unknownFaces = picture.faces === null && needsFaces(wanted.chain)
        try {
          checkWork(plan, source, format, budget, { unknownFaces })
        } catch (refusal) {
          if (!(await derivatives.find(picture, key))) throw refusal
          withinBudget = false
        }
      }
      if (withinBudget) rememberPassed(picture, pictureKey)
    }
    const serve = async (held: HeldPicture): Promise<ImageResponse | RedirectResponse> => {
      if (wanted.canonical === '' && format === held.format) {
        const redirect = deps.redirectOriginals
        // A download (`fl_attachment`) keeps its Content-Disposition: served here, never redirected.
        if (redirect && held.bytes >= redirect.minBytes && common.attachmentName === undefined) {
          return {
            location: redirect.urlFor(held.contentHash, CONTENT_TYPES[format]),
            cacheControl: CACHE_REDIRECT,
            varyAccept: common.varyAccept,
            cacheTag: common.cacheTag,
          }
        }
        const read = () => deps.blobs.get(held.contentHash)
        const bytes = await (deps.pins ? deps.pins.hold(held.contentHash, read) : read())
        if (!bytes) throw missingOriginal()
        return { ...common, bytes, format, hash: held.contentHash }
      }
      // The client's signal: if it goes away, work still queued for it alone is called off.
      const signal = request.signal
      const withFaces =
        held.faces === null && deps.ensureFaces && needsFaces(wanted.chain)
          ? await deps.ensureFaces(held, signal)
          : held
      const { row, bytes } = await derivatives.get(withFaces, wanted.chain, format, key, { budget, signal, charge })
      return { ...common, bytes, format: row.format, hash: row.contentHash }
    }
    try {
      return await serve(picture)
    } catch (error) {
      // The stored bytes are gone: fetch the picture again (when this request may go upstream).
      if (!isMissingOriginal(error) || wanted.access !== 'open' || !strictlyAllowed(wanted)) throw error
      charge?.()
      picture = await deps.pictures.fetch(wanted.plugin, wanted.id, picture)
      if (picture.status !== 'ok') return placeholderFor(request, wanted, charge)
      return serve(picture)
    }
  }

  function rememberPassed(picture: Picture, key: string): void {
    let passed = passedOnPicture.get(picture)
    if (!passed) {
      passed = new Set()
      passedOnPicture.set(picture, passed)
    }
    if (passed.size < MAX_PASSED_PER_PICTURE) passed.add(key)
  }

  const handle = async (request: Request, client?: () => string | undefined): Promise<Response> => {
    const key = hot.keyOf(request)
    const cached = hot.get(key)
    if (cached) {
      noteTrace({ hot: true })
      return imageResponse(request, cached)
    }
    try {
      const image = await resolveImage(request, client)
      // A redirect is not kept hot: signing a fresh URL costs less than remembering one.
      if ('location' in image) return redirectResponse(image)
      hot.offer(key, image)
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
  return Object.assign(handle, {
    invalidate: () => {
      hot.clear()
      passedBeforeSource.clear()
    },
  })
}

/** Every component is a `t_` reference (or only `fl_getinfo`): the chain is the operator's. */
const onlyNamed = (components: readonly Component[]) =>
  components.every((c) => (Object.keys(c).length === 1 && c.named !== undefined) || isGetinfoOnly(c))

const isGetinfoOnly = (c: Component) => Object.keys(c).length === 1 && c.flags?.length === 1 && c.flags[0] === 'getinfo'

const immutable = (chain: readonly Component[]) => chain.some((c) => c.flags?.includes('immutable_cache'))
