/**
 * A fake GitHub REST users API plus its avatar CDN, on one loopback origin, behaving like the real
 * one as GitHub documents it (routes and answers below).
 *
 * Routes (request-log names in brackets):
 * - [user] `GET /users/{login}` (login case-insensitive): 200 with the user JSON (`login`, `id`,
 *   `avatar_url` = `{origin}/u/{id}?v=4`, `type`…), or 404 `{"message":"Not Found",…}`. Every answer
 *   carries `x-ratelimit-limit/-remaining/-used/-reset/-resource`: 60 an hour without a token, 5,000
 *   with `Authorization: Bearer|token <token>`; a wrong token is 401 "Bad credentials". An exhausted
 *   quota is 403 (or 429) "API rate limit exceeded" with `x-ratelimit-remaining: 0`.
 * - [avatar] `GET /u/{id}?v=4&s={side}`: the user's picture, `s` clamped to 1..460 (460 when absent);
 *   users without an upload get their generated identicon (a PNG), exactly as GitHub does.
 *
 * Control surface: `users` (add with `addUser`), `modes` (quota, failures), `requests`.
 */
import { CONTENT_TYPES, makePicture } from '../../test/support/fakes/images.ts'
import { json, serveFake, type FakeServer, type Routed } from '../../test/support/fakes/server.ts'

export interface FakeGitHubUser {
  login: string
  id: number
  /** `identicon`: never uploaded a picture (GitHub serves a generated one, with no flag saying so). */
  picture: { seed: string; format: 'jpg' | 'png' } | 'identicon'
}

export interface FakeGitHubModes {
  /** Requests left in the current hour; undefined = the normal quota (60, or 5,000 with a token). */
  remaining: number | undefined
  /** Status of an exhausted-quota answer: GitHub documents both 403 and 429. */
  rateLimitStatus: 403 | 429
  /** A secondary rate limit: 403 with `retry-after: <seconds>`. */
  secondaryRetryAfter: number | undefined
  /** `server_error`: 502 HTML; `bad_json`: 200 with a truncated JSON body. */
  failure: 'server_error' | 'bad_json' | undefined
}

export interface FakeGitHub extends FakeServer {
  readonly token: string
  /** Env pointing the plugin at this fake, without a token. */
  readonly env: Record<string, string>
  /** The same with HEADSHOT_GITHUB_TOKEN. */
  readonly tokenEnv: Record<string, string>
  /** By lower-case login. */
  users: Map<string, FakeGitHubUser>
  modes: FakeGitHubModes
  /** When the current rate-limit window ends (epoch seconds). */
  readonly resetAt: number
  addUser(login: string, picture?: FakeGitHubUser['picture']): FakeGitHubUser
}

export const IDENTICON_SEED = (id: number) => `github-identicon-${id}`
const MAX_SIDE = 460
const DOCS = 'https://docs.github.com/rest/users/users#get-a-user'

export function startFakeGitHub(): FakeGitHub {
  const token = 'ghp_fakeGitHubToken0123456789abcdefABCD'
  const users = new Map<string, FakeGitHubUser>()
  const modes: FakeGitHubModes = {
    remaining: undefined,
    rateLimitStatus: 403,
    secondaryRetryAfter: undefined,
    failure: undefined,
  }
  const resetAt = Math.floor(Date.now() / 1000) + 3600
  let nextId = 583231
  const used = { anonymous: 0, token: 0 }

  function user(request: Request, url: URL, login: string): Response {
    const authorization = /^(?:Bearer|token)\s+(.+)$/i.exec(request.headers.get('authorization') ?? '')
    if (authorization && authorization[1] !== token) {
      return json({ message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' }, 401)
    }
    const key = authorization ? 'token' : 'anonymous'
    const limit = authorization ? 5000 : 60
    const remaining = modes.remaining ?? Math.max(0, limit - used[key])
    const rateHeaders = (left: number) => ({
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(left),
      'x-ratelimit-used': String(limit - left),
      'x-ratelimit-reset': String(resetAt),
      'x-ratelimit-resource': 'core',
    })
    if (modes.secondaryRetryAfter !== undefined) {
      return json(
        { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' },
        403,
        { ...rateHeaders(remaining), 'retry-after': String(modes.secondaryRetryAfter) },
      )
    }
    if (remaining <= 0) {
      return json(
        { message: 'API rate limit exceeded for 127.0.0.1.', documentation_url: DOCS },
        modes.rateLimitStatus,
        rateHeaders(0),
      )
    }
    used[key]++
    if (modes.remaining !== undefined) modes.remaining--
    const headers = rateHeaders(remaining - 1)
    if (modes.failure === 'server_error') {
      return new Response('<html><body>Unicorn! 502</body></html>', {
        status: 502,
        headers: { 'content-type': 'text/html', ...headers },
      })
    }
    if (modes.failure === 'bad_json') {
      return new Response('{"login":"octo', { headers: { 'content-type': 'application/json', ...headers } })
    }
    const found = users.get(login.toLowerCase())
    if (!found) return json({ message: 'Not Found', documentation_url: DOCS, status: '404' }, 404, headers)
    return json(
      {
        login: found.login,
        id: found.id,
        node_id: Buffer.from(`04:User${found.id}`).toString('base64'),
        avatar_url: `${url.origin}/u/${found.id}?v=4`,
        gravatar_id: '',
        html_url: `https://github.com/${found.login}`,
        type: 'User',
        site_admin: false,
      },
      200,
      headers,
    )
  }

  async function avatar(url: URL, id: string): Promise<Response> {
    const found = [...users.values()].find((candidate) => String(candidate.id) === id)
    if (!found) return new Response('Not Found', { status: 404 })
    const requested = Number(url.searchParams.get('s') ?? url.searchParams.get('size') ?? MAX_SIDE)
    const side = Number.isInteger(requested) ? Math.min(MAX_SIDE, Math.max(1, requested)) : MAX_SIDE
    const { seed, format } =
      found.picture === 'identicon' ? { seed: IDENTICON_SEED(found.id), format: 'png' as const } : found.picture
    const bytes = await makePicture(seed, side, side, format)
    return new Response(bytes, { headers: { 'content-type': CONTENT_TYPES[format], 'cache-control': 'max-age=300' } })
  }

  const server = serveFake(async (request, url): Promise<Routed> => {
    if (request.method === 'GET') {
      const userMatch = /^\/users\/([^/]+)$/.exec(url.pathname)
      if (userMatch) return { route: 'user', response: user(request, url, decodeURIComponent(userMatch[1]!)) }
      const avatarMatch = /^\/u\/([0-9]+)$/.exec(url.pathname)
      if (avatarMatch) return { route: 'avatar', response: await avatar(url, avatarMatch[1]!) }
    }
    return { route: 'unknown', response: json({ message: 'Not Found', documentation_url: DOCS }, 404) }
  })

  return {
    ...server,
    token,
    env: { HEADSHOT_GITHUB_API_URL: server.url },
    tokenEnv: { HEADSHOT_GITHUB_API_URL: server.url, HEADSHOT_GITHUB_TOKEN: token },
    users,
    modes,
    resetAt,
    addUser(login, picture = { seed: login.toLowerCase(), format: 'png' }) {
      const created: FakeGitHubUser = { login, id: nextId++, picture }
      users.set(login.toLowerCase(), created)
      return created
    },
  }
}

export { startFakeGitHub as start }
