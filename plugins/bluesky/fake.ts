/**
 * A fake Bluesky public AppView plus its image CDN, on one loopback origin, answering as the real
 * ones do (lexicon `app.bsky.actor.getProfile`, captured responses).
 *
 * Routes (request-log names in brackets):
 * - [getProfile] `GET /xrpc/app.bsky.actor.getProfile?actor=<handle|did>`: the `profileViewDetailed`
 *   (`did`, `handle`, `displayName`, `avatar` only when the account has one, counts…). Handles match
 *   case-insensitively. Unknown → 400 `{"error":"InvalidRequest","message":"Profile not found"}`;
 *   a deactivated account → 400 `AccountDeactivated`; no or malformed `actor` → 400 InvalidRequest.
 * - [cdn] `GET /img/avatar/plain/<did>/<cid>@jpeg`: the avatar, while `cid` is the account's current
 *   picture (a replaced picture's old URL is 404, as the content-addressed CDN has no such blob for it).
 *
 * Control surface: `addProfile` / `setAvatar`, `modes` (rate limit with `RateLimit-*` headers, 500,
 * garbage), `requests` (per-route counts).
 */
import { createHash } from 'node:crypto'
import { CONTENT_TYPES, makePicture } from '../../test/support/fakes/images.ts'
import { json, serveFake, type FakeServer, type Routed } from '../../test/support/fakes/server.ts'

export interface FakeBlueskyAvatar {
  /** Whose picture it is (see images.ts): decides the colour. */
  seed: string
  /** The CDN serves the avatar at this side (Bluesky keeps uploads ≤1 MB, typically 1000 px). */
  side: number
}

export interface FakeBlueskyProfile {
  did: string
  handle: string
  displayName?: string
  /** Absent: the account has no picture (the `avatar` key is left out). */
  avatar?: FakeBlueskyAvatar
  /** Set by the fake from the avatar: its blob CID. */
  cid?: string
  deactivated?: boolean
}

export interface FakeBlueskyModes {
  /** Answer getProfile with 429 `RateLimitExceeded` and the `RateLimit-*` headers. */
  rateLimited: boolean
  /** `RateLimit-Reset` of rate-limited answers (Unix seconds); default now + 300. */
  rateLimitReset: number | undefined
  /** `server_error`: 500 InternalServerError; `garbage`: 200 with an HTML page instead of JSON. */
  failure: 'server_error' | 'garbage' | undefined
}

export interface FakeBluesky extends FakeServer {
  /** The env a plugin needs to talk to this fake. */
  readonly env: Record<string, string>
  profiles: Map<string, FakeBlueskyProfile>
  modes: FakeBlueskyModes
  /** Adds an account; returns it (with the avatar's CID when it has one). */
  addProfile(profile: Omit<FakeBlueskyProfile, 'cid'>): FakeBlueskyProfile
  /** Replace (or remove, with undefined) an account's avatar: a new picture has a new CID. */
  setAvatar(did: string, avatar: FakeBlueskyAvatar | undefined): void
}

const RATE_LIMIT = 3000
const RATE_WINDOW_SECONDS = 300
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'

/** A CIDv1 (raw, sha-256) string of the picture's identity, in multibase base32 as Bluesky writes it. */
function cidFor(did: string, avatar: FakeBlueskyAvatar, version: number): string {
  const digest = createHash('sha256').update(`${did}\u0000${avatar.seed}\u0000${avatar.side}\u0000${version}`).digest()
  let bits = 0
  let value = 0
  let out = ''
  for (const byte of digest) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31]
  return `bafkrei${out}`
}

const xrpcError = (status: number, error: string, message: string, headers: Record<string, string> = {}) =>
  json({ error, message }, status, headers)

const AT_IDENTIFIER =
  /^(did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]|([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)$/

export function startFakeBluesky(): FakeBluesky {
  const profiles = new Map<string, FakeBlueskyProfile>() // by DID
  const modes: FakeBlueskyModes = { rateLimited: false, rateLimitReset: undefined, failure: undefined }
  let version = 0

  function find(actor: string): FakeBlueskyProfile | undefined {
    if (actor.startsWith('did:')) return profiles.get(actor)
    const handle = actor.toLowerCase()
    for (const profile of profiles.values()) if (profile.handle === handle) return profile
    return undefined
  }

  function getProfile(url: URL): Response {
    if (modes.failure === 'server_error') return xrpcError(500, 'InternalServerError', 'Internal Server Error')
    if (modes.failure === 'garbage') {
      return new Response('<!DOCTYPE html><html><body>502 Bad Gateway</body></html>', {
        status: 200,
        headers: { 'content-type': 'text/html' },
      })
    }
    const nowSeconds = Math.floor(Date.now() / 1000)
    if (modes.rateLimited) {
      return xrpcError(429, 'RateLimitExceeded', 'Rate Limit Exceeded', {
        'ratelimit-limit': String(RATE_LIMIT),
        'ratelimit-remaining': '0',
        'ratelimit-reset': String(modes.rateLimitReset ?? nowSeconds + RATE_WINDOW_SECONDS),
        'ratelimit-policy': `${RATE_LIMIT};w=${RATE_WINDOW_SECONDS}`,
      })
    }
    const actor = url.searchParams.get('actor')
    if (actor === null) return xrpcError(400, 'InvalidRequest', 'Error: Params must have the property "actor"')
    if (!AT_IDENTIFIER.test(actor)) {
      return xrpcError(400, 'InvalidRequest', 'Error: actor must be a valid did or a handle')
    }
    const profile = find(actor)
    if (!profile) return xrpcError(400, 'InvalidRequest', 'Profile not found')
    if (profile.deactivated) return xrpcError(400, 'AccountDeactivated', 'Account is deactivated')

    const view: Record<string, unknown> = {
      did: profile.did,
      handle: profile.handle,
      displayName: profile.displayName ?? '',
      description: '',
    }
    if (profile.avatar && profile.cid) {
      view.avatar = `${url.origin}/img/avatar/plain/${profile.did}/${profile.cid}@jpeg`
    }
    Object.assign(view, {
      associated: { lists: 0, feedgens: 0, starterPacks: 0, labeler: false },
      indexedAt: '2024-01-01T00:00:00.000Z',
      createdAt: '2023-04-01T00:00:00.000Z',
      labels: [],
      followersCount: 42,
      followsCount: 7,
      postsCount: 3,
    })
    return json(view, 200, {
      'ratelimit-limit': String(RATE_LIMIT),
      'ratelimit-remaining': String(RATE_LIMIT - 1),
      'ratelimit-reset': String(nowSeconds + RATE_WINDOW_SECONDS),
      'ratelimit-policy': `${RATE_LIMIT};w=${RATE_WINDOW_SECONDS}`,
    })
  }

  async function cdn(did: string, cid: string): Promise<Response> {
    const profile = profiles.get(did)
    if (!profile?.avatar || profile.cid !== cid) return new Response('Not Found', { status: 404 })
    const bytes = await makePicture(profile.avatar.seed, profile.avatar.side, profile.avatar.side, 'jpg')
    return new Response(bytes, {
      headers: { 'content-type': CONTENT_TYPES.jpg, 'cache-control': 'public, max-age=604800' },
    })
  }

  const server = serveFake(async (request, url): Promise<Routed> => {
    if (request.method === 'GET' && url.pathname === '/xrpc/app.bsky.actor.getProfile') {
      return { route: 'getProfile', response: getProfile(url) }
    }
    const avatar = /^\/img\/avatar\/plain\/([^/]+)\/([a-z2-7]+)@jpeg$/.exec(url.pathname)
    if (request.method === 'GET' && avatar) {
      return { route: 'cdn', response: await cdn(decodeURIComponent(avatar[1]!), avatar[2]!) }
    }
    if (url.pathname.startsWith('/xrpc/')) {
      return { route: 'unknown', response: xrpcError(501, 'MethodNotImplemented', 'Method Not Implemented') }
    }
    return { route: 'unknown', response: new Response('Not Found', { status: 404 }) }
  })

  function setAvatar(did: string, avatar: FakeBlueskyAvatar | undefined): void {
    const profile = profiles.get(did)
    if (!profile) throw new Error(`setAvatar: no profile ${did}`)
    profile.avatar = avatar
    profile.cid = avatar ? cidFor(did, avatar, ++version) : undefined
  }

  return {
    ...server,
    env: { HEADSHOT_BLUESKY_API_URL: server.url },
    profiles,
    modes,
    addProfile(input) {
      const profile: FakeBlueskyProfile = { ...input, handle: input.handle.toLowerCase() }
      profiles.set(profile.did, profile)
      setAvatar(profile.did, input.avatar)
      return profile
    },
    setAvatar,
  }
}

export { startFakeBluesky as start }
