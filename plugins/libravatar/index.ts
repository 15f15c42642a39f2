/**
 * Libravatar by email hash, federated: `/image/libravatar/…/<md5|sha256>[@<domain>].jpg`.
 *
 * Libravatar is Gravatar-compatible (`BASE/avatar/<hash>?s=…&d=404`), but a domain may run its own
 * avatar server, announced in DNS SRV (`_avatars-sec._tcp.<domain>` for HTTPS, then
 * `_avatars._tcp.<domain>` for HTTP). A hash hides the email's domain, so the id may carry it:
 *   - `<hash>`           → the central service (HEADSHOT_LIBRAVATAR_URL, https://seccdn.libravatar.org);
 *   - `<hash>@<domain>`  → the domain's own server when its SRV record names one, else the central service
 *                          (no record, an SRV answer slower than a short timeout, or a DNS failure).
 * The SRV target is chosen by whoever controls the domain, so it is fetched through the SSRF guard
 * (`anyPublicHost`: every address must be public); a private target is refused (unavailable), never
 * swapped for the central service's picture. One image request per picture, plus up to two SRV queries
 * for a federated id.
 */
import { Resolver } from 'node:dns/promises'
import { Type } from '@sinclair/typebox'
import {
  definePlugin,
  err,
  ok,
  type PluginContext,
  type Resolution,
  UpstreamError,
} from '../../src/plugin-host/types.ts'
import { FetchError, toUpstreamError } from '../../src/plugin-host/upstream.ts'

const NETWORK = 'Libravatar'
const HASH = /^(?:[0-9a-f]{32}|[0-9a-f]{64})$/
// Libravatar accepts `/avatar/<hash>.jpg` like Gravatar; the extension asks for a format, it is not the id.
const EXTENSION = /\.(?:jpe?g|png)$/i
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
/** Largest size Libravatar serves (`s` is 1..512). */
export const MAX_SIZE = 512
/** How long federated discovery (both SRV queries) may take before the central service is used. */
export const DEFAULT_SRV_TIMEOUT_MS = 2_000

/** One DNS SRV answer, as node:dns `resolveSrv` gives it. */
export interface SrvRecord {
  name: string
  port: number
  priority: number
  weight: number
}

export type SrvLookup = (name: string) => Promise<SrvRecord[]>

export interface LibravatarOptions {
  /** DNS SRV lookups (tests inject answers). Default: the system resolver, one try of 1 s per query. */
  resolveSrv?: SrvLookup
  /** Budget for both SRV queries together; past it the central service is used. */
  srvTimeoutMs?: number
  /** For the weighted choice among SRV records of equal priority (RFC 2782). Default Math.random. */
  random?: () => number
}

/** A lower-case ASCII host name of two or more labels whose last label is not numeric (no IP literals). */
export function normaliseDomain(text: string): string | undefined {
  const domain = text.toLowerCase().replace(/\.$/, '')
  const labels = domain.split('.')
  if (domain.length > 253 || labels.length < 2 || !labels.every((label) => LABEL.test(label))) return undefined
  return /^[0-9]+$/.test(labels.at(-1)!) ? undefined : domain
}

/** `<hash>` or `<hash>@<domain>`, normalised (lower case, no trailing dot), or an error message. */
export function parseLibravatarId(raw: string): string | undefined {
  const at = raw.indexOf('@')
  if (at < 0) {
    const hash = raw.replace(EXTENSION, '').toLowerCase()
    return HASH.test(hash) ? hash : undefined
  }
  const hash = raw.slice(0, at).toLowerCase()
  const domain = normaliseDomain(raw.slice(at + 1))
  return HASH.test(hash) && domain !== undefined ? `${hash}@${domain}` : undefined
}

/** RFC 2782: the lowest priority wins; among equals, a weighted random pick (weight 0 still possible). */
export function pickSrv(records: readonly SrvRecord[], random: () => number): SrvRecord | undefined {
  if (records.length === 0) return undefined
  const best = Math.min(...records.map((r) => r.priority))
  const candidates = records.filter((r) => r.priority === best)
  const total = candidates.reduce((sum, r) => sum + r.weight, 0)
  if (total === 0) return candidates[Math.floor(random() * candidates.length)] ?? candidates[0]
  let left = random() * total
  for (const record of candidates) {
    left -= record.weight
    if (left < 0) return record
  }
  return candidates.at(-1)
}

/**
 * The base URL an SRV record names: `_avatars-sec` is HTTPS; `_avatars` is HTTP, except on port 443
 * (as Libravatar's own sample client does). Undefined for "." (no service) or a malformed target.
 */
export function srvBaseUrl(record: SrvRecord, secure: boolean): string | undefined {
  const host = normaliseDomain(record.name)
  if (host === undefined || !Number.isInteger(record.port) || record.port < 1 || record.port > 65535) return undefined
  const https = secure || record.port === 443
  const defaultPort = https ? 443 : 80
  return `${https ? 'https' : 'http'}://${host}${record.port === defaultPort ? '' : `:${record.port}`}`
}

function systemSrvLookup(): SrvLookup {
  const resolver = new Resolver({ timeout: 1_000, tries: 1 })
  return (name) => resolver.resolveSrv(name)
}

export function createLibravatarPlugin(options: LibravatarOptions = {}) {
  const resolveSrv = options.resolveSrv ?? systemSrvLookup()
  const srvTimeoutMs = options.srvTimeoutMs ?? DEFAULT_SRV_TIMEOUT_MS
  const random = options.random ?? Math.random

  /** Both SRV services in order; any DNS failure (no record, SERVFAIL) just moves on. */
  async function lookUp(domain: string): Promise<string | undefined> {
    for (const [service, secure] of [
      ['_avatars-sec._tcp', true],
      ['_avatars._tcp', false],
    ] as const) {
      let records: SrvRecord[]
      try {
        records = await resolveSrv(`${service}.${domain}`)
      } catch {
        continue
      }
      const record = pickSrv(records, random)
      const base = record && srvBaseUrl(record, secure)
      if (base !== undefined) return base
    }
    return undefined
  }

  /** The domain's own avatar server, or undefined (use the central service). */
  async function discover(domain: string): Promise<string | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), srvTimeoutMs)
    })
    try {
      return await Promise.race([lookUp(domain).catch(() => undefined), timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  async function fetchAvatar(base: string, hash: string, http: PluginContext<unknown>['http']): Promise<Resolution> {
    // d=404 turns "no avatar" into a 404 instead of Libravatar's nobody.png (or a redirect to Gravatar's).
    const url = `${base}/avatar/${hash}?s=${MAX_SIZE}&d=404`
    try {
      return { kind: 'fetched', image: await http.getImage(url) }
    } catch (error) {
      if (error instanceof FetchError && error.code === 'http_status') {
        if (error.status === 404) return { kind: 'none' }
        // getImage's error carries no headers, so a Retry-After cannot reach us: the default back-off applies.
        if (error.status === 429) throw new UpstreamError('rate_limited', `${NETWORK}: HTTP 429 from ${base}`)
        throw new UpstreamError('unavailable', `${NETWORK}: HTTP ${error.status} from ${base}`)
      }
      throw toUpstreamError(error, `${NETWORK} (${base})`)
    }
  }

  return definePlugin({
    type: 'libravatar',
    settings: Type.Object({
      url: Type.String({ default: 'https://seccdn.libravatar.org', env: 'HEADSHOT_LIBRAVATAR_URL', baseUrl: true }),
    }),
    // The central service; federated servers are whatever a domain's SRV record names (public addresses only).
    hosts: ['libravatar.org', '*.libravatar.org'],
    anyPublicHost: true,
    id: {
      syntax:
        'md5 or sha256 (hex) of the trimmed, lower-cased email address; optionally @ and the email domain ' +
        "(ASCII, punycode for IDNs) to ask that domain's own avatar server (DNS SRV) before the central service",
      example: '40f8d096a3777232204cb3f796c577b7@example.com',
    },

    parseId(raw) {
      const id = parseLibravatarId(raw)
      return id === undefined ? err('expected an MD5 or SHA-256 hex hash, optionally followed by @domain') : ok(id)
    },

    async resolve(id, { settings, http }) {
      const [hash = '', domain] = id.split('@')
      const server = domain === undefined ? undefined : await discover(domain)
      return fetchAvatar(server ?? settings.url, hash, http)
    },
  })
}

export default createLibravatarPlugin()
