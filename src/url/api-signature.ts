/**
 * Upload/Admin API request signatures and the `signature` of explicit's answer (docs/compatibility.md,
 * Signatures, API requests).
 *
 * String to sign: drop null/undefined/"" values, join arrays with `,`, sort by key, write
 * `k=v`, (v2 only) escape `&` inside each pair as `%26`, join with `&`, append the secret, and
 * take the hex SHA-1 (default) or SHA-256.
 */
import { createHash, timingSafeEqual } from 'node:crypto'

export type ApiParamValue = string | number | boolean | null | undefined | ReadonlyArray<string | number>
export type ApiParams = Readonly<Record<string, ApiParamValue>>
export type ApiSignatureAlgorithm = 'sha1' | 'sha256'
/** 1 = original; 2 (default since cloudinary_npm ec4b65f) escapes `&` against parameter smuggling. */
export type ApiSignatureVersion = 1 | 2

/** Fields that are sent with a request but never signed (Cloudinary's authentication docs). */
export const UNSIGNED_API_FIELDS: ReadonlySet<string> = new Set([
  'file',
  'cloud_name',
  'resource_type',
  'api_key',
  'signature',
])

type KeyOrder = 'codepoint' | 'locale'

/**
 * The SDKs disagree on key order in corner cases: Node sorts with `localeCompare`, Python and
 * Ruby by code point. They agree for Cloudinary's own keys (lowercase and `_`).
 */
const compareKeys =
  (order: KeyOrder) =>
  (a: string, b: string): number =>
    order === 'locale' ? a.localeCompare(b) : a < b ? -1 : a > b ? 1 : 0

function stringToSign(params: ApiParams, version: ApiSignatureVersion, order: KeyOrder): string {
  const pairs: Array<[string, string]> = []
  for (const [key, raw] of Object.entries(params)) {
    if (raw === null || raw === undefined) continue
    const value = Array.isArray(raw) ? raw.join(',') : String(raw)
    if (value !== '') pairs.push([key, value])
  }
  pairs.sort(([a], [b]) => compareKeys(order)(a, b))
  return pairs
    .map(([key, value]) => (version >= 2 ? `${key}=${value}`.replaceAll('&', '%26') : `${key}=${value}`))
    .join('&')
}

/** The exact string the SDK hashes (before the secret is appended). */
export function apiStringToSign(params: ApiParams, version: ApiSignatureVersion = 2): string {
  return stringToSign(params, version, 'codepoint')
}

const hexDigest = (text: string, algorithm: ApiSignatureAlgorithm): string =>
  createHash(algorithm).update(text, 'utf8').digest('hex')

/** Signs API params as the SDK's `api_sign_request` does (all given params are signed). */
export function signApiParams(
  params: ApiParams,
  secret: string,
  algorithm: ApiSignatureAlgorithm = 'sha1',
  version: ApiSignatureVersion = 2,
): string {
  return hexDigest(apiStringToSign(params, version) + secret, algorithm)
}

const SHA1_HEX = /^[0-9a-f]{40}$/
const SHA256_HEX = /^[0-9a-f]{64}$/

export interface VerifyApiOptions {
  /**
   * Also accept v1 (unescaped `&`) signatures, as SDKs older than mid-2025 send (default true).
   * Note the trade-off: a captured v1-signed request whose value contains
   * `&` can be re-split into extra parameters (the smuggling v2 exists to stop). Turn this off
   * once all clients sign with v2.
   */
  acceptV1?: boolean
}

/**
 * Server-side check of a signed API request: recompute over every received field except
 * `file, cloud_name, resource_type, api_key, signature`; 40 hex digits → SHA-1, 64 → SHA-256;
 * v2 (or v1) encoding; either key order. All variants are always computed and compared in
 * constant time. An empty secret never verifies. (The `timestamp` freshness rule, ±1 h, needs a
 * clock and belongs to the API layer.)
 */
export function verifyApiSignature(
  params: ApiParams,
  signature: string,
  secret: string,
  options: VerifyApiOptions = {},
): boolean {
  const given = signature.toLowerCase()
  const algorithm: ApiSignatureAlgorithm | undefined = SHA1_HEX.test(given)
    ? 'sha1'
    : SHA256_HEX.test(given)
      ? 'sha256'
      : undefined
  if (secret === '' || algorithm === undefined) return false
  const signed: Record<string, ApiParamValue> = {}
  for (const [key, value] of Object.entries(params)) if (!UNSIGNED_API_FIELDS.has(key)) signed[key] = value

  const expected = Buffer.from(given, 'ascii')
  let matched = false
  const acceptV1 = options.acceptV1 ?? true
  for (const version of [2, 1] as const) {
    for (const order of ['codepoint', 'locale'] as const) {
      const actual = Buffer.from(hexDigest(stringToSign(signed, version, order) + secret, algorithm), 'ascii')
      const equal = timingSafeEqual(actual, expected) // same algorithm → same length
      matched = (equal && (version === 2 || acceptV1)) || matched
    }
  }
  return matched
}

/**
 * `signature` field of upload/explicit responses: hex SHA-1 of
 * `public_id=<id>&version=<version>` + secret, v1 encoding (what `verify_api_response_signature` checks).
 */
export function responseSignature(publicId: string, version: number | string, secret: string): string {
  return hexDigest(apiStringToSign({ public_id: publicId, version }, 1) + secret, 'sha1')
}
