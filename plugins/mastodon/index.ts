/**
 * Mastodon avatars by `user@server` (e.g. `/image/mastodon/…/Gargron@mastodon.social.jpg`), through
 * the server's REST lookup `GET https://<server>/api/v1/accounts/lookup?acct=<user>` (no auth needed
 * unless the server runs in limited mode). One lookup plus one avatar download per picture.
 *
 * The server is chosen by whoever writes the URL, so:
 * - the plugin reaches any host only through the SSRF guard (`anyPublicHost`: every DNS answer of
 *   the server and of its media host must be public; never trusted like a configured base URL);
 * - HEADSHOT_MASTODON_ALLOWED_SERVERS / _DENIED_SERVERS narrow which servers are asked; a server
 *   outside them is not_found without any request (parseId has no settings, so it cannot be a 400);
 * - lookups get a short timeout, and a server that failed (unreachable, timeout, 5xx, garbage,
 *   rate limit) is not asked again for a while: failures are remembered per server;
 * - URLs of this type need a signature by default (restrictedByDefault).
 * plugins/mastodon/fake.ts reproduces the server.
 */
import { Type } from '@sinclair/typebox'
import { definePlugin, err, ok, UpstreamError, type Resolution } from '../../src/plugin-host/types.ts'
import {
  isRecord,
  jsonBody,
  retryAfterToEpochMs,
  toUpstreamError,
  type HttpResponse,
} from '../../src/plugin-host/upstream.ts'

const NETWORK = 'Mastodon'
const USER = /^[A-Za-z0-9_]{1,30}$/
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/
// A comma list of host names or `*.suffix` entries (checked at start-up, names the variable on error).
const SERVER_LIST = '^\\s*(\\*\\.)?[A-Za-z0-9.-]+\\s*(,\\s*(\\*\\.)?[A-Za-z0-9.-]+\\s*)*$'
/** Mastodon's placeholder for accounts without an avatar (`…/avatars/original/missing.png`). */
const MISSING_AVATAR = /\/avatars\/original\/missing\.png$/
/** Rate limits without a usable reset time are waited out this long. */
const DEFAULT_RATE_LIMIT_MS = 5 * 60_000

/** A DNS host name with at least two labels and a non-numeric TLD (so never an IPv4 literal). */
export function isServerName(server: string): boolean {
  if (server.length > 253) return false
  const labels = server.split('.')
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label))) return false
  return !/^[0-9]+$/.test(labels.at(-1)!)
}

/** `user@server` → [user, lower-case server], or an error text. */
export function parseAcct(raw: string): { user: string; server: string } | string {
  const at = raw.indexOf('@')
  if (at < 0 || at !== raw.lastIndexOf('@')) return 'expected user@server (e.g. Gargron@mastodon.social)'
  const user = raw.slice(0, at)
  const server = raw.slice(at + 1).toLowerCase()
  if (!USER.test(user)) return 'the Mastodon user name must be 1 to 30 letters, digits or underscores'
  if (!isServerName(server)) return 'the Mastodon server must be a host name (no port, no IP address)'
  return { user, server }
}

function parseServerList(text: string | undefined): string[] {
  if (text === undefined) return []
  return text
    .split(',')
    .map((entry) => entry.trim().toLowerCase().replace(/\.$/, ''))
    .filter((entry) => entry !== '')
}

/** Exact host, or `*.suffix` for sub-domains of suffix only (as in plugin `hosts`). */
function serverMatches(server: string, pattern: string): boolean {
  if (pattern.startsWith('*.')) {
    const suffix = pattern.slice(1)
    return server.length > suffix.length && server.endsWith(suffix)
  }
  return server === pattern
}

/** Whether the settings let us ask this server at all. */
export function serverPermitted(server: string, allowed: string | undefined, denied: string | undefined): boolean {
  if (parseServerList(denied).some((pattern) => serverMatches(server, pattern))) return false
  const allowList = parseServerList(allowed)
  return allowList.length === 0 || allowList.some((pattern) => serverMatches(server, pattern))
}

/** `X-RateLimit-Reset` is an ISO 8601 timestamp on Mastodon; `Retry-After` (seconds or date) is accepted too. */
function resetOf(response: HttpResponse, nowMs: number): number | undefined {
  const reset = response.headers.get('x-ratelimit-reset')
  if (reset !== null) {
    const text = reset.trim()
    const at = /^[0-9]+$/.test(text) ? Number(text) * 1000 : Date.parse(text)
    if (Number.isFinite(at) && at > nowMs) return at
  }
  return retryAfterToEpochMs(response.headers.get('retry-after'), nowMs)
}

/** Bounds the failure memory: the server names come from URLs. */
const MAX_REMEMBERED_FAILURES = 10_000

/** Failures remembered per server, per loaded plugin (keyed by its HTTP client, one per registry). */
const failuresByClient = new WeakMap<object, Map<string, { until: number; error: UpstreamError }>>()

function failureMemory(key: object): Map<string, { until: number; error: UpstreamError }> {
  let memory = failuresByClient.get(key)
  if (!memory) {
    memory = new Map()
    failuresByClient.set(key, memory)
  }
  return memory
}

export default definePlugin({
  type: 'mastodon',
  settings: Type.Object({
    allowedServers: Type.Optional(Type.String({ env: 'HEADSHOT_MASTODON_ALLOWED_SERVERS', pattern: SERVER_LIST })),
    deniedServers: Type.Optional(Type.String({ env: 'HEADSHOT_MASTODON_DENIED_SERVERS', pattern: SERVER_LIST })),
    timeoutMs: Type.Integer({ default: 3000, minimum: 100, maximum: 30_000, env: 'HEADSHOT_MASTODON_TIMEOUT_MS' }),
    failureTtlSeconds: Type.Integer({
      default: 60,
      minimum: 0,
      maximum: 86_400,
      env: 'HEADSHOT_MASTODON_FAILURE_TTL_SECONDS',
    }),
    // The operator's own server reached at a configured (trusted, possibly private) base URL, e.g.
    // an instance inside the same network. Tests point it at the loopback fake.
    localServer: Type.Optional(Type.String({ env: 'HEADSHOT_MASTODON_LOCAL_SERVER', pattern: '^[A-Za-z0-9.-]+$' })),
    localServerUrl: Type.Optional(Type.String({ env: 'HEADSHOT_MASTODON_LOCAL_SERVER_URL', baseUrl: true })),
  }),
  hosts: [],
  // Servers (and their media hosts) are named by the URL: any public host, through the SSRF guard.
  anyPublicHost: true,
  // An unsigned URL would let anyone make this server send requests to any host on the internet
  // and spend our address's rate limit on the big instances: signed URLs only, unless the operator
  // lists the type in HEADSHOT_RESTRICTED_TYPES differently.
  restrictedByDefault: true,
  id: { syntax: 'user@server, the Mastodon account as written in the fediverse', example: 'Gargron@mastodon.social' },

  parseId(raw) {
    const acct = parseAcct(raw)
    return typeof acct === 'string' ? err(acct) : ok(`${acct.user}@${acct.server}`)
  },

  async resolve(id, { settings, http, now }) {
    const acct = parseAcct(id)
    if (typeof acct === 'string') return { kind: 'not_found' }
    const { user, server } = acct
    const local =
      settings.localServer !== undefined &&
      settings.localServerUrl !== undefined &&
      settings.localServer.trim().toLowerCase() === server
    if (!local && !serverPermitted(server, settings.allowedServers, settings.deniedServers)) {
      return { kind: 'not_found' }
    }

    const failures = failureMemory(http)
    const remembered = failures.get(server)
    if (remembered && remembered.until > now()) throw remembered.error
    failures.delete(server)

    const remember = (error: UpstreamError, until: number): UpstreamError => {
      if (failures.size >= MAX_REMEMBERED_FAILURES) {
        // Many failing servers (URLs naming made-up hosts): forget the expired, then the oldest.
        for (const [name, entry] of failures) if (entry.until <= now()) failures.delete(name)
        if (failures.size >= MAX_REMEMBERED_FAILURES) failures.delete(failures.keys().next().value!)
      }
      if (until > now()) failures.set(server, { until, error })
      return error
    }
    const failureUntil = () => now() + settings.failureTtlSeconds * 1000

    const base = local ? settings.localServerUrl! : `https://${server}`
    const url = `${base}/api/v1/accounts/lookup?${new URLSearchParams({ acct: user })}`
    let response: HttpResponse
    try {
      response = await http.request(url, {
        headers: { accept: 'application/json' },
        followRedirects: false,
        timeoutMs: settings.timeoutMs,
      })
    } catch (error) {
      const upstream = toUpstreamError(error, `${NETWORK} ${server}`)
      throw remember(new UpstreamError(upstream.code, upstream.message, failureUntil()), failureUntil())
    }

    if (response.status === 404 || response.status === 410) return { kind: 'not_found' }
    if (response.status === 429) {
      const retryAt = resetOf(response, now()) ?? now() + DEFAULT_RATE_LIMIT_MS
      throw remember(new UpstreamError('rate_limited', `${NETWORK} ${server}: rate limited`, retryAt), retryAt)
    }
    const body = jsonBody(response)
    if (response.status !== 200 || !isRecord(body)) {
      throw remember(
        new UpstreamError(
          'unavailable',
          `${NETWORK} ${server}: unexpected HTTP ${response.status} response`,
          failureUntil(),
        ),
        failureUntil(),
      )
    }
    return avatarOf(body, response.url, server)
  },
})

function avatarOf(account: Record<string, unknown>, lookupUrl: string, server: string): Resolution {
  const pick = (value: unknown): URL | undefined => {
    if (typeof value !== 'string' || value === '') return undefined
    try {
      return new URL(value, lookupUrl)
    } catch {
      return undefined
    }
  }
  const avatar = pick(account.avatar)
  const still = pick(account.avatar_static) ?? avatar
  if (!avatar || !still) throw new UpstreamError('unavailable', `${NETWORK} ${server}: account without avatar`)
  if (MISSING_AVATAR.test(still.pathname) || MISSING_AVATAR.test(avatar.pathname)) return { kind: 'none' }
  // The still first (an animated avatar's first frame is what a transformation keeps anyway);
  // Mastodon's file names change when the picture does, so the URL is a good change key.
  const resolution: Resolution = { kind: 'image', url: still.href, changeKey: still.href }
  if (avatar.href !== still.href) resolution.alternates = [avatar.href]
  return resolution
}
