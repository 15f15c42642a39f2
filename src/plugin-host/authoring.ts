/**
 * `headshot plugin init <name>`: a starter drop-in plugin for a JSON API, and `headshot-plugin.d.ts`,
 * the host API and plugin types for authors. Both are template strings so they are embedded in the
 * compiled binary. The declaration is self-contained (no TypeBox, no bun-types, no DOM lib) and
 * mirrors ./types.ts, ./host-api.ts and ../fetch/types.ts; test/plugin-host/authoring.test.ts
 * type-checks the starter against it and the real host API against it, so they cannot drift apart.
 */

const TYPE_PATTERN = /^[a-z0-9_]+$/

/** The `.d.ts` an author keeps beside their plugin file. */
export function pluginDeclaration(version: string): string {
  return `// headshot-plugin.d.ts: the host API a drop-in plugin receives (headshot ${version}).
// Written by \`headshot plugin init\`; regenerate it with the headshot version you run.
// A plugin file: \`import type { PluginHost } from './headshot-plugin'\` and
// \`export default (host: PluginHost) => host.definePlugin({...})\` (or an array of plugins).

// ---- Schemas: the part of TypeBox that \`host.Type\` offers, enough to declare settings ----------

export interface SchemaOptions {
  description?: string
  default?: unknown
  /** Environment variable the setting is read from, e.g. 'HEADSHOT_MYNET_URL'. */
  env?: string
  /** A base URL: an explicitly configured value is trusted even on a private or loopback address. */
  baseUrl?: boolean
  [option: string]: unknown
}
export interface TSchema {
  static: unknown
}
export interface TString extends TSchema {
  static: string
}
export interface TNumber extends TSchema {
  static: number
}
export interface TInteger extends TSchema {
  static: number
}
export interface TBoolean extends TSchema {
  static: boolean
}
export interface TLiteral<V extends string | number | boolean> extends TSchema {
  static: V
}
export interface TArray<S extends TSchema> extends TSchema {
  static: Array<S['static']>
}
export interface TUnion<S extends TSchema[]> extends TSchema {
  static: S[number]['static']
}
export type TOptional<S extends TSchema> = S & { readonly '~optional': true }
export type TProperties = Record<string, TSchema>
type OptionalKeys<P extends TProperties> = {
  [K in keyof P]: P[K] extends { readonly '~optional': true } ? K : never
}[keyof P]
type Flatten<T> = { [K in keyof T]: T[K] } & {}
export interface TObject<P extends TProperties = TProperties> extends TSchema {
  properties: P
  static: Flatten<
    { [K in Exclude<keyof P, OptionalKeys<P>>]: P[K]['static'] } & { [K in OptionalKeys<P>]?: P[K]['static'] }
  >
}
export type Static<S extends TSchema> = S['static']

export interface TypeBuilder {
  Object<P extends TProperties>(properties: P, options?: SchemaOptions): TObject<P>
  String(options?: SchemaOptions): TString
  Number(options?: SchemaOptions): TNumber
  Integer(options?: SchemaOptions): TInteger
  Boolean(options?: SchemaOptions): TBoolean
  Literal<V extends string | number | boolean>(value: V, options?: SchemaOptions): TLiteral<V>
  Array<S extends TSchema>(items: S, options?: SchemaOptions): TArray<S>
  Union<S extends TSchema[]>(schemas: [...S], options?: SchemaOptions): TUnion<S>
  Optional<S extends TSchema>(schema: S): TOptional<S>
}

// ---- Results and errors ----------------------------------------------------------------------

export type Ok<T> = { readonly ok: true; readonly value: T }
export type Err<E> = { readonly ok: false; readonly error: E }
export type Result<T, E = string> = Ok<T> | Err<E>

export type UpstreamErrorCode =
  | 'rate_limited' // 429 or the network's throttling code: 503 + Retry-After to clients
  | 'auth' // our credentials were refused: 502
  | 'unavailable' // 5xx, unexpected body, network failure: 502
  | 'timeout' // 504

/** Throw this from \`resolve\` when the upstream failed (anything else thrown is treated as 'unavailable'). */
export declare class UpstreamError extends Error {
  readonly code: UpstreamErrorCode
  /** When the upstream says we may retry (ms since epoch). */
  readonly retryAt?: number
  constructor(code: UpstreamErrorCode, message: string, retryAt?: number)
  retryAfterSeconds(now?: number): number
  /** The host's view (504 timeout, 503 + Retry-After when rate-limited, else 502). */
  toHttpError(): Error & { readonly status: number; readonly headers: Readonly<Record<string, string>> }
}

export type FetchErrorCode =
  | 'blocked'
  | 'bad_url'
  | 'timeout'
  | 'too_large'
  | 'too_many_pixels'
  | 'bad_image'
  | 'too_many_redirects'
  | 'http_status'
  | 'network'

/** What \`ctx.http\` throws: network, limit and SSRF failures, and \`getImage\` on a non-2xx (code 'http_status'). */
export declare class FetchError extends Error {
  readonly code: FetchErrorCode
  readonly status?: number
  constructor(code: FetchErrorCode, message: string, status?: number)
}

// ---- The HTTP client (SSRF-safe; reaches your declared hosts and configured base URLs) -------

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'HEAD'
  headers?: Record<string, string>
  body?: string
  followRedirects?: boolean
  timeoutMs?: number
}
export interface ResponseHeaders {
  get(name: string): string | null
  has(name: string): boolean
}
export interface HttpResponse {
  status: number
  headers: ResponseHeaders
  /** Final URL after redirects. */
  url: string
  body: Uint8Array
  text(): string
  json<T = unknown>(): T
}
export type ImageFormat = 'jpg' | 'png' | 'webp' | 'gif'
export interface FetchedImage {
  bytes: Uint8Array
  format: ImageFormat
  width: number
  height: number
  url: string
  etag?: string
  lastModified?: string
}
export interface HttpClient {
  /** Any request; throws FetchError on network/limit/SSRF failures, never for HTTP statuses. */
  request(url: string, options?: RequestOptions): Promise<HttpResponse>
  /** GET an image: 2xx, JPEG/PNG/GIF/WebP, pixel limit checked. */
  getImage(url: string, options?: RequestOptions): Promise<FetchedImage>
}

// ---- Plugins ---------------------------------------------------------------------------------

/** What a network says about an id. */
export type Resolution =
  | { kind: 'image'; url: string; alternates?: string[]; changeKey?: string; headers?: Record<string, string> }
  | { kind: 'fetched'; image: FetchedImage; changeKey?: string }
  | { kind: 'none' }
  | { kind: 'not_found' }

export interface PluginContext<S> {
  settings: S
  http: HttpClient
  now(): number
}

export type BatchAnswer = Resolution | UpstreamError

export interface BatchResolver<S> {
  max: number
  run(ids: string[], ctx: PluginContext<S>): Promise<Map<string, BatchAnswer>>
}

export interface Plugin<S extends TObject = TObject> {
  /** The delivery type in URLs: \`/image/<type>/…\`, matching [a-z0-9_]+. */
  type: string
  /** Settings: \`host.Type.Object({...})\`, each property with \`env\` (and \`baseUrl: true\` for base URLs). */
  settings: S
  /** Host names (exact, or \`*.suffix\`) the plugin may download from besides its base URLs. */
  hosts: readonly string[]
  /** Also reach any other host whose every address is public (federated networks; the SSRF guard still applies). */
  anyPublicHost?: boolean
  /** URLs of this type need a signature when HEADSHOT_RESTRICTED_TYPES is not set. */
  restrictedByDefault?: boolean
  id: { syntax: string; example: string }
  parseId(raw: string): Result<string>
  resolve(id: string, ctx: PluginContext<Static<S>>): Promise<Resolution>
  resolveMany?: BatchResolver<Static<S>>
}

// ---- The host API: the factory's argument ----------------------------------------------------

export interface PluginHost {
  definePlugin<S extends TObject>(plugin: Plugin<S>): Plugin<S>
  ok<T>(value: T): Ok<T>
  err<E>(error: E): Err<E>
  UpstreamError: typeof UpstreamError
  FetchError: typeof FetchError
  Type: TypeBuilder
  /** Whatever \`ctx.http\` threw, as an UpstreamError (timeouts stay timeouts). */
  toUpstreamError(error: unknown, network: string): UpstreamError
  /** The body as JSON, or undefined when it is not JSON. */
  jsonBody(response: HttpResponse): unknown
  /** A plain object (not null, not an array). */
  isRecord(value: unknown): value is Record<string, unknown>
}

/** What a plugin file default-exports. */
export type PluginFactory = (host: PluginHost) => Plugin<any> | Plugin<any>[]
`
}

/** A starter plugin for a JSON API: `GET <base>/users/<id>` → `{ "picture": { "url": "…" } | null }`. */
export function starterPlugin(name: string): string {
  const NAME = name.toUpperCase()
  return `/**
 * ${name}: a headshot drop-in plugin (written by \`headshot plugin init ${name}\`).
 * Serves /image/${name}/<transformations>/<user>.jpg from a JSON API:
 *   GET <HEADSHOT_${NAME}_URL>/users/<user>  →  200 { "picture": { "url": "https://…" } }  (or "picture": null)
 *                                              404 (no such user), 429 (+ Retry-After) when throttled
 * Put this file in HEADSHOT_PLUGINS_DIR (default <data dir>/plugins); see \`headshot plugins\`.
 */
import type { PluginHost } from './headshot-plugin'

const NETWORK = '${name}'
const USER = /^[A-Za-z0-9_-]{1,64}$/

export default ({ definePlugin, ok, err, Type, UpstreamError, toUpstreamError, jsonBody, isRecord }: PluginHost) =>
  definePlugin({
    type: '${name}',
    settings: Type.Object({
      url: Type.String({
        env: 'HEADSHOT_${NAME}_URL',
        default: 'https://api.example.com',
        baseUrl: true,
        description: 'base URL of the API',
      }),
      token: Type.Optional(Type.String({ env: 'HEADSHOT_${NAME}_TOKEN', description: 'bearer token, if the API needs one' })),
    }),
    // Where the pictures live, besides the base URL (exact host names or *.suffix).
    hosts: ['*.example.com'],
    // true when every API call costs quota or money: then URLs of this type must be signed.
    restrictedByDefault: false,
    id: { syntax: 'user name: letters, digits, _ and -', example: 'jane_doe' },

    parseId(raw) {
      return USER.test(raw) ? ok(raw.toLowerCase()) : err('expected a user name: letters, digits, _ and - (at most 64)')
    },

    async resolve(user, { settings, http, now }) {
      const headers: Record<string, string> = { Accept: 'application/json' }
      if (settings.token) headers.Authorization = 'Bearer ' + settings.token
      const response = await http
        .request(settings.url + '/users/' + encodeURIComponent(user), { headers })
        .catch((error: unknown) => {
          throw toUpstreamError(error, NETWORK)
        })
      if (response.status === 404) return { kind: 'not_found' }
      if (response.status === 429) {
        const seconds = Number(response.headers.get('retry-after'))
        const retryAt = Number.isFinite(seconds) && seconds > 0 ? now() + seconds * 1000 : undefined
        throw new UpstreamError('rate_limited', NETWORK + ': HTTP 429', retryAt)
      }
      if (response.status === 401 || response.status === 403) {
        throw new UpstreamError('auth', NETWORK + ': HTTP ' + response.status)
      }
      if (response.status !== 200) throw new UpstreamError('unavailable', NETWORK + ': HTTP ' + response.status)

      const body = jsonBody(response)
      if (!isRecord(body)) throw new UpstreamError('unavailable', NETWORK + ': the answer is not a JSON object')
      if (body.picture === null || body.picture === undefined) return { kind: 'none' }
      if (!isRecord(body.picture) || typeof body.picture.url !== 'string') {
        throw new UpstreamError('unavailable', NETWORK + ': no picture.url in the answer')
      }
      return { kind: 'image', url: body.picture.url }
    },
  })
`
}

/** Why a name cannot be a plugin (its delivery type), or undefined. */
export function pluginNameProblem(name: string): string | undefined {
  return TYPE_PATTERN.test(name)
    ? undefined
    : `"${name}" must match ${TYPE_PATTERN.source} (it becomes the delivery type)`
}
