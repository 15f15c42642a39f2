/**
 * A fake Gravatar image endpoint on loopback, behaving like the real one (as Gravatar documents it:
 * the routes and answers listed below).
 *
 * Route [avatar]: `GET|HEAD /avatar/{32|64 hex}[.jpg|.jpeg|.png]` with `s`/`size` (1..2048, default 80,
 * clamped), `d`/`default`, `f`/`forcedefault`, `r`/`rating` (ignored). Hashes are case-insensitive.
 * Known hash → the user's picture at s×s; unknown + `d=404` → 404; unknown without `d` → the Gravatar
 * logo (200); unknown + `d=mp|identicon|…` → a generated picture (200). `Last-Modified`, `Expires`
 * (+300 s) and `Cache-Control: max-age=300` on every image; `If-Modified-Since` → 304.
 *
 * Control surface: `users` (by lower-case hash) / `addEmail`, `modes.failure`, `modes.delayMs`,
 * `requests` (logged once answered), `arrived` (counted on arrival, before any delay), `unanswered`
 * (the paths of the requests received and not answered yet).
 */
import { createHash } from 'node:crypto'
import { CONTENT_TYPES, makePicture } from '../../test/support/fakes/images.ts'
import { serveFake, type FakeServer, type Routed } from '../../test/support/fakes/server.ts'

export interface FakeGravatarUser {
  /** Whose picture it is (see images.ts): decides the colour. */
  seed: string
  format: 'jpg' | 'png'
  lastModified: Date
}

export interface FakeGravatarModes {
  /** `rate_limited`: 429; `server_error`: 500; `garbage`: 200 with HTML instead of an image. */
  failure: 'rate_limited' | 'server_error' | 'garbage' | undefined
  /** Every avatar answer waits this long first (a slow upstream: herds overlap, work is caught mid-way). */
  delayMs: number
}

export interface FakeGravatar extends FakeServer {
  readonly env: Record<string, string>
  /** By lower-case hash (MD5 or SHA-256). */
  users: Map<string, FakeGravatarUser>
  /** Register an email the way Gravatar hashes it (trim, lower-case); returns both hashes. */
  addEmail(email: string, picture?: Partial<FakeGravatarUser>): { md5: string; sha256: string }
  modes: FakeGravatarModes
  /** Avatar requests received so far, counted before any delay (`requests` logs them once answered). */
  readonly arrived: number
  /** Paths (`/avatar/<hash>`) of the avatar requests received and not answered yet: downloads under way. */
  readonly unanswered: readonly string[]
}

const HASH_FILE = /^([0-9a-fA-F]{32}|[0-9a-fA-F]{64})(?:\.(?:jpe?g|png))?$/
const LOGO_SEED = 'gravatar-logo'

/** `s` as Gravatar reads it: an integer clamped to 1..2048, 80 when absent or not a number. */
export function gravatarSize(value: string | null): number {
  if (value === null || !/^-?[0-9]+$/.test(value)) return 80
  return Math.min(2048, Math.max(1, Number(value)))
}

export function startFakeGravatar(): FakeGravatar {
  const users = new Map<string, FakeGravatarUser>()
  const modes: FakeGravatarModes = { failure: undefined, delayMs: 0 }
  let arrived = 0
  const unanswered: string[] = []
  const started = new Date(Math.floor(Date.now() / 1000) * 1000 - 86_400_000)

  async function avatar(request: Request, url: URL, file: string): Promise<Response> {
    arrived++
    if (modes.delayMs > 0) await Bun.sleep(modes.delayMs)
    if (modes.failure === 'rate_limited') return new Response('Too Many Requests', { status: 429 })
    if (modes.failure === 'server_error') return new Response('Internal Server Error', { status: 500 })
    if (modes.failure === 'garbage') {
      return new Response('<html><body>Gravatar is having a moment</body></html>', {
        status: 200,
        headers: { 'content-type': 'text/html' },
      })
    }

    const query = url.searchParams
    const size = gravatarSize(query.get('s') ?? query.get('size'))
    const fallback = query.get('d') ?? query.get('default')
    const forceDefault = /^(y|yes|true|1)$/i.test(query.get('f') ?? query.get('forcedefault') ?? '')
    const hash = HASH_FILE.exec(file)?.[1]?.toLowerCase()
    const user = hash === undefined || forceDefault ? undefined : users.get(hash)

    let seed: string
    let format: 'jpg' | 'png'
    let lastModified: Date
    if (user) {
      ;({ seed, format, lastModified } = user)
    } else if (fallback === '404') {
      return new Response('Not Found', { status: 404, headers: { 'content-type': 'text/plain' } })
    } else {
      // No picture: the Gravatar logo, or the requested generated default.
      seed = fallback === null ? LOGO_SEED : `gravatar-default-${fallback}`
      format = 'png'
      lastModified = started
    }

    const headers = {
      'content-type': CONTENT_TYPES[format],
      'last-modified': lastModified.toUTCString(),
      expires: new Date(Date.now() + 300_000).toUTCString(),
      'cache-control': 'max-age=300',
    }
    const since = Date.parse(request.headers.get('if-modified-since') ?? '')
    if (!Number.isNaN(since) && lastModified.getTime() <= since) return new Response(null, { status: 304, headers })
    const bytes = await makePicture(seed, size, size, format)
    return new Response(request.method === 'HEAD' ? null : bytes, {
      headers: { ...headers, 'content-length': String(bytes.byteLength) },
    })
  }

  const server = serveFake(async (request, url): Promise<Routed> => {
    const match = /^\/avatar\/([^/]+)$/.exec(url.pathname)
    if ((request.method === 'GET' || request.method === 'HEAD') && match) {
      unanswered.push(url.pathname)
      try {
        return { route: 'avatar', response: await avatar(request, url, match[1]!) }
      } finally {
        unanswered.splice(unanswered.indexOf(url.pathname), 1)
      }
    }
    return { route: 'unknown', response: new Response('Not Found', { status: 404 }) }
  })

  return {
    ...server,
    env: { HEADSHOT_GRAVATAR_URL: server.url },
    users,
    modes,
    get arrived() {
      return arrived
    },
    get unanswered() {
      return [...unanswered]
    },
    addEmail(email, picture = {}) {
      const normalised = email.trim().toLowerCase()
      const md5 = createHash('md5').update(normalised).digest('hex')
      const sha256 = createHash('sha256').update(normalised).digest('hex')
      const user: FakeGravatarUser = { seed: normalised, format: 'jpg', lastModified: started, ...picture }
      users.set(md5, user)
      users.set(sha256, user)
      return { md5, sha256 }
    },
  }
}

export { startFakeGravatar as start }
