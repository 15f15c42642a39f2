/**
 * The Admin and Upload API routes (Cloudinary's paths and shapes), declared with their TypeBox
 * schemas so that validation and `/openapi.json` come from the same declarations. Each handler
 * authenticates first (so an anonymous caller learns nothing), counts the call against the hourly
 * allowance, then does one thing through the manage service.
 */
import { Elysia, t } from 'elysia'
import { HttpError } from '../lib/http-error.ts'
import type { ManageService } from '../manage/types.ts'
import type { Picture } from '../store/types.ts'
import { decodePercentStrict } from '../url/percent.ts'
import { requireBasicAuth, requireSignedParams, type Credentials } from './auth.ts'
import { explicit } from './explicit.ts'
import { apiError, apiJson, flag, list, text, type ParamValue } from './http.ts'
import { createRateLimiter } from './rate-limit.ts'
import { derivedJson, faceTuples, resourceJson, type UrlBase } from './resource-json.ts'
import { type PublicUrl, urlBaseOf } from './url-base.ts'
import {
  DeleteBody,
  DeleteResult,
  DetailsQuery,
  ErrorBody,
  ExplicitBody,
  ListQuery,
  Pending,
  Resource,
  ResourceList,
} from './schemas.ts'

export interface ApiDeps extends Credentials {
  cloudName: string
  /** HEADSHOT_PUBLIC_URL: the origin (and path prefix) written into every `url`/`secure_url`. */
  publicUrl?: PublicUrl
  manage: ManageService
  /** Calls per hour (X-FeatureRateLimit-*). */
  rateLimitPerHour: number
  now?: () => number
  log?: (message: string) => void
}

/** Cloudinary caps one delete call at 100 ids, and prefix/all deletions at 1,000 pictures per call. */
export const MAX_DELETE_IDS = 100
export const MAX_DELETE_BATCH = 1000

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 429: ErrorBody }

export function createApiRoutes(deps: ApiDeps) {
  const now = deps.now ?? Date.now
  const log = deps.log ?? ((message: string) => console.error(message))
  const limiter = createRateLimiter(deps.rateLimitPerHour, now)

  const baseOf = (request: Request): UrlBase =>
    urlBaseOf(request, { cloudName: deps.cloudName, publicUrl: deps.publicUrl })

  function checkCloud(cloud: string): void {
    if (cloud !== deps.cloudName) throw new HttpError(404, 'Unknown cloud name')
  }

  /** Admin API preamble: cloud, Basic auth, allowance. Returns the rate-limit headers. */
  function admin(request: Request, cloud: string): Record<string, string> {
    checkCloud(cloud)
    requireBasicAuth(request, deps)
    return limiter.take()
  }

  /** `/resources/image/<type>/<id>` with the id exactly as sent (it may hold `/` and `%xx`). */
  function detailsTarget(request: Request): { type: string; publicId: string } {
    const path = new URL(request.url).pathname
    const match = /^\/v1_1\/[^/]+\/resources\/image\/([^/]+)\/(.+)$/.exec(path)
    const publicId = match ? decodePercentStrict(match[2]!) : undefined
    if (!match || publicId === undefined) throw new HttpError(400, 'Invalid public id')
    return { type: match[1]!, publicId }
  }

  async function listResources(request: Request, query: Record<string, unknown>, type: string | undefined) {
    const headers = admin(request, String((query as { cloud?: string }).cloud ?? deps.cloudName))
    if (type !== undefined && !deps.manage.types().includes(type))
      throw new HttpError(400, `Invalid delivery type ${type}`)
    const direction = query.direction === 'asc' || query.direction === '1' ? 'asc' : 'desc'
    const page = await deps.manage.list({
      type,
      status: 'ok',
      prefix: typeof query.prefix === 'string' && query.prefix !== '' ? query.prefix : undefined,
      maxResults: typeof query.max_results === 'number' ? query.max_results : 10,
      cursor: typeof query.next_cursor === 'string' && query.next_cursor !== '' ? query.next_cursor : undefined,
      direction,
    })
    const base = baseOf(request)
    const body: Record<string, unknown> = { resources: page.pictures.map((p) => resourceJson(p, base)) }
    if (page.nextCursor) body.next_cursor = page.nextCursor
    return apiJson(body, headers)
  }

  async function deleteResources(type: string, params: Record<string, ParamValue>): Promise<Record<string, unknown>> {
    if (!deps.manage.types().includes(type)) throw new HttpError(400, `Invalid delivery type ${type}`)
    if (params.transformations !== undefined)
      throw new HttpError(400, 'Deleting single derived transformations is not supported; use keep_original')
    const keepOriginal = flag(params.keep_original)
    const ids = [...list(params['public_ids[]']), ...list(params.public_ids)]
    const prefix = text(params.prefix)
    const all = flag(params.all)
    const chosen = [ids.length > 0, prefix !== undefined, all].filter(Boolean).length
    if (chosen !== 1) throw new HttpError(400, 'Give exactly one of public_ids[], prefix or all')
    if (ids.length > MAX_DELETE_IDS) throw new HttpError(400, `At most ${MAX_DELETE_IDS} public_ids per call`)

    let targets = ids
    let nextCursor: string | undefined
    if (ids.length === 0) {
      targets = []
      let cursor = text(params.next_cursor)
      // Oldest first, in pages, up to the per-call cap; the cursor continues a partial deletion.
      while (targets.length < MAX_DELETE_BATCH) {
        const page = await deps.manage.list({
          type,
          prefix,
          cursor,
          direction: 'asc',
          maxResults: Math.min(500, MAX_DELETE_BATCH - targets.length),
        })
        targets.push(...page.pictures.map((p) => p.publicId))
        cursor = page.nextCursor
        if (!cursor) break
      }
      nextCursor = cursor
    }

    const derivedCounts = new Map<string, number>()
    for (const id of targets) {
      const picture = await deps.manage.get(type, id).catch(() => undefined)
      derivedCounts.set(id, picture ? (await deps.manage.derivatives(picture)).length : 0)
    }
    const deleted = await deps.manage.delete(type, targets, { keepOriginal })
    const counts: Record<string, { original: number; derived: number }> = {}
    for (const [id, outcome] of Object.entries(deleted)) {
      counts[id] = {
        original: outcome === 'deleted' && !keepOriginal ? 1 : 0,
        derived: outcome === 'deleted' ? (derivedCounts.get(id) ?? 0) : 0,
      }
    }
    const body: Record<string, unknown> = { deleted, deleted_counts: counts, partial: nextCursor !== undefined }
    if (nextCursor) body.next_cursor = nextCursor
    return body
  }

  async function details(request: Request, query: Record<string, unknown>): Promise<Response> {
    const { type, publicId } = detailsTarget(request)
    let picture: Picture | undefined
    try {
      picture = await deps.manage.get(type, publicId)
    } catch (error) {
      // An id the network could never have is simply not found.
      if (error instanceof HttpError && error.message.startsWith('Invalid public id')) picture = undefined
      else throw error
    }
    if (picture?.status !== 'ok') throw new HttpError(404, `Resource not found - ${publicId}`)
    const base = baseOf(request)
    const held = picture
    const body = resourceJson(held, base)
    body.derived = (await deps.manage.derivatives(held)).map((d) => derivedJson(d, held, base))
    if (/^(true|1)$/i.test(String(query.faces ?? ''))) {
      picture = await deps.manage.withFaces(picture)
      body.faces = faceTuples(picture.faces ?? [])
    }
    return apiJson(body)
  }

  return new Elysia({ name: 'headshot-api', normalize: false })
    .onError(({ code, error }) => {
      if (error instanceof HttpError) return apiError(error.status, error.message, { ...error.headers })
      if (code === 'VALIDATION') return apiError(400, validationMessage(error))
      if (code === 'PARSE') return apiError(400, 'Malformed request body')
      if (code === 'NOT_FOUND') return undefined
      log(`api: ${(error as Error)?.stack ?? error}`)
      return apiError(500, 'Internal error')
    })
    .get(
      '/v1_1/:cloud/resources/image',
      ({ request, query, params }) => listResources(request, { ...query, cloud: params.cloud }, undefined),
      {
        query: ListQuery,
        response: { 200: ResourceList, ...errors },
        detail: { summary: 'List pictures of every network', tags: ['Admin API'], security: [{ basic: [] }] },
      },
    )
    .get(
      '/v1_1/:cloud/resources/image/:type',
      ({ request, query, params }) => listResources(request, { ...query, cloud: params.cloud }, params.type),
      {
        query: ListQuery,
        response: { 200: ResourceList, ...errors },
        detail: {
          summary: 'List pictures of one network (newest first)',
          tags: ['Admin API'],
          security: [{ basic: [] }],
        },
      },
    )
    .get(
      '/v1_1/:cloud/resources/image/:type/*',
      async ({ request, query, params }) => {
        const headers = admin(request, params.cloud)
        const response = await details(request, query)
        for (const [name, value] of Object.entries(headers)) response.headers.set(name, value)
        return response
      },
      {
        query: DetailsQuery,
        response: { 200: Resource, ...errors },
        detail: {
          summary: "One picture's details, derived images and (faces=true) face boxes",
          tags: ['Admin API'],
          security: [{ basic: [] }],
        },
      },
    )
    .delete(
      '/v1_1/:cloud/resources/image/:type',
      async ({ request, body, query, params }) => {
        const headers = admin(request, params.cloud)
        // The Node SDK sends DELETE parameters as a form body; others put them in the query.
        const fields = { ...(query as Record<string, ParamValue>), ...((body ?? {}) as Record<string, ParamValue>) }
        return apiJson(await deleteResources(params.type, fields), headers)
      },
      {
        body: t.Optional(DeleteBody),
        response: { 200: DeleteResult, ...errors },
        detail: {
          summary: 'Delete pictures (public_ids[], prefix or all), or only their derived images (keep_original)',
          tags: ['Admin API'],
          security: [{ basic: [] }],
        },
      },
    )
    .post(
      '/v1_1/:cloud/image/explicit',
      async ({ request, body, params }) => {
        checkCloud(params.cloud)
        const fields = body as Record<string, ParamValue>
        requireSignedParams(fields, deps, now())
        const headers = limiter.take()
        return apiJson(
          await explicit(fields, baseOf(request), { manage: deps.manage, apiSecret: deps.apiSecret, log }),
          headers,
        )
      },
      {
        body: ExplicitBody,
        response: { 200: t.Union([Resource, Pending]), ...errors },
        detail: {
          summary: 'Refresh a picture from its network now (Upload API explicit): new version, invalidate, eager',
          tags: ['Upload API'],
          security: [{ signature: [] }],
        },
      },
    )
}

/** Elysia's validation error as one readable sentence naming the parameter. */
function validationMessage(error: unknown): string {
  // A schema's own `error` text names its parameter; Elysia reports it as customError.
  const custom = (error as { customError?: unknown }).customError
  if (typeof custom === 'string') return custom
  const first = (error as { all?: Array<{ path?: string; message?: string; summary?: string }> }).all?.[0]
  const name = (first?.path ?? '').replace(/^\//, '').replaceAll('/', '.') || 'request'
  const problem = first?.message ?? 'invalid'
  if (/required property/i.test(problem)) return `Missing required parameter - ${name}`
  return `Invalid value for ${name}: ${problem}`
}
