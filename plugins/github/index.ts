/**
 * GitHub avatars by login: `/image/github/…/octocat.jpg`, through the REST users API
 * (plugins/github/fake.ts reproduces it).
 *
 * Why the API and not `github.com/<login>.png`: the `.png` shortcut is an undocumented redirect that
 * answers an unknown login with an error page, so "no such user" cannot be told from an outage;
 * `GET /users/<login>` is documented, says 404 for an unknown login, and reports its quota in
 * `x-ratelimit-*` headers we can turn into a precise retry time. It costs one API call per picture
 * (60/h per IP without a token, 5,000/h with HEADSHOT_GITHUB_TOKEN); the image download itself is
 * from the avatar CDN and costs no API quota.
 *
 * No picture: a user who never uploaded one gets a generated identicon, and neither the API nor the
 * avatar URL says so, so we cannot tell it apart: such users resolve to their identicon (it is what
 * GitHub itself shows for them), never to `none`.
 *
 * No changeKey: `avatar_url` is `https://avatars.githubusercontent.com/u/<user id>?v=4`, where `v` is
 * the version of GitHub's avatar scheme, the same for every user; the URL names the account, not the
 * picture, so it stays the same when the user uploads a new picture. The stored bytes' hash decides.
 */
import { Type } from '@sinclair/typebox'
import { definePlugin, err, ok, UpstreamError, type Resolution } from '../../src/plugin-host/types.ts'
import {
  apiRequest,
  isRecord,
  jsonBody,
  retryAfterToEpochMs,
  type HttpResponse,
} from '../../src/plugin-host/upstream.ts'

const NETWORK = 'GitHub'
// 1–39 letters, digits and single hyphens, not at either end.
const LOGIN = /^(?=.{1,39}$)[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$/
// The largest side the avatar CDN serves; asking for more returns this anyway.
export const AVATAR_SIDE = 460

/** Primary limit (`x-ratelimit-remaining: 0`, reset in epoch seconds) or secondary limit (`retry-after`). */
function rateLimitReset(response: HttpResponse, nowMs: number): { limited: boolean; retryAt?: number } {
  const retryAfter = retryAfterToEpochMs(response.headers.get('retry-after'), nowMs)
  if (retryAfter !== undefined) return { limited: true, retryAt: retryAfter }
  if (response.headers.get('x-ratelimit-remaining') === '0') {
    const reset = response.headers.get('x-ratelimit-reset')
    return { limited: true, retryAt: reset && /^[0-9]+$/.test(reset) ? Number(reset) * 1000 : undefined }
  }
  return { limited: response.status === 429 }
}

export default definePlugin({
  type: 'github',
  settings: Type.Object({
    apiUrl: Type.String({ default: 'https://api.github.com', env: 'HEADSHOT_GITHUB_API_URL', baseUrl: true }),
    token: Type.Optional(Type.String({ env: 'HEADSHOT_GITHUB_TOKEN' })),
  }),
  hosts: ['avatars.githubusercontent.com'],
  // Not restricted: the calls cost no money, a rate-limited call becomes a 503 with Retry-After
  // and each picture is cached after its first call. Operators worried about the 60/h tokenless
  // quota set HEADSHOT_GITHUB_TOKEN or list `github` in HEADSHOT_RESTRICTED_TYPES.
  restrictedByDefault: false,
  id: { syntax: 'a GitHub login (letters, digits, single inner hyphens; case-insensitive)', example: 'octocat' },

  parseId: (raw) => (LOGIN.test(raw) ? ok(raw.toLowerCase()) : err('expected a GitHub login')),

  async resolve(login, { settings, http, now }): Promise<Resolution> {
    const headers: Record<string, string> = {
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
    }
    if (settings.token) headers.authorization = `Bearer ${settings.token}`

    const response = await apiRequest(http, NETWORK, `${settings.apiUrl}/users/${encodeURIComponent(login)}`, {
      headers,
    })

    if (response.status === 404) return { kind: 'not_found' }
    if (response.status === 403 || response.status === 429) {
      const { limited, retryAt } = rateLimitReset(response, now())
      if (limited) throw new UpstreamError('rate_limited', `${NETWORK}: rate limit exceeded`, retryAt)
    }
    if (response.status === 401) throw new UpstreamError('auth', `${NETWORK}: HEADSHOT_GITHUB_TOKEN was refused`)
    if (response.status !== 200) throw new UpstreamError('unavailable', `${NETWORK}: HTTP ${response.status}`)

    const body = jsonBody(response)
    if (!isRecord(body) || typeof body.avatar_url !== 'string') {
      throw new UpstreamError('unavailable', `${NETWORK}: user without avatar_url`)
    }
    let url: URL
    try {
      url = new URL(body.avatar_url)
    } catch {
      throw new UpstreamError('unavailable', `${NETWORK}: unusable avatar_url`)
    }
    url.searchParams.set('s', String(AVATAR_SIDE))
    return { kind: 'image', url: url.href }
  },
})
