/**
 * Admin API (Cloudinary shape, cloudinary.md §4.6), as far as it exists today:
 * `GET /v1_1/<cloud>/resources/image/<type>/<public_id>` with `faces=true`.
 * Authentication is HTTP Basic `api_key:api_secret`, compared in constant time.
 * Errors are JSON `{"error":{"message"}}` with the HTTP status the SDK expects.
 */
import { timingSafeEqual } from 'node:crypto'
import type { PluginRegistry } from '../plugins/registry.ts'
import type { Picture, Repository } from '../store/types.ts'
import { decodePercentStrict } from '../url/percent.ts'

export interface AdminDeps {
  cloudName: string
  apiKey: string
  apiSecret: string
  registry: PluginRegistry
  repo: Repository
  /** Detect and persist faces if the picture has none recorded yet. */
  ensureFaces(picture: Picture): Promise<Picture>
}

export function apiError(status: number, message: string): Response {
  return Response.json({ error: { message } }, { status, headers: { 'Cache-Control': 'no-store' } })
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a)
  const right = new TextEncoder().encode(b)
  // Compare equal-length buffers so the time does not reveal the length of the prefix that matched.
  return left.byteLength === right.byteLength ? timingSafeEqual(left, right) : (timingSafeEqual(left, left), false)
}

/** Undefined when the Basic credentials are ours; otherwise the 401 to send. */
export function checkBasicAuth(request: Request, apiKey: string, apiSecret: string): Response | undefined {
  const header = request.headers.get('authorization') ?? ''
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header.trim())
  if (!match) return apiError(401, 'Must supply api_key')
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  const key = colon < 0 ? decoded : decoded.slice(0, colon)
  const secret = colon < 0 ? '' : decoded.slice(colon + 1)
  const keyOk = constantTimeEqual(key, apiKey)
  const secretOk = constantTimeEqual(secret, apiSecret)
  if (!keyOk) return apiError(401, `Invalid api_key ${key}`)
  if (!secretOk) return apiError(401, 'api_secret mismatch')
  return undefined
}

/** The Cloudinary resource object for a stored picture. */
export function resourceOf(picture: Picture, cloudName: string, host: string): Record<string, unknown> {
  const path = `/${cloudName}/image/${picture.type}/v${picture.version}/${encodeURIComponent(picture.publicId)}${picture.format ? `.${picture.format}` : ''}`
  return {
    public_id: picture.publicId,
    format: picture.format,
    version: picture.version,
    resource_type: 'image',
    type: picture.type,
    created_at: new Date(picture.createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    bytes: picture.bytes ?? 0,
    width: picture.width,
    height: picture.height,
    placeholder: picture.status !== 'ok',
    access_mode: 'public',
    etag: picture.contentHash?.slice(0, 32),
    url: `http://${host}${path}`,
    secure_url: `https://${host}${path}`,
  }
}

export function createAdminHandler(deps: AdminDeps) {
  /** GET /v1_1/:cloud/resources/image/:type/:public_id (raw path, so ids with `/` survive). */
  return async function resourceDetails(request: Request): Promise<Response> {
    const url = new URL(request.url)
    const match = /^\/v1_1\/([^/]+)\/resources\/image\/([^/]+)\/(.+)$/.exec(url.pathname)
    if (!match) return apiError(404, 'Not found')
    const [, cloud, type, rawId] = match as unknown as [string, string, string, string]
    if (cloud !== deps.cloudName) return apiError(404, `Unknown cloud name ${cloud}`)
    const denied = checkBasicAuth(request, deps.apiKey, deps.apiSecret)
    if (denied) return denied
    const plugin = deps.registry.get(type)
    if (!plugin) return apiError(400, `Invalid delivery type ${type}`)
    const decoded = decodePercentStrict(rawId)
    if (decoded === undefined) return apiError(400, 'Invalid public id')
    const id = plugin.parseId(decoded)
    if (!id.ok) return apiError(404, `Resource not found - ${decoded}`)

    let picture = await deps.repo.getPicture(type, id.value)
    if (!picture || picture.status !== 'ok') return apiError(404, `Resource not found - ${decoded}`)
    const body = resourceOf(picture, deps.cloudName, request.headers.get('host') ?? 'localhost')
    if (/^(true|1)$/i.test(url.searchParams.get('faces') ?? '')) {
      if (picture.faces === null) picture = await deps.ensureFaces(picture)
      body.faces = (picture.faces ?? []).map((box) => box.map((v) => Math.round(v)))
    }
    return Response.json(body, { headers: { 'Cache-Control': 'no-store' } })
  }
}
