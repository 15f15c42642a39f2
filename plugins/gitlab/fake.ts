/**
 * A fake GitLab instance (REST API v4, uploads) with a Gravatar-like avatar route, on one loopback
 * origin, behaving like gitlab.com as GitLab documents it (routes and answers below).
 *
 * Routes (request-log names in brackets):
 * - [users] `GET /api/v4/users?username=` (case-insensitive): `[user]` or `[]`. `avatar_url` is the
 *   upload (`{origin}/uploads/-/system/user/avatar/{id}/avatar.png`) or, without one, the Gravatar URL
 *   of the user's email (`{origin}/avatar/{sha256}?s=80&d=identicon`), or `{origin}/assets/no_avatar-….png`
 *   when `modes.gravatar` is off.
 * - [avatar_api] `GET /api/v4/avatar?email=&size=`: `{"avatar_url":…}`: the upload of the account whose
 *   public email it is; otherwise the Gravatar URL of the address (with `s` = `size`), whether or not
 *   Gravatar has a picture for it; the placeholder when Gravatar is off. A missing email is 400.
 * - [upload] `GET /uploads/-/system/user/avatar/{id}/avatar.png`: the uploaded picture, as uploaded.
 * - [placeholder] `GET /assets/no_avatar-….png`: GitLab's grey default.
 * - [gravatar] `GET /avatar/{hash}?s=&d=`: like Gravatar: a known email's picture at s×s (default 80,
 *   max 2048); unknown with `d=404` → 404, otherwise an identicon.
 *
 * API answers carry `RateLimit-Limit/-Remaining/-Reset` (epoch seconds); a throttled one is 429 with
 * `Retry-After` too. `PRIVATE-TOKEN` or `Authorization: Bearer` must match `token` (else 401); with
 * `modes.restricted`, anonymous API calls get 403 (public visibility restricted).
 *
 * Control surface: `users` (`addUser`), `gravatars` (emails Gravatar has a picture for), `modes`, `requests`.
 */
import { createHash } from 'node:crypto'
import { CONTENT_TYPES, makePicture } from '../../test/support/fakes/images.ts'
import { json, serveFake, type FakeServer, type Routed } from '../../test/support/fakes/server.ts'

export interface FakeGitLabUser {
  username: string
  id: number
  /** The email GitLab knows for the account; `publicEmail` decides whether /avatar?email= finds it. */
  email: string
  publicEmail: boolean
  /** `none`: no upload (GitLab then shows the email's Gravatar, or its placeholder). */
  picture: { seed: string; side: number; format: 'jpg' | 'png' } | 'none'
}

export interface FakeGitLabModes {
  /** Gravatar enabled on the instance (gitlab.com: yes). */
  gravatar: boolean
  /** Public visibility restricted: anonymous API calls are 403. */
  restricted: boolean
  /** Throttled: every API call is 429 with these seconds in Retry-After. */
  rateLimitedFor: number | undefined
  /** `server_error`: 500 JSON; `bad_json`: 200 with an HTML page. */
  failure: 'server_error' | 'bad_json' | undefined
}

export interface FakeGitLab extends FakeServer {
  readonly token: string
  readonly env: Record<string, string>
  readonly tokenEnv: Record<string, string>
  users: Map<string, FakeGitLabUser>
  /** Lower-case emails Gravatar has a picture for (seed: the email). */
  gravatars: Set<string>
  modes: FakeGitLabModes
  /** When the current rate-limit window ends (epoch seconds). */
  readonly resetAt: number
  addUser(username: string, options?: Partial<Omit<FakeGitLabUser, 'username' | 'id'>>): FakeGitLabUser
}

export const PLACEHOLDER_SEED = 'gitlab-no-avatar'
export const gravatarHash = (email: string) => createHash('sha256').update(email.trim().toLowerCase()).digest('hex')
const PLACEHOLDER_PATH = '/assets/no_avatar-849f9c04a3a0d0cea2424ae97b27447dc64a7dbfae83c036c45b403392f0e8ba.png'

export function startFakeGitLab(): FakeGitLab {
  const token = 'glpat-fakeGitLabToken0123'
  const users = new Map<string, FakeGitLabUser>()
  const gravatars = new Set<string>()
  const modes: FakeGitLabModes = { gravatar: true, restricted: false, rateLimitedFor: undefined, failure: undefined }
  const resetAt = Math.floor(Date.now() / 1000) + 60
  let nextId = 1001

  function avatarUrlOf(origin: string, email: string, upload: FakeGitLabUser | undefined, size: number): string {
    if (upload && upload.picture !== 'none') return `${origin}/uploads/-/system/user/avatar/${upload.id}/avatar.png`
    if (!modes.gravatar) return `${origin}${PLACEHOLDER_PATH}`
    return `${origin}/avatar/${gravatarHash(email)}?s=${size}&d=identicon`
  }

  function api(request: Request, url: URL, route: 'users' | 'avatar_api'): Response {
    const presented =
      request.headers.get('private-token') ?? /^Bearer\s+(.+)$/i.exec(request.headers.get('authorization') ?? '')?.[1]
    if (presented !== undefined && presented !== token) return json({ message: '401 Unauthorized' }, 401)
    if (presented === undefined && modes.restricted) return json({ message: '403 Forbidden' }, 403)
    const headers = {
      'ratelimit-limit': '500',
      'ratelimit-remaining': modes.rateLimitedFor === undefined ? '499' : '0',
      'ratelimit-reset': String(resetAt),
      'ratelimit-resettime': new Date(resetAt * 1000).toUTCString(),
    }
    if (modes.rateLimitedFor !== undefined) {
      return new Response('Retry later\n', {
        status: 429,
        headers: { ...headers, 'retry-after': String(modes.rateLimitedFor), 'content-type': 'text/plain' },
      })
    }
    if (modes.failure === 'server_error') return json({ message: '500 Internal Server Error' }, 500, headers)
    if (modes.failure === 'bad_json') {
      return new Response('<!DOCTYPE html><html><body>GitLab is not responding</body></html>', {
        headers: { ...headers, 'content-type': 'text/html' },
      })
    }
    const query = url.searchParams
    if (route === 'users') {
      const username = query.get('username')?.toLowerCase()
      const found = username === undefined ? undefined : users.get(username)
      if (!found) return json([], 200, headers)
      return json(
        [
          {
            id: found.id,
            username: found.username,
            name: found.username,
            state: 'active',
            locked: false,
            avatar_url: avatarUrlOf(url.origin, found.email, found, 80),
            web_url: `${url.origin}/${found.username}`,
          },
        ],
        200,
        headers,
      )
    }
    const email = query.get('email')
    if (!email) return json({ error: 'email is missing' }, 400, headers)
    const size = Number(query.get('size') ?? 80) || 80
    const owner = [...users.values()].find((user) => user.publicEmail && user.email === email.toLowerCase())
    return json({ avatar_url: avatarUrlOf(url.origin, email, owner, size) }, 200, headers)
  }

  async function image(seed: string, side: number, format: 'jpg' | 'png'): Promise<Response> {
    return new Response(await makePicture(seed, side, side, format), {
      headers: { 'content-type': CONTENT_TYPES[format] },
    })
  }

  async function gravatar(url: URL, hash: string): Promise<Response> {
    const email = [...gravatars].find((candidate) => gravatarHash(candidate) === hash.toLowerCase())
    const requested = Number(url.searchParams.get('s') ?? 80)
    const side = Number.isInteger(requested) ? Math.min(2048, Math.max(1, requested)) : 80
    if (email !== undefined) return image(email, side, 'jpg')
    if (url.searchParams.get('d') === '404') return new Response('Not Found', { status: 404 })
    return image(`gravatar-identicon-${hash}`, side, 'png')
  }

  const server = serveFake(async (request, url): Promise<Routed> => {
    const path = url.pathname
    if (request.method !== 'GET') return { route: 'unknown', response: new Response('Not Found', { status: 404 }) }
    if (path === '/api/v4/users') return { route: 'users', response: api(request, url, 'users') }
    if (path === '/api/v4/avatar') return { route: 'avatar_api', response: api(request, url, 'avatar_api') }
    const upload = /^\/uploads\/-\/system\/user\/avatar\/([0-9]+)\/avatar\.png$/.exec(path)
    if (upload) {
      const found = [...users.values()].find((user) => String(user.id) === upload[1])
      if (!found || found.picture === 'none')
        return { route: 'upload', response: new Response('Not Found', { status: 404 }) }
      const { seed, side, format } = found.picture
      return { route: 'upload', response: await image(seed, side, format) }
    }
    if (path === PLACEHOLDER_PATH) return { route: 'placeholder', response: await image(PLACEHOLDER_SEED, 200, 'png') }
    const hash = /^\/avatar\/([0-9a-fA-F]{64})$/.exec(path)
    if (hash) return { route: 'gravatar', response: await gravatar(url, hash[1]!) }
    return { route: 'unknown', response: json({ message: '404 Not Found' }, 404) }
  })

  return {
    ...server,
    token,
    env: { HEADSHOT_GITLAB_URL: server.url },
    tokenEnv: { HEADSHOT_GITLAB_URL: server.url, HEADSHOT_GITLAB_TOKEN: token },
    users,
    gravatars,
    modes,
    resetAt,
    addUser(username, options = {}) {
      const user: FakeGitLabUser = {
        username,
        id: nextId++,
        email: `${username.toLowerCase()}@example.com`,
        publicEmail: true,
        picture: { seed: username.toLowerCase(), side: 400, format: 'png' },
        ...options,
      }
      user.email = user.email.toLowerCase()
      users.set(username.toLowerCase(), user)
      return user
    },
  }
}

export { startFakeGitLab as start }
