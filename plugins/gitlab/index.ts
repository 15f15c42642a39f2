/**
 * GitLab avatars (gitlab.com or a self-hosted instance) by username or by public email address:
 * `/image/gitlab/…/jane.doe.jpg`, `/image/gitlab/…/jane%40example.com.jpg` (plugins/gitlab/fake.ts
 * reproduces the API).
 *
 * A username goes through `GET /api/v4/users?username=` (an empty list: no such user); an email
 * through `GET /api/v4/avatar?email=`, which never says "not found": for an address no account
 * shows publicly, GitLab answers with that address's Gravatar URL instead. Either way `avatar_url`
 * is then read as:
 * - an upload on the instance → that image (no changeKey: the upload path names the account and
 *   the file name, which survive a new upload, so it says nothing about the picture);
 * - a Gravatar or Libravatar URL (`/avatar/<hash>`; what GitLab shows for users without an upload
 *   when Gravatar is enabled) → asked again with `d=404`, so a generated identicon is "no picture"
 *   and a real Gravatar picture is the user's;
 * - null, or GitLab's `no_avatar` placeholder (Gravatar disabled) → no picture.
 *
 * Calls per picture: one API call plus one image download (the download is the Gravatar call when
 * the avatar comes from there).
 */
import { Type } from '@sinclair/typebox'
import {
  definePlugin,
  err,
  ok,
  UpstreamError,
  type PluginContext,
  type Resolution,
} from '../../src/plugin-host/types.ts'
import {
  apiRequest,
  FetchError,
  isRecord,
  jsonBody,
  retryAfterToEpochMs,
  toUpstreamError,
  type HttpResponse,
} from '../../src/plugin-host/upstream.ts'

const NETWORK = 'GitLab'
// Letters, digits, `_`, `.`, `-`; starts with a letter, digit or `_`; not ending in `.`, `.git`, `.atom`.
const USERNAME = /^(?=.{1,255}$)[A-Za-z0-9_][A-Za-z0-9_.-]*$/
const RESERVED_ENDING = /(?:\.|\.git|\.atom)$/i
const EMAIL = /^(?=.{3,254}$)[^\s@/]+@[^\s@/]+\.[^\s@/]+$/
// Gravatar's and Libravatar's image path: `/avatar/<md5 or sha256>`.
const GRAVATAR_PATH = /^\/avatar\/(?:[0-9a-f]{32}|[0-9a-f]{64})$/i
// What GitLab shows when an account has no upload and Gravatar is disabled: `/assets/no_avatar-<digest>.png`.
const PLACEHOLDER_PATH = /\/no_avatar(?:-[0-9a-f]+)?\.png$/i

function rateLimited(response: HttpResponse, nowMs: number): UpstreamError {
  // GitLab's throttle answers 429 with `RateLimit-Reset` (epoch seconds) and `Retry-After` (seconds).
  const reset = response.headers.get('ratelimit-reset')
  const retryAt =
    reset && /^[0-9]+$/.test(reset.trim())
      ? Number(reset.trim()) * 1000
      : retryAfterToEpochMs(response.headers.get('retry-after'), nowMs)
  return new UpstreamError('rate_limited', `${NETWORK}: HTTP 429`, retryAt)
}

/** A Gravatar/Libravatar URL asked for its largest size, with "no picture" as a 404. */
async function viaGravatar(url: URL, http: PluginContext<unknown>['http']): Promise<Resolution> {
  for (const name of ['s', 'size', 'd', 'default']) url.searchParams.delete(name)
  url.searchParams.set('s', '2048')
  url.searchParams.set('d', '404')
  try {
    return { kind: 'fetched', image: await http.getImage(url.href) }
  } catch (error) {
    if (error instanceof FetchError && error.code === 'http_status') {
      if (error.status === 404) return { kind: 'none' }
      if (error.status === 429) throw new UpstreamError('rate_limited', `${NETWORK} (Gravatar): HTTP 429`)
      throw new UpstreamError('unavailable', `${NETWORK} (Gravatar): HTTP ${error.status}`)
    }
    throw toUpstreamError(error, `${NETWORK} (Gravatar)`)
  }
}

export default definePlugin({
  type: 'gitlab',
  settings: Type.Object({
    url: Type.String({ default: 'https://gitlab.com', env: 'HEADSHOT_GITLAB_URL', baseUrl: true }),
    token: Type.Optional(Type.String({ env: 'HEADSHOT_GITLAB_TOKEN' })),
  }),
  // Uploads live on the instance (its base URL is allowed anyway); avatars of users without one
  // come from Gravatar or Libravatar.
  hosts: ['gravatar.com', '*.gravatar.com', 'seccdn.libravatar.org'],
  // Not restricted: GitLab's quotas (gitlab.com: hundreds of unauthenticated calls a minute per
  // IP) cost nothing and each picture is cached after its first call.
  restrictedByDefault: false,
  id: { syntax: 'a GitLab username, or a public email address (`@` or `%40`)', example: 'jane.doe' },

  parseId(raw) {
    if (raw.includes('@')) return EMAIL.test(raw) ? ok(raw.toLowerCase()) : err('expected a GitLab username or email')
    return USERNAME.test(raw) && !RESERVED_ENDING.test(raw)
      ? ok(raw.toLowerCase())
      : err('expected a GitLab username or email')
  },

  async resolve(id, { settings, http, now }): Promise<Resolution> {
    const byEmail = id.includes('@')
    const url = byEmail
      ? `${settings.url}/api/v4/avatar?${new URLSearchParams({ email: id, size: '2048' })}`
      : `${settings.url}/api/v4/users?${new URLSearchParams({ username: id })}`
    const headers: Record<string, string> = { accept: 'application/json' }
    if (settings.token) headers['private-token'] = settings.token

    const response = await apiRequest(http, NETWORK, url, { headers })
    if (response.status === 429) throw rateLimited(response, now())
    if (response.status === 401) throw new UpstreamError('auth', `${NETWORK}: HEADSHOT_GITLAB_TOKEN was refused`)
    // An instance that restricts public visibility answers anonymous API calls with 403.
    if (response.status === 403) {
      throw new UpstreamError('auth', `${NETWORK}: HTTP 403 (the instance may need HEADSHOT_GITLAB_TOKEN)`)
    }
    if (response.status !== 200) throw new UpstreamError('unavailable', `${NETWORK}: HTTP ${response.status}`)

    const body = jsonBody(response)
    let avatar: unknown
    if (byEmail) {
      if (!isRecord(body)) throw new UpstreamError('unavailable', `${NETWORK}: unexpected avatar response`)
      avatar = body.avatar_url
    } else {
      if (!Array.isArray(body)) throw new UpstreamError('unavailable', `${NETWORK}: unexpected users response`)
      const user: unknown = body.find(
        (candidate) =>
          isRecord(candidate) && typeof candidate.username === 'string' && candidate.username.toLowerCase() === id,
      )
      if (!isRecord(user)) return { kind: 'not_found' }
      avatar = user.avatar_url
    }

    if (avatar === null || avatar === undefined || avatar === '') return { kind: 'none' }
    if (typeof avatar !== 'string') throw new UpstreamError('unavailable', `${NETWORK}: avatar_url is not a string`)
    let avatarUrl: URL
    try {
      // Some instances answer with a path relative to themselves.
      avatarUrl = new URL(avatar, `${settings.url}/`)
    } catch {
      throw new UpstreamError('unavailable', `${NETWORK}: unusable avatar_url`)
    }
    if (PLACEHOLDER_PATH.test(avatarUrl.pathname)) return { kind: 'none' }
    if (GRAVATAR_PATH.test(avatarUrl.pathname)) return viaGravatar(avatarUrl, http)
    return { kind: 'image', url: avatarUrl.href }
  },
})
