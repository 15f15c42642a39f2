/**
 * OAuth 1.0a request signing, HMAC-SHA1 (RFC 5849 §3.4), for plugins whose upstream wants it
 * (X user-context auth). Exported for plugin authors.
 *
 * It signs exactly the URL it is given: scheme, host, port and path included, so a configured base
 * URL (a loopback fake, a proxy) gets a signature the receiver can rebuild. Never sign one URL and
 * send another.
 */
import { hmacBase64, randomBytes } from '../../src/plugin-host/upstream.ts'

export interface OAuth1Credentials {
  consumerKey: string
  consumerSecret: string
  /** The access token; absent for two-legged (consumer-only) requests. */
  token?: string
  tokenSecret?: string
}

export interface OAuth1Request {
  method: string
  /** The full URL as it will be sent, query included. */
  url: string
  /** `application/x-www-form-urlencoded` body parameters, which are signed too. */
  form?: URLSearchParams | Record<string, string>
}

export interface OAuth1Options {
  /** Fixed nonce (tests); default: 32 random bytes, base64, non-word characters stripped (as X does). */
  nonce?: string
  /** Fixed timestamp in unix seconds (tests, or an injected clock); default: now. */
  timestamp?: number
  /** `realm` goes into the header but is never signed (RFC 5849 §3.4.1.3.1). */
  realm?: string
  /** `oauth_version="1.0"` is optional in the RFC; X's examples send it. Default true. */
  includeVersion?: boolean
}

export interface OAuth1Signature {
  /** Base64 HMAC-SHA1, not yet percent-encoded. */
  signature: string
  baseString: string
  /** The `oauth_*` protocol parameters that were signed, plus `oauth_signature`. */
  oauthParameters: Record<string, string>
  /** The complete `Authorization` header value (`OAuth k="v", …`). */
  authorization: string
}

const UNRESERVED = /[A-Za-z0-9\-._~]/
const utf8 = new TextEncoder()

/**
 * RFC 3986 percent-encoding as OAuth needs it: every UTF-8 byte outside the unreserved set becomes
 * `%XX` with upper-case hex; a space is `%20`, never `+`.
 */
export function percentEncode(value: string): string {
  let encoded = ''
  for (const character of value) {
    if (UNRESERVED.test(character)) {
      encoded += character
      continue
    }
    for (const byte of utf8.encode(character)) {
      encoded += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
    }
  }
  return encoded
}

/** Scheme + host (+ non-default port) + path; lower-cased scheme and host, no query or fragment (§3.4.1.2). */
export function signatureBaseUrl(url: string): string {
  // WHATWG URL already lower-cases scheme and host and drops :80 for http / :443 for https.
  const parsed = new URL(url)
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`
}

/**
 * `METHOD&enc(base URL)&enc(normalised parameters)`. Parameters are the decoded name/value pairs
 * (query + form body + oauth_*, without oauth_signature and realm).
 */
export function signatureBaseString(
  method: string,
  url: string,
  parameters: ReadonlyArray<readonly [string, string]>,
): string {
  const encodedPairs = parameters.map(([name, value]) => [percentEncode(name), percentEncode(value)] as const)
  // Sort by encoded name, then encoded value, by code unit (all ASCII after encoding): not locale order.
  encodedPairs.sort(([nameA, valueA], [nameB, valueB]) =>
    nameA < nameB ? -1 : nameA > nameB ? 1 : valueA < valueB ? -1 : valueA > valueB ? 1 : 0,
  )
  const parameterString = encodedPairs.map(([name, value]) => `${name}=${value}`).join('&')
  return `${method.toUpperCase()}&${percentEncode(signatureBaseUrl(url))}&${percentEncode(parameterString)}`
}

/** A fresh nonce: 32 random bytes, base64, keeping only word characters (X's recipe). */
export function generateNonce(): string {
  return Buffer.from(randomBytes(32)).toString('base64').replace(/\W/g, '')
}

/** Sign one request. */
export function signOAuth1(
  request: OAuth1Request,
  credentials: OAuth1Credentials,
  options: OAuth1Options = {},
): OAuth1Signature {
  const oauthParameters: Record<string, string> = {
    oauth_consumer_key: credentials.consumerKey,
    oauth_nonce: options.nonce ?? generateNonce(),
    oauth_signature_method: 'HMAC-SHA1',
    oauth_timestamp: String(options.timestamp ?? Math.floor(Date.now() / 1000)),
  }
  if (credentials.token !== undefined) oauthParameters.oauth_token = credentials.token
  if (options.includeVersion ?? true) oauthParameters.oauth_version = '1.0'

  const parameters: Array<readonly [string, string]> = [...new URL(request.url).searchParams]
  const form = request.form instanceof URLSearchParams ? [...request.form] : Object.entries(request.form ?? {})
  parameters.push(...form, ...Object.entries(oauthParameters))

  const baseString = signatureBaseString(request.method, request.url, parameters)
  const signingKey = `${percentEncode(credentials.consumerSecret)}&${percentEncode(credentials.tokenSecret ?? '')}`
  const signature = hmacBase64('sha1', signingKey, baseString)
  oauthParameters.oauth_signature = signature

  const headerPairs = Object.entries(oauthParameters)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => `${percentEncode(name)}="${percentEncode(value)}"`)
  if (options.realm !== undefined) headerPairs.unshift(`realm="${options.realm.replace(/["\\]/g, '\\$&')}"`)

  return { signature, baseString, oauthParameters, authorization: `OAuth ${headerPairs.join(', ')}` }
}
