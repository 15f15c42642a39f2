/**
 * A fake Graph API picture edge plus its CDN, on one loopback origin, behaving like the real one
 * (as Meta documents it and as captured responses show: the routes and answers listed below).
 *
 * Routes (request-log names in brackets):
 * - [picture] `GET /v{N}.{M}/{id}/picture` and the unversioned `/{id}/picture`: needs the app token
 *   `{appId}|{appSecret}` (query `access_token` or `Authorization: Bearer|OAuth`), else 400 code 190.
 *   `redirect=false|0|no` → `{data:{height,is_silhouette,url,width}}`; otherwise 302 to the CDN URL.
 *   Honours `type` (square/small/normal/large/album), `width`, `height`.
 * - [cdn] `GET /platform/profilepic/?asid=…&height=…&width=…&ext=…&hash=…`: the picture, until `ext`
 *   (unix seconds) passes; then 403 "URL signature expired". A tampered URL is 403 too.
 *
 * Control surface: `users` (add with `addUser`), `modes` (throttle, appsecret_proof, failures, any
 * Graph error), `clock.offsetSeconds` (move time to expire issued URLs), `requests` (per-route counts).
 * A test that drives its own clock passes it as `now`, so URLs expire in the same time as the code under test.
 */
import { createHmac, randomBytes } from 'node:crypto'
import { CONTENT_TYPES, makePicture } from '../../test/support/fakes/images.ts'
import { json, serveFake, type FakeServer, type Routed } from '../../test/support/fakes/server.ts'
import { sniffImage } from '../../test/support/http.ts'

export interface FakeFacebookPicture {
  /** Whose picture it is (see images.ts): decides the colour. */
  seed: string
  /** The largest side Facebook has for this user; requests for more get this. */
  side: number
}

/** An uploaded photo served as it is, whatever size is asked for (any shape, e.g. a real portrait). */
export interface FakeFacebookPhoto {
  bytes: Uint8Array
  width: number
  height: number
}

export interface FakeFacebookUser {
  /** `silhouette`: the account has no picture of its own (is_silhouette: true, a generic image). */
  picture: FakeFacebookPicture | FakeFacebookPhoto | 'silhouette'
}

/** Any Graph error envelope, for classification tables. */
export interface FakeGraphError {
  status: number
  code: number
  subcode?: number
  message?: string
  type?: string
  headers?: Record<string, string>
}

export interface FakeFacebookModes {
  /** Answer Graph calls with code 4 "(#4) Application request limit reached" and `X-App-Usage` at 100. */
  throttle: boolean
  /** HTTP status of throttled answers (Graph is inconsistent: 400, 403 and 429 are all seen). */
  throttleStatus: number
  /** When set, throttled answers carry `Retry-After: <seconds>`. */
  retryAfterSeconds: number | undefined
  /** The app's "Require App Secret" switch: calls without a valid appsecret_proof get 400 code 100. */
  requireAppSecretProof: boolean
  /** Hold every Graph answer this long (ms): an upstream that hangs. */
  stallMs: number
  /** `server_error`: 500 code 2 (transient); `garbage`: 200 with an HTML page instead of JSON. */
  failure: 'server_error' | 'garbage' | undefined
  /** Answer every Graph call (after the token check) with this error. */
  graphError: FakeGraphError | undefined
  /** How long issued CDN URLs stay valid. */
  urlLifetimeSeconds: number
}

export interface FakeFacebook extends FakeServer {
  readonly appId: string
  readonly appSecret: string
  /** The app access token the fake accepts: `{appId}|{appSecret}`. */
  readonly accessToken: string
  /** The env a plugin needs to talk to this fake. */
  readonly env: Record<string, string>
  users: Map<string, FakeFacebookUser>
  modes: FakeFacebookModes
  /** Added to the fake's clock: advance it past `urlLifetimeSeconds` to expire issued CDN URLs. */
  clock: { offsetSeconds: number }
  addUser(id: string, picture: FakeFacebookPicture | 'silhouette'): void
  /** A user whose picture is exactly these JPEG bytes (its size read from the header). */
  addPhoto(id: string, bytes: Uint8Array): void
}

export interface FakeFacebookOptions {
  appId?: string
  appSecret?: string
  /** The fake's clock, ms since epoch (default `Date.now`): pass the test's clock when it moves time by hand. */
  now?: () => number
}

const SILHOUETTE_SEED = 'facebook-silhouette'
const SIZES_BY_TYPE: Record<string, number> = { square: 50, small: 50, normal: 100, large: 200, album: 720 }

function graphError(status: number, error: Record<string, unknown>, headers: Record<string, string> = {}): Response {
  const fbtrace_id = randomBytes(8).toString('base64url')
  return json({ error: { ...error, fbtrace_id } }, status, headers)
}

function parseSide(value: string | null): number | undefined {
  if (value === null || !/^[0-9]{1,5}$/.test(value)) return undefined
  const side = Number(value)
  return side > 0 ? side : undefined
}

export function startFakeFacebook(options: FakeFacebookOptions = {}): FakeFacebook {
  const appId = options.appId ?? '1234567890123456'
  const appSecret = options.appSecret ?? 'fake-facebook-app-secret'
  const accessToken = `${appId}|${appSecret}`
  const cdnSecret = randomBytes(16)
  const users = new Map<string, FakeFacebookUser>()
  const modes: FakeFacebookModes = {
    throttle: false,
    throttleStatus: 400,
    retryAfterSeconds: undefined,
    requireAppSecretProof: false,
    stallMs: 0,
    failure: undefined,
    graphError: undefined,
    urlLifetimeSeconds: 4 * 24 * 3600,
  }
  const clock = { offsetSeconds: 0 }
  const now = options.now ?? Date.now
  const nowSeconds = () => Math.floor(now() / 1000) + clock.offsetSeconds
  let graphCalls = 0

  const cdnHash = (asid: string, width: string, height: string, ext: string) =>
    createHmac('sha256', cdnSecret).update(`${asid}:${width}:${height}:${ext}`).digest('base64url').slice(0, 22)

  function cdnUrl(origin: string, asid: string, side: number): string {
    const ext = String(nowSeconds() + modes.urlLifetimeSeconds)
    const query = new URLSearchParams({ asid, height: String(side), width: String(side), ext })
    query.set('hash', cdnHash(asid, String(side), String(side), ext))
    return `${origin}/platform/profilepic/?${query}`
  }

  function usageHeaders(): Record<string, string> {
    const callCount = modes.throttle ? 100 : Math.min(99, graphCalls)
    return {
      'x-app-usage': JSON.stringify({
        call_count: callCount,
        total_cputime: Math.min(callCount, 5),
        total_time: Math.min(callCount, 5),
      }),
    }
  }

  function tokenOf(request: Request, query: URLSearchParams): string | undefined {
    const fromQuery = query.get('access_token')
    if (fromQuery !== null) return fromQuery
    const match = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(request.headers.get('authorization') ?? '')
    return match?.[1]
  }

  function picture(request: Request, url: URL, id: string): Response {
    graphCalls++
    const usage = usageHeaders()
    if (modes.failure === 'server_error') {
      return graphError(
        500,
        {
          message: 'An unexpected error has occurred. Please retry your request later.',
          type: 'OAuthException',
          is_transient: true,
          code: 2,
        },
        usage,
      )
    }
    if (modes.failure === 'garbage') {
      return new Response('<!DOCTYPE html><html><body>Sorry, something went wrong.</body></html>', {
        status: 200,
        headers: { 'content-type': 'text/html' },
      })
    }

    const token = tokenOf(request, url.searchParams)
    if (token === undefined || token === '') {
      return graphError(
        400,
        { message: 'An access token is required to request this resource.', type: 'OAuthException', code: 190 },
        usage,
      )
    }
    if (token !== accessToken) {
      return graphError(
        400,
        { message: 'Invalid OAuth access token - Cannot parse access token', type: 'OAuthException', code: 190 },
        usage,
      )
    }
    const proof = url.searchParams.get('appsecret_proof')
    if (proof !== null && proof !== createHmac('sha256', appSecret).update(token).digest('hex')) {
      return graphError(
        400,
        { message: 'Invalid appsecret_proof provided in the API argument', type: 'GraphMethodException', code: 100 },
        usage,
      )
    }
    if (proof === null && modes.requireAppSecretProof) {
      return graphError(
        400,
        {
          message: 'API calls from the server require an appsecret_proof argument',
          type: 'GraphMethodException',
          code: 100,
        },
        usage,
      )
    }
    if (modes.graphError) {
      const { status, code, subcode, message, type, headers } = modes.graphError
      const error: Record<string, unknown> = {
        message: message ?? `(#${code}) Fake error`,
        type: type ?? 'OAuthException',
        code,
      }
      if (subcode !== undefined) error.error_subcode = subcode
      return graphError(status, error, { ...usage, ...headers })
    }
    if (modes.throttle) {
      const retry: Record<string, string> =
        modes.retryAfterSeconds === undefined ? {} : { 'retry-after': String(modes.retryAfterSeconds) }
      return graphError(
        modes.throttleStatus,
        { message: '(#4) Application request limit reached', type: 'OAuthException', is_transient: true, code: 4 },
        { ...usage, ...retry },
      )
    }

    const user = users.get(id)
    if (!user) {
      return graphError(
        400,
        {
          message: `Unsupported get request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
          type: 'GraphMethodException',
          code: 100,
          error_subcode: 33,
        },
        usage,
      )
    }

    if (user.picture !== 'silhouette' && 'bytes' in user.picture) {
      const { width, height } = user.picture
      return json({ data: { height, is_silhouette: false, url: cdnUrl(url.origin, id, width), width } }, 200, usage)
    }
    const native = user.picture === 'silhouette' ? 720 : user.picture.side
    const width = parseSide(url.searchParams.get('width'))
    const height = parseSide(url.searchParams.get('height'))
    const type = url.searchParams.get('type')
    const requested =
      width !== undefined || height !== undefined
        ? Math.max(width ?? 0, height ?? 0)
        : (SIZES_BY_TYPE[type ?? 'square'] ?? 50)
    const side = Math.min(requested, native)
    const location = cdnUrl(url.origin, id, side)

    const redirect = url.searchParams.get('redirect')
    if (redirect === 'false' || redirect === '0' || redirect === 'no') {
      return json(
        { data: { height: side, is_silhouette: user.picture === 'silhouette', url: location, width: side } },
        200,
        usage,
      )
    }
    return new Response(null, { status: 302, headers: { location, ...usage } })
  }

  async function cdn(url: URL): Promise<Response> {
    const query = url.searchParams
    const [asid, width, height, ext, hash] = ['asid', 'width', 'height', 'ext', 'hash'].map(
      (name) => query.get(name) ?? '',
    )
    if (hash !== cdnHash(asid!, width!, height!, ext!)) return new Response('Bad URL hash', { status: 403 })
    if (Number(ext) < nowSeconds()) return new Response('URL signature expired', { status: 403 })
    const user = users.get(asid!)
    const side = Number(width)
    if (!user || !Number.isInteger(side) || side < 1) return new Response('Not Found', { status: 404 })
    const bytes =
      user.picture !== 'silhouette' && 'bytes' in user.picture
        ? user.picture.bytes
        : await makePicture(user.picture === 'silhouette' ? SILHOUETTE_SEED : user.picture.seed, side, side, 'jpg')
    return new Response(bytes, {
      headers: { 'content-type': CONTENT_TYPES.jpg, 'cache-control': 'max-age=1209600, no-transform' },
    })
  }

  const server = serveFake(async (request, url): Promise<Routed> => {
    const pictureMatch = /^\/(?:v[0-9]+\.[0-9]+\/)?([^/]+)\/picture\/?$/.exec(url.pathname)
    if (request.method === 'GET' && pictureMatch) {
      if (modes.stallMs > 0) await Bun.sleep(modes.stallMs)
      return { route: 'picture', response: picture(request, url, decodeURIComponent(pictureMatch[1]!)) }
    }
    if (request.method === 'GET' && url.pathname === '/platform/profilepic/') {
      return { route: 'cdn', response: await cdn(url) }
    }
    return {
      route: 'unknown',
      response: graphError(400, {
        message: `Unknown path components: ${url.pathname}`,
        type: 'OAuthException',
        code: 2500,
      }),
    }
  })

  return {
    ...server,
    appId,
    appSecret,
    accessToken,
    env: {
      HEADSHOT_FACEBOOK_GRAPH_URL: server.url,
      HEADSHOT_FACEBOOK_APP_ID: appId,
      HEADSHOT_FACEBOOK_APP_SECRET: appSecret,
    },
    users,
    modes,
    clock,
    addUser(id, picture) {
      users.set(id, { picture })
    },
    addPhoto(id, bytes) {
      const size = sniffImage(bytes)
      if (!size) throw new Error(`addPhoto(${id}): not an image`)
      users.set(id, { picture: { bytes, width: size.width, height: size.height } })
    },
  }
}

export { startFakeFacebook as start }
