/**
 * The plugin interface, as a plugin author sees it. A network's file in `plugins/` imports this
 * module, TypeBox, and the helpers beside it (`upstream.ts` for errors and JSON, `x-api.ts` for
 * X's endpoints); see plugins/gravatar/index.ts for the smallest complete example.
 */
import type { Static, TObject } from '@sinclair/typebox'
import type { FetchedImage, HttpClient } from '../fetch/types.ts'
import { HttpError, type MapsToHttpError } from '../lib/http-error.ts'
import { redactForClient } from '../lib/redact.ts'
import type { Result } from '../result.ts'

export type { Result } from '../result.ts'
export { ok, err } from '../result.ts'

/** What a network says about an id. */
export type Resolution =
  /**
   * Download this URL (host API: the SSRF-safe client). `alternates` are tried in order when it answers 404
   * (e.g. X's `_400x400` when the suffix-less original is gone). `changeKey` is a cheap "did it change?"
   * hint (e.g. X's content-addressed image URL): an unchanged key lets a refresh skip the download.
   */
  | { kind: 'image'; url: string; alternates?: string[]; changeKey?: string; headers?: Record<string, string> }
  /** The plugin downloaded the image itself (e.g. Gravatar, where the image request *is* the API call). */
  | { kind: 'fetched'; image: FetchedImage; changeKey?: string }
  /** The account exists but has no picture of its own (Facebook silhouette, X default image, Gravatar 404). */
  | { kind: 'none' }
  /** No such account / id. */
  | { kind: 'not_found' }

export interface PluginContext<S> {
  settings: S
  /** The SSRF-safe client. Hosts the plugin declared (and explicitly configured base URLs) are allowed. */
  http: HttpClient
  /** Current time in ms (injectable for tests). */
  now(): number
}

export interface Plugin<S extends TObject = TObject> {
  /** The delivery type in URLs: `/image/<type>/…`. Lower-case, `[a-z0-9_]+`. */
  type: string
  /**
   * Settings schema. Each property may carry `env: 'HEADSHOT_…'` (read from the environment) and
   * `baseUrl: true` (an explicitly configured value is trusted even on a private address).
   */
  settings: S
  /** Host names (exact, or `*.suffix`) the plugin may download from besides its base URLs. */
  hosts: readonly string[]
  /**
   * Also reach any other host whose every address is public (the SSRF guard still applies): for
   * federated networks whose server is named by the id or by a domain's owner (Mastodon's
   * `user@server`, Libravatar's DNS SRV records). Such hosts are never trusted the way an explicitly
   * configured base URL is.
   */
  anyPublicHost?: boolean
  /**
   * Whether URLs of this type need a signature when HEADSHOT_RESTRICTED_TYPES is not set: true for
   * networks whose API calls cost quota or money (an unsigned URL would let anyone spend it).
   */
  restrictedByDefault?: boolean
  /** How an id is written in a URL, for people (`headshot plugins`, the docs): syntax and an example. */
  id: { syntax: string; example: string }
  /** Validate and normalise the decoded public id (e.g. lower-case a hash). */
  parseId(raw: string): Result<string>
  /** Ask the network where the picture is. Throw UpstreamError for failures. */
  resolve(id: string, ctx: PluginContext<Static<S>>): Promise<Resolution>
  /**
   * Optional: many ids in one upstream call (e.g. X's `GET /2/users?ids=`), so the background
   * re-check spends one call per `max` pictures instead of one per picture.
   */
  resolveMany?: BatchResolver<Static<S>>
}

/** What a batch lookup says about one id: its resolution, or a failure that concerns that id only. */
export type BatchAnswer = Resolution | UpstreamError

export interface BatchResolver<S> {
  /** Most ids one call may carry (X: 100). */
  max: number
  /**
   * Look up 1..`max` ids (already through `parseId`) in one call. An id missing from the map is
   * not_found (APIs that silently leave unknown ids out); an UpstreamError value fails that id alone.
   * Throw UpstreamError when the whole call failed (rate limit, auth, outage).
   */
  run(ids: string[], ctx: PluginContext<S>): Promise<Map<string, BatchAnswer>>
}

export type UpstreamErrorCode =
  | 'rate_limited' // 429 or the network's throttling code; retryAt when known
  | 'auth' // our credentials were refused
  | 'unavailable' // 5xx, unexpected body, network failure
  | 'timeout'

export class UpstreamError extends Error implements MapsToHttpError {
  constructor(
    readonly code: UpstreamErrorCode,
    message: string,
    /** When the upstream says we may retry (ms since epoch), e.g. from `x-rate-limit-reset`. */
    readonly retryAt?: number,
  ) {
    super(message)
    this.name = 'UpstreamError'
  }

  /** Seconds a client should wait before asking again (rate limits), at least 1. */
  retryAfterSeconds(now: number = Date.now()): number {
    return this.retryAt ? Math.max(1, Math.ceil((this.retryAt - now) / 1000)) : 60
  }

  /** Delivery's view: 504 timeout, 503 + Retry-After when rate-limited (we hold no copy), else 502. */
  toHttpError(): HttpError {
    const detail = redactForClient(this.message)
    if (this.code === 'timeout') return new HttpError(504, `Upstream timeout: ${detail}`)
    if (this.code === 'rate_limited') {
      return new HttpError(503, `Upstream rate limit: ${detail}`, {
        'Retry-After': String(this.retryAfterSeconds()),
      })
    }
    return new HttpError(502, `Upstream error: ${detail}`)
  }
}

/** Identity helper that keeps the settings type flowing into `resolve`. */
export function definePlugin<S extends TObject>(plugin: Plugin<S>): Plugin<S> {
  return plugin
}
