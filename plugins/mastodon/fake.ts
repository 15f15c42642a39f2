/**
 * A fake Mastodon server (REST account lookup plus its media files) on one loopback origin,
 * answering like the real one (mastodon/documentation `methods/accounts.md`, `entities/Account.md`,
 * `api/rate-limits.md`).
 *
 * Routes (request-log names in brackets):
 * - [lookup] `GET /api/v1/accounts/lookup?acct=<user>`: the Account entity (`avatar`, `avatar_static`,
 *   …), 404 `{"error":"Record not found"}` for an unknown user. Usernames match case-insensitively.
 *   Every answer carries `X-RateLimit-Limit/-Remaining/-Reset` (reset: an ISO 8601 timestamp).
 * - [media] `GET /system/accounts/avatars/…/original/<file>`: the uploaded avatar; `avatar_static`
 *   of an animated avatar is a PNG still beside it.
 * - [missing] `GET /avatars/original/missing.png`: Mastodon's placeholder for accounts without one.
 *
 * Control surface: `accounts` (add with `addAccount`), `modes` (rate limit, failures, stall, media
 * origin), `requests` (per-route counts).
 */
import { CONTENT_TYPES, makePicture, type PictureFormat } from '../../test/support/fakes/images.ts'
import { json, serveFake, type FakeServer, type Routed } from '../../test/support/fakes/server.ts'

export interface FakeMastodonPicture {
  /** Whose picture it is (see images.ts): decides the colour. */
  seed: string
  side: number
  /** `gif` makes `avatar` animated and `avatar_static` a PNG still. */
  format?: PictureFormat
}

export interface FakeMastodonAccount {
  id: string
  username: string
  picture: FakeMastodonPicture | 'missing'
}

export interface FakeMastodonModes {
  /** Answer lookups with 429 and the rate-limit headers (reset this many seconds ahead). */
  rateLimitedForSeconds: number | undefined
  /** `server_error`: 500 HTML page; `garbage`: 200 with something that is not JSON. */
  failure: 'server_error' | 'garbage' | undefined
  /** Hold every lookup this long (ms): a server that hangs. */
  stallMs: number
  /** Where avatar URLs point (a media CDN); default: this server's own origin. */
  mediaOrigin: string | undefined
}

export interface FakeMastodon extends FakeServer {
  accounts: Map<string, FakeMastodonAccount>
  modes: FakeMastodonModes
  /** Adds a local account; returns it (its id is a snowflake-like number). */
  addAccount(username: string, picture: FakeMastodonPicture | 'missing'): FakeMastodonAccount
}

const RATE_LIMIT = 300
const RATE_PERIOD_SECONDS = 300

function mediaPath(account: FakeMastodonAccount, ext: string): string {
  const padded = account.id.padStart(18, '0')
  const parts = padded.match(/.{3}/g)!.join('/')
  return `/system/accounts/avatars/${parts}/original/${account.username.toLowerCase()}.${ext}`
}

export function startFakeMastodon(): FakeMastodon {
  const accounts = new Map<string, FakeMastodonAccount>()
  const modes: FakeMastodonModes = {
    rateLimitedForSeconds: undefined,
    failure: undefined,
    stallMs: 0,
    mediaOrigin: undefined,
  }
  let nextId = 109_000_000_000_000_000n
  let used = 0
  let periodEnds = 0

  function rateHeaders(): Record<string, string> {
    const now = Date.now()
    if (now >= periodEnds) {
      periodEnds = now + RATE_PERIOD_SECONDS * 1000
      used = 0
    }
    used++
    let reset = periodEnds
    let remaining = Math.max(0, RATE_LIMIT - used)
    if (modes.rateLimitedForSeconds !== undefined) {
      reset = now + modes.rateLimitedForSeconds * 1000
      remaining = 0
    }
    return {
      'x-ratelimit-limit': String(RATE_LIMIT),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': new Date(reset).toISOString(),
    }
  }

  function accountEntity(origin: string, account: FakeMastodonAccount): Record<string, unknown> {
    const media = modes.mediaOrigin ?? origin
    let avatar: string
    let avatarStatic: string
    if (account.picture === 'missing') {
      avatar = avatarStatic = `${origin}/avatars/original/missing.png`
    } else {
      const format = account.picture.format ?? 'png'
      avatar = `${media}${mediaPath(account, format)}`
      avatarStatic = format === 'gif' ? `${media}${mediaPath(account, 'png')}` : avatar
    }
    return {
      id: account.id,
      username: account.username,
      acct: account.username,
      display_name: account.username,
      locked: false,
      bot: false,
      discoverable: true,
      group: false,
      created_at: '2016-03-16T00:00:00.000Z',
      note: '<p></p>',
      url: `${origin}/@${account.username}`,
      uri: `${origin}/users/${account.username}`,
      avatar,
      avatar_static: avatarStatic,
      header: `${origin}/headers/original/missing.png`,
      header_static: `${origin}/headers/original/missing.png`,
      followers_count: 0,
      following_count: 0,
      statuses_count: 0,
      last_status_at: null,
      emojis: [],
      fields: [],
    }
  }

  function lookup(url: URL): Response {
    if (modes.failure === 'server_error') {
      return new Response('<!DOCTYPE html><html><body><h1>We are sorry, but something went wrong.</h1></body></html>', {
        status: 500,
        headers: { 'content-type': 'text/html; charset=utf-8' },
      })
    }
    if (modes.failure === 'garbage') {
      return new Response('{"id":"1","username":', { status: 200, headers: { 'content-type': 'application/json' } })
    }
    const headers = rateHeaders()
    if (modes.rateLimitedForSeconds !== undefined) return json({ error: 'Too many requests' }, 429, headers)
    const acct = url.searchParams.get('acct') ?? ''
    // `user@this.host` names a local account too.
    const [user, domain] = acct.split('@')
    const local = domain === undefined || domain.toLowerCase() === url.hostname.toLowerCase()
    const account = local ? accounts.get((user ?? '').toLowerCase()) : undefined
    if (!account) return json({ error: 'Record not found' }, 404, headers)
    return json(accountEntity(url.origin, account), 200, headers)
  }

  async function media(path: string): Promise<Response> {
    const match = /^\/system\/accounts\/avatars\/[0-9/]+\/original\/([a-z0-9_]+)\.(png|jpg|gif|webp)$/.exec(path)
    const account = match ? accounts.get(match[1]!) : undefined
    if (!match || !account || account.picture === 'missing') return new Response('Not Found', { status: 404 })
    const format = match[2] as PictureFormat
    const uploaded = account.picture.format ?? 'png'
    if (format !== uploaded && !(uploaded === 'gif' && format === 'png'))
      return new Response('Not Found', { status: 404 })
    const bytes = await makePicture(account.picture.seed, account.picture.side, account.picture.side, format)
    return new Response(bytes, {
      headers: { 'content-type': CONTENT_TYPES[format], 'cache-control': 'public, max-age=315576000, immutable' },
    })
  }

  const server = serveFake(async (request, url): Promise<Routed> => {
    if (request.method === 'GET' && url.pathname === '/api/v1/accounts/lookup') {
      if (modes.stallMs > 0) await Bun.sleep(modes.stallMs)
      return { route: 'lookup', response: lookup(url) }
    }
    if (request.method === 'GET' && url.pathname === '/avatars/original/missing.png') {
      const bytes = await makePicture('mastodon-missing', 400, 400, 'png')
      return { route: 'missing', response: new Response(bytes, { headers: { 'content-type': CONTENT_TYPES.png } }) }
    }
    if (request.method === 'GET' && url.pathname.startsWith('/system/')) {
      return { route: 'media', response: await media(url.pathname) }
    }
    return { route: 'unknown', response: json({ error: 'Record not found' }, 404) }
  })

  return {
    ...server,
    accounts,
    modes,
    addAccount(username, picture) {
      const account = { id: String(nextId++), username, picture }
      accounts.set(username.toLowerCase(), account)
      return account
    },
  }
}

export { startFakeMastodon as start }
