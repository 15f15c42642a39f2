/**
 * A fake Libravatar avatar server on loopback (the central service or a domain's own, federated one:
 * both speak the same API, as the Libravatar wiki describes it), and a fake DNS for the SRV records
 * that announce federated servers.
 *
 * Route [avatar]: `GET|HEAD /avatar/{32|64 hex}[.jpg|.jpeg|.png]` with `s`/`size` (1..512, default 80,
 * clamped; anything unparsable is ignored) and `d`/`default`. Hashes are case-insensitive. Known hash →
 * the user's picture at s×s; unknown + `d=404` → 404; unknown without `d` → nobody.png (200); unknown +
 * `d=mm|identicon|…` → a generated picture (200). `Last-Modified` and `Cache-Control: max-age=300`.
 *
 * Control surface: `users` (by lower-case hash) / `addEmail`, `modes.failure`, `requests`.
 * Fake DNS: `fakeSrv()` → `records` (by query name), `hang` (never answer), `queries`, `resolveSrv`.
 */
import { createHash } from 'node:crypto'
import type { SrvLookup, SrvRecord } from './index.ts'
import { CONTENT_TYPES, makePicture } from '../../test/support/fakes/images.ts'
import { serveFake, type FakeServer, type Routed } from '../../test/support/fakes/server.ts'

export interface FakeLibravatarUser {
  /** Whose picture it is (see images.ts): decides the colour. */
  seed: string
  format: 'jpg' | 'png'
}

export interface FakeLibravatarModes {
  /** `rate_limited`: 429 with `Retry-After: 120`; `server_error`: 503; `garbage`: 200 with HTML. */
  failure: 'rate_limited' | 'server_error' | 'garbage' | undefined
}

export interface FakeLibravatar extends FakeServer {
  /** HEADSHOT_LIBRAVATAR_URL pointing here (for the central service). */
  readonly env: Record<string, string>
  users: Map<string, FakeLibravatarUser>
  /** Register an email the way Libravatar hashes it (trim, lower-case); returns both hashes. */
  addEmail(email: string, picture?: Partial<FakeLibravatarUser>): { md5: string; sha256: string }
  modes: FakeLibravatarModes
}

const HASH_FILE = /^([0-9a-fA-F]{32}|[0-9a-fA-F]{64})(?:\.(?:jpe?g|png))?$/
export const NOBODY_SEED = 'libravatar-nobody'

/** `s` as Libravatar reads it: an integer clamped to 1..512; 80 when absent or invalid (ignored). */
export function libravatarSize(value: string | null): number {
  if (value === null || !/^-?[0-9]+$/.test(value)) return 80
  return Math.min(512, Math.max(1, Number(value)))
}

export function emailHashes(email: string): { md5: string; sha256: string } {
  const normalised = email.trim().toLowerCase()
  return {
    md5: createHash('md5').update(normalised).digest('hex'),
    sha256: createHash('sha256').update(normalised).digest('hex'),
  }
}

export function startFakeLibravatar(): FakeLibravatar {
  const users = new Map<string, FakeLibravatarUser>()
  const modes: FakeLibravatarModes = { failure: undefined }
  const lastModified = new Date(Math.floor(Date.now() / 1000) * 1000 - 86_400_000).toUTCString()

  async function avatar(request: Request, url: URL, file: string): Promise<Response> {
    if (modes.failure === 'rate_limited') {
      return new Response('Too Many Requests', { status: 429, headers: { 'retry-after': '120' } })
    }
    if (modes.failure === 'server_error') return new Response('Service Unavailable', { status: 503 })
    if (modes.failure === 'garbage') {
      return new Response('<html><body>maintenance</body></html>', { headers: { 'content-type': 'text/html' } })
    }
    const query = url.searchParams
    const size = libravatarSize(query.get('s') ?? query.get('size'))
    const fallback = query.get('d') ?? query.get('default')
    const hash = HASH_FILE.exec(file)?.[1]?.toLowerCase()
    const user = hash === undefined ? undefined : users.get(hash)
    let seed: string
    let format: 'jpg' | 'png'
    if (user) {
      ;({ seed, format } = user)
    } else if (fallback === '404') {
      return new Response('Not Found', { status: 404, headers: { 'content-type': 'text/plain' } })
    } else {
      seed = fallback === null ? NOBODY_SEED : `libravatar-default-${fallback}`
      format = 'png'
    }
    const bytes = await makePicture(seed, size, size, format)
    return new Response(request.method === 'HEAD' ? null : bytes, {
      headers: {
        'content-type': CONTENT_TYPES[format],
        'content-length': String(bytes.byteLength),
        'last-modified': lastModified,
        'cache-control': 'max-age=300',
      },
    })
  }

  const server = serveFake(async (request, url): Promise<Routed> => {
    const match = /^\/avatar\/([^/]+)$/.exec(url.pathname)
    if ((request.method === 'GET' || request.method === 'HEAD') && match) {
      return { route: 'avatar', response: await avatar(request, url, match[1]!) }
    }
    return { route: 'unknown', response: new Response('Not Found', { status: 404 }) }
  })

  return {
    ...server,
    env: { HEADSHOT_LIBRAVATAR_URL: server.url },
    users,
    modes,
    addEmail(email, picture = {}) {
      const hashes = emailHashes(email)
      const user: FakeLibravatarUser = { seed: email.trim().toLowerCase(), format: 'jpg', ...picture }
      users.set(hashes.md5, user)
      users.set(hashes.sha256, user)
      return hashes
    },
  }
}

export interface FakeSrv {
  /** Answers by query name (`_avatars-sec._tcp.example.org`); a missing name is ENOTFOUND. */
  records: Map<string, SrvRecord[]>
  /** Never answer (a DNS server that does not reply). */
  hang: boolean
  /** Every name asked, in order. */
  queries: string[]
  resolveSrv: SrvLookup
}

/** A DNS that answers SRV queries from a table, failing like node:dns does for unknown names. */
export function fakeSrv(): FakeSrv {
  const dns: FakeSrv = {
    records: new Map(),
    hang: false,
    queries: [],
    async resolveSrv(name) {
      dns.queries.push(name)
      if (dns.hang) return new Promise<SrvRecord[]>(() => {})
      const answer = dns.records.get(name)
      if (answer === undefined) {
        throw Object.assign(new Error(`querySrv ENOTFOUND ${name}`), { code: 'ENOTFOUND', hostname: name })
      }
      return answer
    },
  }
  return dns
}

/** The SRV record that points at a server (e.g. a fake's `http://127.0.0.1:port`) under a host name. */
export function srvRecord(name: string, port: number, priority = 0, weight = 0): SrvRecord {
  return { name, port, priority, weight }
}

export { startFakeLibravatar as start }
