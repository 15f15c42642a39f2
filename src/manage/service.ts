/**
 * The manage service (see types.ts): refresh, invalidate, eager derivation, listing and deletion of
 * stored pictures, shared by the Admin/Upload API and the Media Library page.
 *
 * Deletion and invalidation remove rows first and blobs after, each blob only once nothing refers
 * to it any more, so a crash in between leaves at worst an unreferenced blob, never a row
 * pointing at nothing.
 */
import { cacheTagOf } from '../delivery/cache-tags.ts'
import { derivedImageKey, foldDpr, needsFaces } from '../url/chain.ts'
import { chooseOutputFormat } from '../image/format.ts'
import { checkWork, DEFAULT_WORK_BUDGETS, type WorkBudget } from '../image/budget.ts'
import { planChain } from '../image/pipeline.ts'
import type { ImageLimits } from '../image/types.ts'
import { derivativeKey, type DerivativeSource } from '../ingest/derivatives.ts'
import type { PictureSource } from '../ingest/pictures.ts'
import { HttpError } from '../lib/http-error.ts'
import type { LoadedPlugin, PluginRegistry } from '../plugin-host/registry.ts'
import { UpstreamError } from '../plugin-host/types.ts'
import { FetchError } from '../fetch/types.ts'
import type { BlobStore, Derivative, Picture, Repository } from '../store/types.ts'
import { parseChain } from '../url/component.ts'
import { expandNamed, type NamedLookup } from '../url/named.ts'
import { ENCODABLE_EXTENSIONS } from '../url/parse.ts'
import { signDeliveryPath } from '../url/signature.ts'
import type { Component, ImageFormat } from '../url/types.ts'
import type { PurgeEvent } from './purge.ts'
import type { DeleteOutcome, DeliveryPathOptions, EagerResult, ManageService } from './types.ts'

export interface ManageDeps {
  apiSecret: string
  restrictedTypes: ReadonlySet<string>
  /** HEADSHOT_SIGN_TYPE: signatures cover the delivery type too. */
  signType?: boolean
  registry: PluginRegistry
  repo: Repository
  blobs: BlobStore
  pictures: PictureSource
  derivatives: DerivativeSource
  ensureFaces(picture: Picture): Promise<Picture>
  namedTransformation: NamedLookup
  imageLimits: ImageLimits
  /** What one eager derivation may cost: the API is trusted like a signed URL (default: the signed default). */
  workBudget?: WorkBudget
  refreshTtlMs: number
  /**
   * Forget in-memory responses (the delivery hot cache) after a picture changed, was invalidated or
   * deleted, here and (PostgreSQL) on the other instances.
   */
  forgetResponses(picture: { type: string; publicId: string }): void
  /** CDN purge hook (optional). */
  purge?: (event: PurgeEvent) => void
}

/** Cloudinary caps eager transformations per call; so do we, to bound the work of one request. */
export const MAX_EAGER = 20

/** Percent-encodes what the SDK's `smart_escape` encodes: everything but `A-Za-z0-9_.-/:`. */
export function escapePublicId(publicId: string): string {
  return publicId.replace(/[^A-Za-z0-9_.\-/:]+/g, (run) =>
    [...new TextEncoder().encode(run)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  )
}

/**
 * An upstream failure during a forced refresh, as an API status the Cloudinary SDKs parse: a rate
 * limit is their 429 (delivery says 503, which the SDKs do not read), the rest keep their status
 * with a message that names no upstream URL.
 */
export function upstreamFailure(error: unknown): HttpError | undefined {
  if (!(error instanceof UpstreamError || error instanceof FetchError)) return undefined
  const mapped = error.toHttpError()
  if (mapped.status === 503)
    return new HttpError(429, 'Upstream rate limit reached, try again later', { ...mapped.headers })
  return new HttpError(mapped.status, mapped.status === 504 ? 'Upstream timeout' : 'Upstream error')
}

export function createManageService(deps: ManageDeps): ManageService {
  const { repo, blobs } = deps

  function pluginOf(type: string): LoadedPlugin {
    const plugin = deps.registry.get(type)
    if (!plugin) throw new HttpError(400, `Invalid delivery type ${type}`)
    return plugin
  }

  /** The stored form of an id (plugins normalise, e.g. lower-case a hash); undefined when invalid. */
  function normalisedId(plugin: LoadedPlugin, publicId: string): string | undefined {
    const parsed = plugin.parseId(publicId)
    return parsed.ok ? parsed.value : undefined
  }

  async function dropBlobs(hashes: Iterable<string>): Promise<void> {
    for (const hash of new Set(hashes)) {
      if (!(await repo.isBlobReferenced(hash))) await blobs.delete(hash)
    }
  }

  /** Delivery paths known for a picture and its derivatives, for the purge hook's hints. */
  function knownPaths(picture: Picture, derived: readonly Derivative[]): string[] {
    const paths = new Set<string>([pathOf(picture.type, picture.publicId, {})])
    if (picture.format) paths.add(pathOf(picture.type, picture.publicId, { format: picture.format }))
    for (const d of derived) {
      const slash = d.key.lastIndexOf('/')
      const transformation = slash < 0 ? '' : d.key.slice(0, slash)
      paths.add(pathOf(picture.type, picture.publicId, { transformation, format: d.format }))
    }
    return [...paths]
  }

  function purge(picture: Picture, reason: PurgeEvent['reason'], paths: string[]): void {
    deps.forgetResponses(picture)
    deps.purge?.({
      tag: cacheTagOf(picture.type, picture.publicId),
      type: picture.type,
      publicId: picture.publicId,
      reason,
      paths,
    })
  }

  /** `signing: 'never'` for eager URLs, which are deliverable unsigned (and what the SDK builds). */
  function pathOf(
    type: string,
    publicId: string,
    options: DeliveryPathOptions,
    signing: 'auto' | 'never' = 'auto',
  ): string {
    let transformation = options.transformation ?? ''
    if (transformation !== '') {
      const parsed = parseChain(transformation)
      if (!parsed.ok) throw new HttpError(400, parsed.error.message)
      transformation = parsed.value.rawComponents.join('/')
    }
    const parts = ['', 'image', type]
    if (transformation !== '') parts.push(transformation)
    if (options.version !== undefined) parts.push(`v${options.version}`)
    const format = options.format ? `.${options.format}` : ''
    const path = `${parts.join('/')}/${escapePublicId(publicId)}${format}`
    if (signing === 'never' || !(options.sign || deps.restrictedTypes.has(type))) return path
    const signed = signDeliveryPath(path, deps.apiSecret, { bindType: deps.signType })
    if (!signed.ok) throw new HttpError(400, signed.error.message)
    return signed.value
  }

  /** `c_fill,w_80/png` → the chain, its output format and the text as written. */
  function parseEager(
    entry: string,
    picture: Picture,
  ): { text: string; chain: Component[]; format: ImageFormat; extension?: string } {
    let text = entry.trim()
    let extension: string | undefined
    const slash = text.lastIndexOf('/')
    const last = text.slice(slash + 1)
    // A trailing segment without `_` is the SDK's `/<format>` suffix, not a transformation.
    if (!last.includes('_') && last !== '') {
      if (!ENCODABLE_EXTENSIONS.has(last.toLowerCase())) throw new HttpError(400, `Invalid eager format ${last}`)
      extension = last.toLowerCase()
      text = slash < 0 ? '' : text.slice(0, slash)
    }
    const parsed = parseChain(text)
    if (!parsed.ok) throw new HttpError(400, `Invalid eager transformation ${text}: ${parsed.error.message}`)
    const expanded = expandNamed(parsed.value.components, deps.namedTransformation)
    if (!expanded.ok) throw new HttpError(400, expanded.error.message)
    // Keyed as delivery keys it: a `dpr_N` component of its own folded into the sized one before it.
    const chain = foldDpr(expanded.value.filter((c) => c.defaultImage === undefined))
    const { format } = chooseOutputFormat({
      chain,
      extension: extension === undefined ? undefined : ENCODABLE_EXTENSIONS.get(extension),
      sourceFormat: picture.format ?? 'jpg',
      accept: '',
    })
    return { text, chain, format, extension }
  }

  const service: ManageService = {
    types: () => deps.registry.types(),
    restricted: (type) => deps.restrictedTypes.has(type),
    list: (options) => repo.listPictures(options),
    counts: () => repo.countPictures(),

    async get(type, publicId) {
      const plugin = pluginOf(type)
      const id = normalisedId(plugin, publicId)
      if (id === undefined) throw new HttpError(400, `Invalid public id ${publicId}`)
      return repo.getPicture(type, id)
    },

    derivatives: (picture) => repo.listDerivatives(picture.type, picture.publicId),
    withFaces: (picture) => deps.ensureFaces(picture),

    async refresh(type, publicId, options = {}) {
      const plugin = pluginOf(type)
      const id = normalisedId(plugin, publicId)
      if (id === undefined) throw new HttpError(404, `Resource not found - ${publicId}`)
      const previous = await repo.getPicture(type, id)
      const before = previous ? await repo.listDerivatives(type, id) : []
      let picture: Picture
      try {
        picture = await deps.pictures.fetch(plugin, id, previous)
      } catch (error) {
        throw upstreamFailure(error) ?? error
      }
      if (picture.status !== 'ok') throw new HttpError(404, `Resource not found - ${publicId}`)
      const changed = previous?.status !== 'ok' || previous.contentHash !== picture.contentHash
      // A changed picture already lost its derivatives and was purged (the picture source's
      // change hook); invalidate on an unchanged one drops them now.
      let invalidated = changed && previous ? before.length : 0
      if (options.invalidate && !changed) invalidated = await service.invalidate(type, id)
      return { picture, changed, invalidated }
    },

    async invalidate(type, publicId) {
      const plugin = pluginOf(type)
      const id = normalisedId(plugin, publicId)
      if (id === undefined) throw new HttpError(404, `Resource not found - ${publicId}`)
      const picture = await repo.getPicture(type, id)
      if (!picture) throw new HttpError(404, `Resource not found - ${publicId}`)
      const derived = await repo.listDerivatives(type, id)
      const hashes = await repo.deleteDerivatives(type, id)
      await dropBlobs(hashes)
      purge(picture, 'invalidated', knownPaths(picture, derived))
      return derived.length
    },

    async eager(picture, transformations) {
      if (transformations.length > MAX_EAGER)
        throw new HttpError(400, `At most ${MAX_EAGER} eager transformations per call`)
      const plans = transformations.map((entry) => parseEager(entry, picture))
      let current = picture
      const budget = deps.workBudget ?? DEFAULT_WORK_BUDGETS.signed
      for (const plan of plans) {
        // Limits and the work budget on the plan before any pixel work, for every entry before the first derive.
        try {
          const size = { width: current.width ?? 0, height: current.height ?? 0 }
          const planned = planChain(plan.chain, size, deps.imageLimits, current.faces ?? [])
          if (current.format && size.width > 0 && size.height > 0)
            checkWork(planned, { size, format: current.format }, plan.format, budget, {
              unknownFaces: current.faces === null && needsFaces(plan.chain),
            })
        } catch (error) {
          throw new HttpError(400, (error as Error).message)
        }
      }
      if (current.faces === null && plans.some((p) => needsFaces(p.chain))) current = await deps.ensureFaces(current)
      const results: EagerResult[] = []
      for (const plan of plans) {
        const key = derivativeKey(derivedImageKey(plan.chain), plan.format)
        const { row } = await deps.derivatives.get(current, plan.chain, plan.format, key, { eager: true, budget })
        // The unsigned URL: an eager derivative is deliverable without a signature.
        const path = pathOf(
          current.type,
          current.publicId,
          { transformation: plan.text, version: current.version, format: plan.extension ?? row.format },
          'never',
        )
        results.push({ transformation: plan.text, derivative: row, path })
      }
      return results
    },

    async delete(type, publicIds, options = {}) {
      const plugin = pluginOf(type)
      const outcome: Record<string, DeleteOutcome> = {}
      for (const publicId of publicIds) {
        const id = normalisedId(plugin, publicId)
        const picture = id === undefined ? undefined : await repo.getPicture(type, id)
        if (!picture || id === undefined) {
          outcome[publicId] = 'not_found'
          continue
        }
        const paths = knownPaths(picture, await repo.listDerivatives(type, id))
        const hashes = await repo.deleteDerivatives(type, id)
        if (!options.keepOriginal) {
          await repo.deletePicture(type, id)
          if (picture.contentHash) hashes.push(picture.contentHash)
        }
        await dropBlobs(hashes)
        purge(picture, options.keepOriginal ? 'invalidated' : 'deleted', paths)
        outcome[publicId] = 'deleted'
      }
      return outcome
    },

    nextCheckAt: (picture) => picture.checkedAt + deps.refreshTtlMs,
    deliveryPath: (type, publicId, options = {}) => {
      pluginOf(type)
      return pathOf(type, publicId, options)
    },
  }
  return service
}
