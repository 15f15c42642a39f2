/**
 * X (Twitter) API v2 user lookup, shared by plugins/twitter.ts (numeric id) and
 * plugins/twitter_name.ts (username). See upstreams.md §2 for the behaviour this encodes.
 */
import { Type, type Static } from '@sinclair/typebox'
import { signOAuth1 } from './oauth1.ts'
import { UpstreamError, type PluginContext, type Resolution } from './types.ts'
import { isRecord, jsonBody, toUpstreamError, type HttpResponse } from './upstream.ts'

export const xSettings = Type.Object({
  apiUrl: Type.String({ default: 'https://api.x.com', env: 'HEADSHOT_TWITTER_API_URL', baseUrl: true }),
  bearerToken: Type.Optional(Type.String({ env: 'HEADSHOT_TWITTER_BEARER_TOKEN' })),
  consumerKey: Type.Optional(Type.String({ env: 'HEADSHOT_TWITTER_CONSUMER_KEY' })),
  consumerSecret: Type.Optional(Type.String({ env: 'HEADSHOT_TWITTER_CONSUMER_SECRET' })),
  accessToken: Type.Optional(Type.String({ env: 'HEADSHOT_TWITTER_ACCESS_TOKEN' })),
  accessTokenSecret: Type.Optional(Type.String({ env: 'HEADSHOT_TWITTER_ACCESS_TOKEN_SECRET' })),
})
export type XSettings = Static<typeof xSettings>

/** Profile images live on pbs; the default-avatar placeholders on abs. */
export const xImageHosts = ['pbs.twimg.com', 'abs.twimg.com'] as const

const NETWORK = 'X'

/**
 * The `Authorization` header for one request: OAuth 1.0a user context when all four OAuth values
 * are configured, else the app-only bearer token. `nowMs` feeds the OAuth timestamp, so an injected
 * clock is what the upstream sees.
 */
export function xAuthorization(method: string, url: string, settings: XSettings, nowMs: number): string {
  const { consumerKey, consumerSecret, accessToken, accessTokenSecret, bearerToken } = settings
  if (consumerKey && consumerSecret && accessToken && accessTokenSecret) {
    return signOAuth1(
      { method, url },
      { consumerKey, consumerSecret, token: accessToken, tokenSecret: accessTokenSecret },
      { timestamp: Math.floor(nowMs / 1000) },
    ).authorization
  }
  if (bearerToken) return `Bearer ${bearerToken}`
  const someOAuth = [consumerKey, consumerSecret, accessToken, accessTokenSecret].some((value) => value)
  throw new UpstreamError(
    'auth',
    someOAuth
      ? 'no credentials configured: OAuth 1.0a needs all four HEADSHOT_TWITTER_CONSUMER_KEY/_SECRET and _ACCESS_TOKEN/_SECRET'
      : 'no credentials configured (HEADSHOT_TWITTER_BEARER_TOKEN or the four OAuth 1.0a values)',
  )
}

// `_normal` is the 48×48 variant the API hands out; removing it gives the original upload. Only
// rewrite it right before a known raster extension: any other shape we leave alone (upstreams.md §2).
const NORMAL_SUFFIX = /_normal(\.(?:jpe?g|png|gif))$/i
const DEFAULT_IMAGE_PATH = '/sticky/default_profile_images/'

/** Turn a `profile_image_url` into what to download: the original first, then the 400×400, then the URL as given. */
export function xProfileImageResolution(profileImageUrl: string): Resolution {
  let parsed: URL
  try {
    parsed = new URL(profileImageUrl)
  } catch {
    throw new UpstreamError('unavailable', `${NETWORK}: profile_image_url is not a URL`)
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new UpstreamError('unavailable', `${NETWORK}: profile_image_url is not http(s)`)
  }
  if (parsed.pathname.includes(DEFAULT_IMAGE_PATH)) return { kind: 'none' }

  // The URL is content-addressed (a new upload gets a new path), so it is the change key as is.
  const changeKey = profileImageUrl
  if (!NORMAL_SUFFIX.test(profileImageUrl)) return { kind: 'image', url: profileImageUrl, changeKey }
  return {
    kind: 'image',
    url: profileImageUrl.replace(NORMAL_SUFFIX, '$1'),
    // The original can be gone while the sized variants remain.
    alternates: [profileImageUrl.replace(NORMAL_SUFFIX, '_400x400$1'), profileImageUrl],
    changeKey,
  }
}

/** Problem `type` URIs are `https://api.twitter.com/2/problems/…` or `https://api.x.com/…`: match the suffix. */
function problemType(problem: unknown): string | undefined {
  if (!isRecord(problem) || typeof problem.type !== 'string') return undefined
  return problem.type.slice(problem.type.lastIndexOf('/') + 1)
}

/** A resource-not-found problem, at the top level or in `errors` (unknown and suspended users alike). */
function isResourceNotFound(body: unknown): boolean {
  if (!isRecord(body)) return false
  if (problemType(body) === 'resource-not-found') return true
  return Array.isArray(body.errors) && body.errors.some((problem) => problemType(problem) === 'resource-not-found')
}

function describe(response: HttpResponse): string {
  const body = jsonBody(response)
  const detail = isRecord(body) && typeof body.detail === 'string' ? `: ${body.detail}` : ''
  return `${NETWORK}: HTTP ${response.status}${detail}`
}

/** Classify a single-user lookup response (`GET /2/users/{id}` or `/2/users/by/username/{u}`). */
export function classifyXUserResponse(response: HttpResponse): Resolution {
  const { status } = response
  if (status === 429) {
    const reset = Number(response.headers.get('x-rate-limit-reset'))
    // x-rate-limit-reset is unix seconds; no Retry-After on X.
    const retryAt = Number.isFinite(reset) && reset > 0 ? reset * 1000 : undefined
    throw new UpstreamError('rate_limited', `${NETWORK}: rate limit exhausted`, retryAt)
  }
  if (status === 401 || status === 403) throw new UpstreamError('auth', describe(response))

  const body = jsonBody(response)
  // The docs promise 404 for an unknown user; only believe it when the body says so. A bare 404
  // ("Sorry, that page does not exist", an HTML proxy page) means a wrong HEADSHOT_TWITTER_API_URL,
  // and caching it as "not found" would hide every user.
  if (status === 404 && isResourceNotFound(body)) return { kind: 'not_found' }
  // Our syntax check passed but X refused the id or name (e.g. an id beyond what X issues).
  if (status === 400 && problemType(body) === 'invalid-request') return { kind: 'not_found' }
  if (status !== 200 || !isRecord(body)) throw new UpstreamError('unavailable', describe(response))

  if (isRecord(body.data)) {
    const url = body.data.profile_image_url
    if (typeof url !== 'string') throw new UpstreamError('unavailable', `${NETWORK}: response has no profile_image_url`)
    return xProfileImageResolution(url)
  }
  // Unknown and suspended users both come back as 200 with only `errors` of type resource-not-found.
  if (isResourceNotFound(body)) return { kind: 'not_found' }
  throw new UpstreamError('unavailable', `${NETWORK}: unexpected response without data`)
}

/** Look one user up at `path` (below the API base URL) and classify the answer. */
export async function resolveXUser(path: string, ctx: PluginContext<XSettings>): Promise<Resolution> {
  const url = `${ctx.settings.apiUrl}${path}?user.fields=profile_image_url`
  const authorization = xAuthorization('GET', url, ctx.settings, ctx.now())
  let response: HttpResponse
  try {
    // No redirects: an OAuth signature covers exactly this URL, and the API never redirects.
    response = await ctx.http.request(url, {
      headers: { authorization, accept: 'application/json' },
      followRedirects: false,
    })
  } catch (error) {
    throw toUpstreamError(error, NETWORK)
  }
  return classifyXUserResponse(response)
}
