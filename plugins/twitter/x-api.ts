/**
 * X (Twitter) API v2 user lookup, shared by plugins/twitter/index.ts (numeric id) and
 * plugins/twitter/name.ts (username): one user (`/2/users/{id}`, `/2/users/by/username/{u}`) or up
 * to 100 in one call (`/2/users?ids=`, `/2/users/by?usernames=`). What the real API does, as
 * encoded below (and reproduced by plugins/twitter/fake.ts): unknown and suspended users come back as
 * 200 with only an `errors` list of type resource-not-found; the rate limit resets at
 * `x-rate-limit-reset` (unix seconds, no Retry-After); `profile_image_url` is the 48×48 `_normal`
 * variant of a content-addressed image; default avatars live under `/sticky/default_profile_images/`.
 */
import { Type, type Static } from '@sinclair/typebox'
import { signOAuth1 } from './oauth1.ts'
import { UpstreamError, type BatchAnswer, type PluginContext, type Resolution } from '../../src/plugin-host/types.ts'
import { isRecord, jsonBody, toUpstreamError, type HttpResponse } from '../../src/plugin-host/upstream.ts'

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
// rewrite it right before a known raster extension: any other shape we leave alone (no known variants).
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

/** Failures that mean the same on every lookup endpoint: the rate limit and our credentials. */
function throwForLimitOrAuth(response: HttpResponse): void {
  const { status } = response
  if (status === 429) {
    const reset = Number(response.headers.get('x-rate-limit-reset'))
    // x-rate-limit-reset is unix seconds; no Retry-After on X.
    const retryAt = Number.isFinite(reset) && reset > 0 ? reset * 1000 : undefined
    throw new UpstreamError('rate_limited', `${NETWORK}: rate limit exhausted`, retryAt)
  }
  if (status === 401 || status === 403) throw new UpstreamError('auth', describe(response))
}

/** The profile picture of one `User` object, or an error about that user alone. */
function userResolution(user: Record<string, unknown>): Resolution {
  const url = user.profile_image_url
  if (typeof url !== 'string') throw new UpstreamError('unavailable', `${NETWORK}: response has no profile_image_url`)
  return xProfileImageResolution(url)
}

/** Classify a single-user lookup response (`GET /2/users/{id}` or `/2/users/by/username/{u}`). */
export function classifyXUserResponse(response: HttpResponse): Resolution {
  throwForLimitOrAuth(response)
  const { status } = response
  const body = jsonBody(response)
  // The docs promise 404 for an unknown user; only believe it when the body says so. A bare 404
  // ("Sorry, that page does not exist", an HTML proxy page) means a wrong HEADSHOT_TWITTER_API_URL,
  // and caching it as "not found" would hide every user.
  if (status === 404 && isResourceNotFound(body)) return { kind: 'not_found' }
  // Our syntax check passed but X refused the id or name (e.g. an id beyond what X issues).
  if (status === 400 && problemType(body) === 'invalid-request') return { kind: 'not_found' }
  if (status !== 200 || !isRecord(body)) throw new UpstreamError('unavailable', describe(response))

  if (isRecord(body.data)) return userResolution(body.data)
  // Unknown and suspended users both come back as 200 with only `errors` of type resource-not-found.
  if (isResourceNotFound(body)) return { kind: 'not_found' }
  throw new UpstreamError('unavailable', `${NETWORK}: unexpected response without data`)
}

/** GET one lookup URL with our credentials; transport failures become UpstreamError. */
async function getX(url: string, ctx: PluginContext<XSettings>): Promise<HttpResponse> {
  const authorization = xAuthorization('GET', url, ctx.settings, ctx.now())
  try {
    // No redirects: an OAuth signature covers exactly this URL, and the API never redirects.
    return await ctx.http.request(url, {
      headers: { authorization, accept: 'application/json' },
      followRedirects: false,
    })
  } catch (error) {
    throw toUpstreamError(error, NETWORK)
  }
}

/** Look one user up at `path` (below the API base URL) and classify the answer. */
export async function resolveXUser(path: string, ctx: PluginContext<XSettings>): Promise<Resolution> {
  return classifyXUserResponse(await getX(`${ctx.settings.apiUrl}${path}?user.fields=profile_image_url`, ctx))
}

/** Most users one batch lookup may name (openapi.json: 1–100 values). */
export const X_BATCH_MAX = 100

/** One of X's two batch lookups, and how a user it returns is matched back to the value we asked for. */
export interface XBatchLookup {
  /** Below the API base URL. */
  path: string
  /** The comma-separated query parameter, also the `parameter` X names in its problems. */
  parameter: string
  /** The same user whatever the spelling: X answers usernames in their own case. */
  normalise(value: string): string
  /** The field of a returned `User` that echoes the value asked for. */
  field: 'id' | 'username'
}

export const X_USERS_BY_IDS: XBatchLookup = {
  path: '/2/users',
  parameter: 'ids',
  // X answers with the canonical id; an id asked with leading zeros is the same user.
  normalise: (id) => id.replace(/^0+(?=[0-9])/, ''),
  field: 'id',
}

export const X_USERS_BY_USERNAMES: XBatchLookup = {
  path: '/2/users/by',
  parameter: 'usernames',
  normalise: (username) => username.toLowerCase(),
  field: 'username',
}

/**
 * The values a 400 invalid-request names as refused (`errors[].parameters.<parameter>`), among
 * those we sent. X refuses the whole batch for one bad value, so the caller can drop these and ask again.
 */
function refusedValues(body: unknown, lookup: XBatchLookup, asked: readonly string[]): string[] {
  if (!isRecord(body) || problemType(body) !== 'invalid-request' || !Array.isArray(body.errors)) return []
  const named = new Set<string>()
  for (const problem of body.errors) {
    const values = isRecord(problem) && isRecord(problem.parameters) ? problem.parameters[lookup.parameter] : undefined
    if (!Array.isArray(values)) continue
    for (const value of values) if (typeof value === 'string') named.add(lookup.normalise(value))
  }
  return asked.filter((value) => named.has(lookup.normalise(value)))
}

/**
 * Classify a batch lookup answer: `data` holds the users found (in any order, in their own case),
 * `errors` one problem per user that is not (unknown and suspended users are both resource-not-found).
 * Every asked value gets an answer; a value X says nothing about is an error for that value, never
 * "not found" (that would stop serving a picture on a malformed answer).
 */
export function classifyXUsersResponse(
  response: HttpResponse,
  lookup: XBatchLookup,
  asked: readonly string[],
): Map<string, BatchAnswer> {
  throwForLimitOrAuth(response)
  const body = jsonBody(response)
  if (response.status !== 200 || !isRecord(body)) throw new UpstreamError('unavailable', describe(response))
  const data = Array.isArray(body.data) ? body.data : []
  const errors = Array.isArray(body.errors) ? body.errors : []
  if (data.length === 0 && errors.length === 0) {
    throw new UpstreamError('unavailable', `${NETWORK}: batch response without data or errors`)
  }

  const byKey = new Map<string, BatchAnswer>()
  for (const problem of errors) {
    if (!isRecord(problem)) continue
    const value = typeof problem.value === 'string' ? problem.value : problem.resource_id
    if (typeof value !== 'string') continue
    const title = typeof problem.title === 'string' ? problem.title : 'problem'
    byKey.set(
      lookup.normalise(value),
      problemType(problem) === 'resource-not-found'
        ? { kind: 'not_found' }
        : new UpstreamError('unavailable', `${NETWORK}: ${title} for ${lookup.parameter} [${value}]`),
    )
  }
  for (const user of data) {
    if (!isRecord(user) || typeof user[lookup.field] !== 'string') continue
    let answer: BatchAnswer
    try {
      answer = userResolution(user)
    } catch (error) {
      answer = toUpstreamError(error, NETWORK)
    }
    byKey.set(lookup.normalise(user[lookup.field] as string), answer)
  }

  const missing = (value: string) =>
    new UpstreamError('unavailable', `${NETWORK}: no answer for ${lookup.parameter} [${value}]`)
  return new Map(asked.map((value) => [value, byKey.get(lookup.normalise(value)) ?? missing(value)]))
}

/**
 * Look up to X_BATCH_MAX users in one call. Values X refuses outright (a 400 naming them) are
 * not_found, as in the single lookup, and the rest is asked again without them: one bad value must
 * not keep the other 99 from ever being checked.
 */
export async function resolveXUsers(
  lookup: XBatchLookup,
  values: readonly string[],
  ctx: PluginContext<XSettings>,
): Promise<Map<string, BatchAnswer>> {
  // Values are ids or usernames already through parseId ([0-9A-Za-z_]): nothing to escape but kept safe anyway.
  const list = values.map(encodeURIComponent).join(',')
  const url = `${ctx.settings.apiUrl}${lookup.path}?${lookup.parameter}=${list}&user.fields=profile_image_url`
  const response = await getX(url, ctx)
  if (response.status === 400) {
    const refused = refusedValues(jsonBody(response), lookup, values)
    if (refused.length > 0) {
      const answers = new Map<string, BatchAnswer>(refused.map((value) => [value, { kind: 'not_found' }]))
      const rest = values.filter((value) => !refused.includes(value))
      if (rest.length === 0) return answers
      for (const [value, answer] of await resolveXUsers(lookup, rest, ctx)) answers.set(value, answer)
      return answers
    }
  }
  return classifyXUsersResponse(response, lookup, values)
}
