/**
 * Bluesky (AT Protocol) avatars by handle or DID: `/image/bluesky/…/alice.bsky.social.jpg`,
 * `/image/bluesky/…/did:plc:z72i7hdynmk6r22z27h6tvur.png`. One unauthenticated call to the public
 * AppView's `app.bsky.actor.getProfile`; its `avatar` is a CDN URL content-addressed by the blob's
 * CID, so the CID is the changeKey. plugins/bluesky/fake.ts reproduces the AppView and the CDN.
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

const NETWORK = 'Bluesky'

// https://atproto.com/specs/handle: ASCII labels of 1–63 `[a-z0-9-]`, no hyphen at either end,
// at least two labels, a TLD that does not start with a digit, 253 characters at most.
const HANDLE = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/
const MAX_HANDLE = 253
// TLDs the handle spec disallows: no account can have them, so asking would be a wasted call.
const DISALLOWED_TLDS = new Set(['alt', 'arpa', 'example', 'internal', 'invalid', 'local', 'localhost', 'onion'])
// did:plc identifiers are 24 characters of lower-case base32; did:web names a host (a port as `%3A`).
const DID_PLC = /^did:plc:[a-z2-7]{24}$/
const DID_WEB = /^did:web:([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?(%3a[0-9]{1,5})?$/
const MAX_DID = 2048

// XRPC error names that mean "no such account to show" (getProfile answers them with HTTP 400).
const GONE_ERRORS = new Set(['AccountDeactivated', 'AccountTakedown'])

/** `https://cdn.bsky.app/img/avatar/plain/<did>/<cid>@jpeg` → the CID (the blob's content hash). */
function cidOf(avatarUrl: string): string | undefined {
  try {
    const segments = new URL(avatarUrl).pathname.split('/')
    const last = segments[segments.length - 1] ?? ''
    const cid = last.replace(/@[a-z]+$/, '')
    return /^[a-z2-7]{20,}$/.test(cid) ? cid : undefined
  } catch {
    return undefined
  }
}

/**
 * When a 429 may be retried. Bluesky sends draft-polli `RateLimit-Reset` as a Unix time in seconds
 * (the draft itself says delta-seconds, so small values are read that way); `Retry-After` otherwise.
 */
export function rateLimitResetToEpochMs(response: HttpResponse, nowMs: number): number | undefined {
  const reset = response.headers.get('ratelimit-reset')?.trim()
  if (reset !== undefined && /^[0-9]{1,12}$/.test(reset)) {
    const value = Number(reset)
    return value > 1_000_000_000 ? value * 1000 : nowMs + value * 1000
  }
  return retryAfterToEpochMs(response.headers.get('retry-after'), nowMs)
}

function xrpcFailure(response: HttpResponse, body: unknown, nowMs: number): Resolution {
  const error = isRecord(body) && typeof body.error === 'string' ? body.error : undefined
  const message = isRecord(body) && typeof body.message === 'string' ? body.message : undefined
  const detail = `${NETWORK}: HTTP ${response.status}${error ? ` ${error}` : ''}${message ? `: ${message}` : ''}`

  if (response.status === 429 || error === 'RateLimitExceeded') {
    throw new UpstreamError('rate_limited', detail, rateLimitResetToEpochMs(response, nowMs))
  }
  if (response.status === 400 && error !== undefined) {
    if (GONE_ERRORS.has(error)) return { kind: 'not_found' }
    if (error === 'InvalidRequest' && /not found/i.test(message ?? '')) return { kind: 'not_found' }
  }
  throw new UpstreamError('unavailable', detail)
}

export default definePlugin({
  type: 'bluesky',
  settings: Type.Object({
    apiUrl: Type.String({ default: 'https://public.api.bsky.app', env: 'HEADSHOT_BLUESKY_API_URL', baseUrl: true }),
  }),
  // Avatars are served by Bluesky's image CDN.
  hosts: ['cdn.bsky.app'],
  // The public AppView is free and unauthenticated: no quota for unsigned URLs to spend.
  restrictedByDefault: false,
  id: {
    syntax: 'a Bluesky handle (domain name, case-insensitive) or a did:plc / did:web DID',
    example: 'bsky.app',
  },

  parseId(raw) {
    if (raw.startsWith('did:')) {
      if (raw.length > MAX_DID) return err('DID too long')
      if (DID_PLC.test(raw)) return ok(raw)
      // A did:web names a host, and host names are case-insensitive.
      const web = raw.toLowerCase()
      if (raw.startsWith('did:web:') && DID_WEB.test(web)) return ok(web)
      return err('expected a did:plc or did:web DID')
    }
    const handle = raw.toLowerCase()
    if (handle.length > MAX_HANDLE || !HANDLE.test(handle)) return err('expected a Bluesky handle or DID')
    if (DISALLOWED_TLDS.has(handle.slice(handle.lastIndexOf('.') + 1))) return err('expected a Bluesky handle or DID')
    return ok(handle)
  },

  async resolve(actor, { settings, http, now }) {
    const url = `${settings.apiUrl}/xrpc/app.bsky.actor.getProfile?${new URLSearchParams({ actor })}`
    const response = await apiRequest(http, NETWORK, url, { followRedirects: false })

    const body = jsonBody(response)
    if (response.status !== 200) return xrpcFailure(response, body, now())
    if (!isRecord(body) || typeof body.did !== 'string' || typeof body.handle !== 'string') {
      throw new UpstreamError('unavailable', `${NETWORK}: unexpected profile response`)
    }
    // No picture: the `avatar` key is simply absent.
    if (body.avatar === undefined || body.avatar === null) return { kind: 'none' }
    if (typeof body.avatar !== 'string' || !/^https?:\/\//.test(body.avatar)) {
      throw new UpstreamError('unavailable', `${NETWORK}: avatar is not a URL`)
    }
    // The CDN path ends in the blob's CID: a new picture is a new CID, so an unchanged one skips the download.
    return { kind: 'image', url: body.avatar, changeKey: cidOf(body.avatar) ?? body.avatar }
  },
})
