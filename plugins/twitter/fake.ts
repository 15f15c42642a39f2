/**
 * A fake X API v2 (user lookup) plus its image CDNs, on one loopback origin, behaving like the real
 * one (as X documents it and as captured responses show: the routes and answers listed below).
 *
 * Routes (request-log names in brackets):
 * - [users/id] `GET /2/users/{id}` (id `^[0-9]{1,19}$`) and [users/username]
 *   `GET /2/users/by/username/{u}` (`^[A-Za-z0-9_]{1,15}$`, case-insensitive): `Bearer` or OAuth 1.0a
 *   (signature rebuilt from the received URL, ±300 s, nonces single-use) else 401; rate limited with
 *   `x-rate-limit-*` on every answer and 429 when exhausted; bad format → 400 invalid-request;
 *   unknown or suspended → 200 + `errors` (or 404 with `modes.notFoundStatus`); `data` carries
 *   `profile_image_url` / `protected` only when `user.fields` asks.
 * - [users/ids] `GET /2/users?ids=a,b,…` and [users/usernames] `GET /2/users/by?usernames=a,b,…`: the
 *   same checks, 1–100 values (else 400 "The number of values in the `ids` query parameter list [n]
 *   is not between 1 and 100"), one bad value → 400 naming it; always 200 with `data` (the users
 *   found, in the order asked) and/or `errors` (one resource-not-found problem per unknown or
 *   suspended value, `parameter: "ids"`, `detail: "Could not find user with ids: [x]."`). A batch
 *   call costs one request of its endpoint's rate limit, however many users it names.
 * - [pbs] `GET /profile_images/{imageId}/{name}{_normal|_bigger|_mini|_200x200|_400x400|}.{ext}`.
 * - [abs] `GET /sticky/default_profile_images/default_profile{_normal|…}.png` (the default avatar).
 *
 * Control surface: `addUser` / `users`, `rateLimits` (one window per endpoint, as X counts them:
 * set `remaining = 0` to exhaust one), `exhaustRateLimits`, `modes`, `credentials`,
 * `clock.offsetSeconds`, `requests` (per-route counts). A test that drives its own clock passes it
 * as `now`, so rate-limit resets and OAuth timestamps are judged in the same time as the code under
 * test (real time plus a whole-second offset drifts from a hand-moved clock, by up to a second).
 */
import { createHash } from 'node:crypto'
import { CONTENT_TYPES, makePicture, type PictureFormat } from '../../test/support/fakes/images.ts'
import { verifyOAuth1, type OAuth1Secrets } from './oauth1-verifier.ts'
import { json, serveFake, type FakeServer, type Routed } from '../../test/support/fakes/server.ts'

export type FakeXImageExtension = 'jpg' | 'jpeg' | 'png' | 'gif' | 'webp'

export interface FakeXPicture {
  /** Whose picture it is (see images.ts): decides the colour. */
  seed: string
  ext: FakeXImageExtension
  /** Side of the original upload (the suffix-less URL). */
  side: number
}

export interface FakeXUser {
  id: string
  /** Canonical case, as X returns it; lookups are case-insensitive. */
  username: string
  name: string
  /** `default`: the user never uploaded one (a `/sticky/default_profile_images/` URL). */
  picture: FakeXPicture | 'default'
  suspended: boolean
  protected: boolean
}

export interface FakeXModes {
  /** How "not found" and "suspended" are answered: 200 + errors (what X really does) or 404. */
  notFoundStatus: 200 | 404
  /** The suffix-less original answers 404 (the sized variants remain). */
  originalMissing: boolean
  /** `server_error`: 503; `garbage`: 200 with HTML; `client_forbidden`: 403 "Client Forbidden". */
  failure: 'server_error' | 'garbage' | 'client_forbidden' | undefined
  /** Allowed OAuth timestamp skew. */
  timestampToleranceSeconds: number
}

/** The lookup endpoints, by request-log name; each has its own rate-limit window. */
export type FakeXLookupRoute = 'users/id' | 'users/username' | 'users/ids' | 'users/usernames'
export const FAKE_X_LOOKUP_ROUTES: readonly FakeXLookupRoute[] = [
  'users/id',
  'users/username',
  'users/ids',
  'users/usernames',
]

export interface FakeXRateLimit {
  limit: number
  remaining: number
  /** Unix seconds; the window refills when the fake's clock passes it. */
  resetAt: number
}

export interface FakeX extends FakeServer {
  credentials: { bearerToken: string; oauth: OAuth1Secrets }
  /** Env for bearer auth against this fake. */
  readonly bearerEnv: Record<string, string>
  /** Env for OAuth 1.0a auth against this fake. */
  readonly oauthEnv: Record<string, string>
  /** By id. */
  users: Map<string, FakeXUser>
  addUser(user: Partial<FakeXUser> & Pick<FakeXUser, 'id' | 'username'>): FakeXUser
  /** The `profile_image_url` the API reports for this user now. */
  profileImageUrl(userId: string): string
  rateLimits: Record<FakeXLookupRoute, FakeXRateLimit>
  /** Exhaust every lookup endpoint's window until `resetAt` (unix seconds, the fake's clock). */
  exhaustRateLimits(resetAt: number): void
  /** The fake's clock, unix seconds (`now`, real time by default, plus `clock.offsetSeconds`). */
  nowSeconds(): number
  modes: FakeXModes
  clock: { offsetSeconds: number }
}

const RATE_WINDOW_SECONDS = 15 * 60
const USER_ID = /^[0-9]{1,19}$/
const USERNAME = /^[A-Za-z0-9_]{1,15}$/
const BATCH_MAX = 100
// openapi.json components.parameters.UserFieldsParameter
const USER_FIELDS = [
  'affiliation',
  'confirmed_email',
  'connection_status',
  'created_at',
  'description',
  'entities',
  'id',
  'is_identity_verified',
  'location',
  'most_recent_tweet_id',
  'name',
  'parody',
  'pinned_tweet_id',
  'profile_banner_url',
  'profile_image_url',
  'protected',
  'public_metrics',
  'receives_your_dm',
  'subscription',
  'subscription_type',
  'url',
  'username',
  'verified',
  'verified_followers_count',
  'verified_type',
  'withheld',
]
const VARIANT_SIDES: Record<string, number> = { _normal: 48, _bigger: 73, _mini: 24, _200x200: 200, _400x400: 400 }
const DEFAULT_IMAGE_SEED = 'x-default-profile'
const PROBLEMS = 'https://api.twitter.com/2/problems'

function formatOf(ext: FakeXImageExtension): PictureFormat {
  return ext === 'jpeg' ? 'jpg' : ext
}

function invalidRequest(parameter: string, value: string, message: string): Response {
  return json(
    {
      errors: [{ parameters: { [parameter]: [value] }, message }],
      title: 'Invalid Request',
      detail: 'One or more parameters to your request was invalid.',
      type: `${PROBLEMS}/invalid-request`,
    },
    400,
  )
}

export interface FakeXOptions {
  /** The fake's clock, ms since epoch (default `Date.now`): pass the test's clock when it moves time by hand. */
  now?: () => number
}

export function startFakeX(options: FakeXOptions = {}): FakeX {
  const now = options.now ?? Date.now
  const credentials = {
    bearerToken: 'AAAAAAAAAAAAAAAAAAAAAFakeBearerToken%2Ffake',
    oauth: {
      consumerKey: 'fake-consumer-key',
      consumerSecret: 'fake-consumer-secret',
      token: '12345-fake-access-token',
      tokenSecret: 'fake-access-token-secret',
    },
  }
  const users = new Map<string, FakeXUser>()
  const modes: FakeXModes = {
    notFoundStatus: 200,
    originalMissing: false,
    failure: undefined,
    timestampToleranceSeconds: 300,
  }
  const clock = { offsetSeconds: 0 }
  const nowSeconds = () => Math.floor(now() / 1000) + clock.offsetSeconds
  // 300 requests per 15 minutes per app on each lookup endpoint (X's published limit for user lookups).
  const freshWindow = (): FakeXRateLimit => ({
    limit: 300,
    remaining: 300,
    resetAt: nowSeconds() + RATE_WINDOW_SECONDS,
  })
  const rateLimits = Object.fromEntries(FAKE_X_LOOKUP_ROUTES.map((route) => [route, freshWindow()])) as Record<
    FakeXLookupRoute,
    FakeXRateLimit
  >
  const seenNonces = new Set<string>()

  // Images are content-addressed: a picture object gets an image id the first time it is reported,
  // so replacing `user.picture` gives a new URL, like a new upload on X.
  const imageIds = new WeakMap<FakeXPicture, string>()
  const images = new Map<string, { picture: FakeXPicture; name: string }>()
  let nextImageId = 1354479643882004000n

  function imageOf(picture: FakeXPicture): { id: string; name: string } {
    let id = imageIds.get(picture)
    if (id === undefined) {
      id = String(nextImageId++)
      imageIds.set(picture, id)
      images.set(id, {
        picture,
        name: createHash('sha1').update(`${picture.seed}:${id}`).digest('base64url').slice(0, 8),
      })
    }
    return { id, name: images.get(id)!.name }
  }

  let origin = ''
  function profileImageUrl(userId: string): string {
    const user = users.get(userId)
    if (!user) throw new Error(`no fake X user ${userId}`)
    if (user.picture === 'default') return `${origin}/sticky/default_profile_images/default_profile_normal.png`
    const { id, name } = imageOf(user.picture)
    return `${origin}/profile_images/${id}/${name}_normal.${user.picture.ext}`
  }

  function withRateHeaders(response: Response, rateLimit: FakeXRateLimit): Response {
    response.headers.set('x-rate-limit-limit', String(rateLimit.limit))
    response.headers.set('x-rate-limit-remaining', String(Math.max(0, rateLimit.remaining)))
    response.headers.set('x-rate-limit-reset', String(rateLimit.resetAt))
    return response
  }

  function authorised(request: Request): boolean {
    const authorization = request.headers.get('authorization')
    if (authorization === null) return false
    if (/^Bearer /i.test(authorization)) return authorization.slice(7).trim() === credentials.bearerToken
    const verdict = verifyOAuth1(
      { method: request.method, url: request.url, authorization },
      credentials.oauth,
      nowSeconds(),
      modes.timestampToleranceSeconds,
    )
    if (!verdict.ok) return false
    // A replayed nonce is refused, as OAuth servers do: the signer must make a fresh one per request.
    if (seenNonces.has(verdict.nonce)) return false
    seenNonces.add(verdict.nonce)
    return true
  }

  /** What every lookup checks first, in X's order: outages, credentials, the endpoint's rate limit. */
  function refusal(request: Request, rateLimit: FakeXRateLimit): Response | undefined {
    if (modes.failure === 'server_error') {
      return json(
        { title: 'Service Unavailable', detail: 'Service Unavailable', type: 'about:blank', status: 503 },
        503,
      )
    }
    if (modes.failure === 'garbage') {
      return new Response('<html><body><h1>Something went wrong</h1></body></html>', {
        status: 200,
        headers: { 'content-type': 'text/html' },
      })
    }
    if (!authorised(request)) {
      return json({ title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' }, 401)
    }
    if (modes.failure === 'client_forbidden') {
      return json(
        {
          client_id: '12345678',
          detail:
            'When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project. You can create a project via the developer portal.',
          registration_url: 'https://developer.twitter.com/en/docs/projects/overview',
          title: 'Client Forbidden',
          required_enrollment: 'Appropriate Level of API Access',
          reason: 'client-not-enrolled',
          type: `${PROBLEMS}/client-forbidden`,
        },
        403,
      )
    }

    if (nowSeconds() >= rateLimit.resetAt) {
      rateLimit.remaining = rateLimit.limit
      rateLimit.resetAt = nowSeconds() + RATE_WINDOW_SECONDS
    }
    if (rateLimit.remaining <= 0) {
      return json({ title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 }, 429)
    }
    rateLimit.remaining--
    return undefined
  }

  /** `user.fields` asked for, or a 400 naming the first unknown one. */
  function userFields(url: URL): string[] | Response {
    const fields = (url.searchParams.get('user.fields') ?? '').split(',').filter((field) => field !== '')
    const unknownField = fields.find((field) => !USER_FIELDS.includes(field))
    if (unknownField === undefined) return fields
    const known = USER_FIELDS.join(',')
    const message = `The \`user.fields\` query parameter value [${unknownField}] is not one of [${known}]`
    return invalidRequest('user.fields', unknownField, message)
  }

  function findUser(by: 'id' | 'username', value: string): FakeXUser | undefined {
    if (by === 'id') return users.get(value)
    return [...users.values()].find((candidate) => candidate.username.toLowerCase() === value.toLowerCase())
  }

  /** The `User` object as X returns it, with the optional fields asked for. */
  function userData(user: FakeXUser, fields: string[]): Record<string, unknown> {
    const data: Record<string, unknown> = { id: user.id, name: user.name, username: user.username }
    if (fields.includes('profile_image_url')) data.profile_image_url = profileImageUrl(user.id)
    if (fields.includes('protected')) data.protected = user.protected
    return data
  }

  /** The problem X reports for an unknown or suspended user; `parameter` is `id`, `ids`, `username` or `usernames`. */
  function notFoundProblem(parameter: string, value: string, user: FakeXUser | undefined): Record<string, unknown> {
    const problem = user
      ? { title: 'Forbidden', detail: `User has been suspended: [${value}].` }
      : { title: 'Not Found Error', detail: `Could not find user with ${parameter}: [${value}].` }
    const type = `${PROBLEMS}/resource-not-found`
    return { value, ...problem, resource_type: 'user', parameter, resource_id: value, type }
  }

  function userLookup(request: Request, url: URL, by: 'id' | 'username', value: string): Response {
    const refused = refusal(request, rateLimits[by === 'id' ? 'users/id' : 'users/username'])
    if (refused) return refused

    const pattern = by === 'id' ? USER_ID : USERNAME
    if (!pattern.test(value)) {
      return invalidRequest(
        by,
        value,
        `The \`${by}\` query parameter value [${value}] does not match ${pattern.source}`,
      )
    }
    const fields = userFields(url)
    if (fields instanceof Response) return fields

    const user = findUser(by, value)
    if (!user || user.suspended) return json({ errors: [notFoundProblem(by, value, user)] }, modes.notFoundStatus)
    return json({ data: userData(user, fields) })
  }

  function usersLookup(request: Request, url: URL, by: 'ids' | 'usernames'): Response {
    const refused = refusal(request, rateLimits[by === 'ids' ? 'users/ids' : 'users/usernames'])
    if (refused) return refused

    const list = url.searchParams.get(by) ?? ''
    const values = list === '' ? [] : list.split(',')
    if (values.length < 1 || values.length > BATCH_MAX) {
      const count = values.length
      const message = `The number of values in the \`${by}\` query parameter list [${count}] is not between 1 and 100`
      return invalidRequest(by, list, message)
    }
    const pattern = by === 'ids' ? USER_ID : USERNAME
    const bad = values.filter((value) => !pattern.test(value))
    if (bad.length > 0) {
      // One problem per refused value, each naming it, under one invalid-request envelope.
      return json(
        {
          errors: bad.map((value) => ({
            parameters: { [by]: [value] },
            message: `The \`${by}\` query parameter value [${value}] does not match ${pattern.source}`,
          })),
          title: 'Invalid Request',
          detail: 'One or more parameters to your request was invalid.',
          type: `${PROBLEMS}/invalid-request`,
        },
        400,
      )
    }
    const fields = userFields(url)
    if (fields instanceof Response) return fields

    const data: Array<Record<string, unknown>> = []
    const errors: Array<Record<string, unknown>> = []
    for (const value of values) {
      const user = findUser(by === 'ids' ? 'id' : 'username', value)
      if (!user || user.suspended) errors.push(notFoundProblem(by, value, user))
      else data.push(userData(user, fields))
    }
    // Keys with nothing in them are left out, as X does: all unknown → only `errors`.
    return json({ ...(data.length > 0 ? { data } : {}), ...(errors.length > 0 ? { errors } : {}) })
  }

  async function pbs(imageId: string, file: string): Promise<Response> {
    const image = images.get(imageId)
    const match = /^(.+?)(_normal|_bigger|_mini|_200x200|_400x400)?\.(jpe?g|png|gif|webp)$/.exec(file)
    if (!image || !match || match[1] !== image.name || match[3] !== image.picture.ext)
      return new Response('Not Found', { status: 404 })
    const variant = match[2]
    if (variant === undefined && modes.originalMissing) return new Response('Not Found', { status: 404 })
    const side = variant === undefined ? image.picture.side : VARIANT_SIDES[variant]!
    const format = formatOf(image.picture.ext)
    return new Response(await makePicture(image.picture.seed, side, side, format), {
      headers: { 'content-type': CONTENT_TYPES[format], 'cache-control': 'max-age=604800' },
    })
  }

  async function abs(file: string): Promise<Response> {
    const match = /^default_profile(_normal|_bigger|_mini|_200x200|_400x400)?\.png$/.exec(file)
    if (!match) return new Response('Not Found', { status: 404 })
    const side = match[1] === undefined ? 400 : VARIANT_SIDES[match[1]]!
    return new Response(await makePicture(DEFAULT_IMAGE_SEED, side, side, 'png'), {
      headers: { 'content-type': CONTENT_TYPES.png },
    })
  }

  const server = serveFake(async (request, url): Promise<Routed> => {
    const path = url.pathname
    let match: RegExpExecArray | null
    if (request.method === 'GET' && (match = /^\/2\/users\/by\/username\/([^/]*)$/.exec(path))) {
      const response = userLookup(request, url, 'username', decodeURIComponent(match[1]!))
      return { route: 'users/username', response: withRateHeaders(response, rateLimits['users/username']) }
    }
    if (
      request.method === 'GET' &&
      (match = /^\/2\/users\/([^/]*)$/.exec(path)) &&
      match[1] !== 'by' &&
      match[1] !== 'me'
    ) {
      const response = userLookup(request, url, 'id', decodeURIComponent(match[1]!))
      return { route: 'users/id', response: withRateHeaders(response, rateLimits['users/id']) }
    }
    if (request.method === 'GET' && path === '/2/users') {
      const response = usersLookup(request, url, 'ids')
      return { route: 'users/ids', response: withRateHeaders(response, rateLimits['users/ids']) }
    }
    if (request.method === 'GET' && path === '/2/users/by') {
      const response = usersLookup(request, url, 'usernames')
      return { route: 'users/usernames', response: withRateHeaders(response, rateLimits['users/usernames']) }
    }
    if (request.method === 'GET' && (match = /^\/profile_images\/([0-9]+)\/([^/]+)$/.exec(path))) {
      return { route: 'pbs', response: await pbs(match[1]!, match[2]!) }
    }
    if (request.method === 'GET' && (match = /^\/sticky\/default_profile_images\/([^/]+)$/.exec(path))) {
      return { route: 'abs', response: await abs(match[1]!) }
    }
    return {
      route: 'unknown',
      response: json({ errors: [{ message: 'Sorry, that page does not exist', code: 34 }] }, 404),
    }
  })
  origin = server.url

  return {
    ...server,
    credentials,
    get bearerEnv() {
      return { HEADSHOT_TWITTER_API_URL: server.url, HEADSHOT_TWITTER_BEARER_TOKEN: credentials.bearerToken }
    },
    get oauthEnv() {
      return {
        HEADSHOT_TWITTER_API_URL: server.url,
        HEADSHOT_TWITTER_CONSUMER_KEY: credentials.oauth.consumerKey,
        HEADSHOT_TWITTER_CONSUMER_SECRET: credentials.oauth.consumerSecret,
        HEADSHOT_TWITTER_ACCESS_TOKEN: credentials.oauth.token,
        HEADSHOT_TWITTER_ACCESS_TOKEN_SECRET: credentials.oauth.tokenSecret,
      }
    },
    users,
    addUser(partial) {
      const user: FakeXUser = {
        name: partial.username,
        picture: { seed: partial.username, ext: 'jpg', side: 800 },
        suspended: false,
        protected: false,
        ...partial,
      }
      users.set(user.id, user)
      return user
    },
    profileImageUrl,
    rateLimits,
    exhaustRateLimits(resetAt) {
      for (const window of Object.values(rateLimits)) Object.assign(window, { remaining: 0, resetAt })
    },
    nowSeconds,
    modes,
    clock,
  }
}

export { startFakeX as start }
