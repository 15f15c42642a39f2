/**
 * The receiving side of OAuth 1.0a HMAC-SHA1, as the fake X API runs it. Deliberately written
 * separately from plugins/twitter/oauth1.ts (shares no code with the signer): it rebuilds the base
 * string from what actually arrived (method, `scheme://host:port/path`, raw query, form body,
 * Authorization header), so a signer that signs a different URL than it sends is caught.
 * Checked against the published vectors of test/support/oauth1-vectors.ts in oauth1-verifier.test.ts.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export interface OAuth1Secrets {
  consumerKey: string
  consumerSecret: string
  token: string
  tokenSecret: string
}

export interface ReceivedRequest {
  method: string
  /** The full URL as received, e.g. `http://127.0.0.1:41234/2/users/12?user.fields=…`. */
  url: string
  authorization: string | null
  /** Raw `application/x-www-form-urlencoded` body, if any. */
  formBody?: string
}

export type VerifyResult = { ok: true; nonce: string } | { ok: false; reason: string }

/** RFC 3986 encoding via encodeURIComponent, plus the five characters it leaves alone. */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

/** Form/query decoding: `+` is a space, then percent-decoding. */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '))
}

function parseForm(text: string): Array<[string, string]> {
  if (text === '') return []
  return text
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const equals = part.indexOf('=')
      return equals < 0
        ? [formDecode(part), '']
        : [formDecode(part.slice(0, equals)), formDecode(part.slice(equals + 1))]
    })
}

/** `OAuth k="v", …` → decoded pairs, or undefined when it is not an OAuth header. */
export function parseOAuthHeader(header: string): Map<string, string> | undefined {
  const match = /^OAuth\s+(.*)$/is.exec(header.trim())
  if (!match) return undefined
  const pairs = new Map<string, string>()
  for (const item of match[1]!.matchAll(/([A-Za-z0-9_.~%-]+)\s*=\s*"([^"]*)"/g)) {
    pairs.set(decodeURIComponent(item[1]!), decodeURIComponent(item[2]!))
  }
  return pairs
}

/** The base string for a received request: `oauthParameters` are the header's, minus realm/signature. */
export function receivedBaseString(
  method: string,
  url: string,
  oauthParameters: ReadonlyMap<string, string>,
  formBody = '',
): string {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]+)([^?#]*)(?:\?([^#]*))?/.exec(url)
  if (!match) throw new Error(`cannot parse ${url}`)
  const scheme = match[1]!.toLowerCase()
  let authority = match[2]!.toLowerCase()
  if ((scheme === 'http' && authority.endsWith(':80')) || (scheme === 'https' && authority.endsWith(':443'))) {
    authority = authority.slice(0, authority.lastIndexOf(':'))
  }
  const path = match[3] === '' ? '/' : match[3]!

  const parameters: Array<[string, string]> = [...parseForm(match[4] ?? ''), ...parseForm(formBody)]
  for (const [name, value] of oauthParameters) {
    if (name !== 'realm' && name !== 'oauth_signature') parameters.push([name, value])
  }
  const normalised = parameters
    .map(([name, value]) => [rfc3986(name), rfc3986(value)] as const)
    .sort((a, b) => (a[0] !== b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&')
  return [method.toUpperCase(), rfc3986(`${scheme}://${authority}${path}`), rfc3986(normalised)].join('&')
}

/** Check signature, keys, method and timestamp window of one received request. */
export function verifyOAuth1(
  request: ReceivedRequest,
  secrets: OAuth1Secrets,
  nowSeconds: number,
  toleranceSeconds = 300,
): VerifyResult {
  const parameters = request.authorization === null ? undefined : parseOAuthHeader(request.authorization)
  if (!parameters) return { ok: false, reason: 'not an OAuth Authorization header' }
  const signature = parameters.get('oauth_signature')
  const nonce = parameters.get('oauth_nonce')
  const timestamp = Number(parameters.get('oauth_timestamp'))
  if (signature === undefined || nonce === undefined || !Number.isInteger(timestamp)) {
    return { ok: false, reason: 'missing oauth_signature, oauth_nonce or oauth_timestamp' }
  }
  if (parameters.get('oauth_signature_method') !== 'HMAC-SHA1')
    return { ok: false, reason: 'unsupported signature method' }
  const version = parameters.get('oauth_version')
  if (version !== undefined && version !== '1.0') return { ok: false, reason: 'unsupported oauth_version' }
  if (parameters.get('oauth_consumer_key') !== secrets.consumerKey) return { ok: false, reason: 'unknown consumer key' }
  if (parameters.get('oauth_token') !== secrets.token) return { ok: false, reason: 'unknown token' }
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return { ok: false, reason: 'timestamp out of window' }

  const baseString = receivedBaseString(request.method, request.url, parameters, request.formBody)
  const key = `${rfc3986(secrets.consumerSecret)}&${rfc3986(secrets.tokenSecret)}`
  const expected = createHmac('sha1', key).update(baseString).digest()
  const received = Buffer.from(signature, 'base64')
  if (received.length !== expected.length || !timingSafeEqual(received, expected)) {
    return { ok: false, reason: 'signature mismatch' }
  }
  return { ok: true, nonce }
}
