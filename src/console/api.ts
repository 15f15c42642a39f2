/**
 * The console's JSON endpoints (`/console/api/…`), thin over ManageService. Each handler gets a
 * request that already passed the session (and, for actions, the CSRF) checks in routes.ts.
 * A picture is named by the query parameters `type` and `id`, so any id survives unmangled.
 */
import { HttpError } from '../lib/http-error.ts'
import type { ManageService } from '../manage/types.ts'
import type { ListOptions } from '../store/types.ts'
import { ENCODABLE_EXTENSIONS } from '../url/parse.ts'
import { countByNetwork, describe, summarise } from './present.ts'

export interface ApiDeps {
  manage: ManageService
  cloudName: string
  sweeperStatus?: () => unknown
}

/** Page sizes the grid asks for; the store allows up to 500 but a page of thumbnails should stay light. */
const DEFAULT_PAGE = 48
const MAX_PAGE = 100
const MAX_TEXT = 512

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { 'Cache-Control': 'no-store', ...headers } })
}

export function jsonError(status: number, message: string, headers: Record<string, string> = {}): Response {
  return json({ error: { message } }, status, headers)
}

/** A query parameter, bounded; undefined when absent or empty. */
function param(url: URL, name: string): string | undefined {
  const value = url.searchParams.get(name) ?? ''
  if (value.length > MAX_TEXT) throw new HttpError(400, `Parameter ${name} is too long`)
  return value === '' ? undefined : value
}

function required(url: URL, name: string): string {
  const value = param(url, name)
  if (value === undefined) throw new HttpError(400, `Missing parameter ${name}`)
  return value
}

function oneOf<T extends string>(url: URL, name: string, allowed: readonly T[]): T | undefined {
  const value = param(url, name)
  if (value === undefined) return undefined
  if (!(allowed as readonly string[]).includes(value)) throw new HttpError(400, `Invalid ${name}: ${value}`)
  return value as T
}

function pageSize(url: URL): number {
  const value = param(url, 'limit')
  if (value === undefined) return DEFAULT_PAGE
  if (!/^[0-9]{1,3}$/.test(value) || Number(value) < 1) throw new HttpError(400, `Invalid limit: ${value}`)
  return Math.min(MAX_PAGE, Number(value))
}

async function storedPicture(manage: ManageService, url: URL) {
  const type = required(url, 'type')
  const id = required(url, 'id')
  const picture = await manage.get(type, id)
  if (!picture) throw new HttpError(404, `Resource not found - ${id}`)
  return picture
}

export function createApi(deps: ApiDeps) {
  const { manage } = deps
  return {
    /** What the page needs once: the cloud, the networks, and its CSRF token. */
    session(csrfToken: string): Response {
      const networks = manage.types().map((type) => ({ type, restricted: manage.restricted(type) }))
      return json({ csrfToken, cloudName: deps.cloudName, networks })
    },

    /** The background sweeper's own summary, when the app has one. */
    status(): Response {
      if (!deps.sweeperStatus) return json({ sweeper: null })
      try {
        return json({ sweeper: deps.sweeperStatus() ?? null })
      } catch (error) {
        return json({ sweeper: null, error: { message: `Sweeper status unavailable: ${(error as Error).message}` } })
      }
    },

    async list(url: URL): Promise<Response> {
      const options: ListOptions = {
        type: param(url, 'type'),
        prefix: param(url, 'prefix'),
        sortBy: oneOf(url, 'sort', ['created_at', 'checked_at'] as const),
        direction: oneOf(url, 'direction', ['asc', 'desc'] as const),
        cursor: param(url, 'cursor'),
        maxResults: pageSize(url),
      }
      if (options.type !== undefined && !manage.types().includes(options.type)) {
        throw new HttpError(400, `Invalid delivery type ${options.type}`)
      }
      const page = await manage.list(options)
      return json({
        pictures: page.pictures.map((picture) => summarise(manage, picture)),
        nextCursor: page.nextCursor ?? null,
      })
    },

    async counts(): Promise<Response> {
      return json(countByNetwork(manage, await manage.counts()))
    },

    async details(url: URL): Promise<Response> {
      return json(await describe(manage, await storedPicture(manage, url)))
    },

    /** The URL builder: a delivery path for what the user typed, signed when the type needs it. */
    async deliveryUrl(url: URL): Promise<Response> {
      const picture = await storedPicture(manage, url)
      const transformation = (param(url, 'transformation') ?? '').trim().replace(/^\/+|\/+$/g, '')
      const format = param(url, 'format')?.toLowerCase()
      if (format !== undefined && !ENCODABLE_EXTENSIONS.has(format)) {
        throw new HttpError(400, `Invalid format: ${format}`)
      }
      const path = manage.deliveryPath(picture.type, picture.publicId, {
        transformation,
        format,
        version: url.searchParams.get('versioned') === 'false' ? undefined : picture.version,
      })
      return json({ path, signed: /\/s--[A-Za-z0-9_-]+--\//.test(path) })
    },

    async refresh(url: URL): Promise<Response> {
      const outcome = await manage.refresh(required(url, 'type'), required(url, 'id'))
      const details = await describe(manage, outcome.picture)
      return json({ changed: outcome.changed, invalidated: outcome.invalidated, picture: details })
    },

    async invalidate(url: URL): Promise<Response> {
      return json({ invalidated: await manage.invalidate(required(url, 'type'), required(url, 'id')) })
    },

    async remove(url: URL): Promise<Response> {
      const id = required(url, 'id')
      const outcome = await manage.delete(required(url, 'type'), [id])
      const result = outcome[id] ?? 'not_found'
      if (result === 'not_found') throw new HttpError(404, `Resource not found - ${id}`)
      return json({ deleted: id })
    },
  }
}

export type ConsoleApi = ReturnType<typeof createApi>

/** HttpError → its status and message; a bad list cursor → 400; anything else → a logged 500. */
export function errorResponse(error: unknown, log: (message: string) => void = console.error): Response {
  if (error instanceof HttpError) return jsonError(error.status, error.message, { ...error.headers })
  log(`console: ${(error as Error)?.stack ?? error}`)
  return jsonError(500, 'Internal error')
}
