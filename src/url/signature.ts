/**
 * Delivery URL signatures (docs/compatibility.md, Signatures): `s--<b64url(HASH(toSign + secret))[0:len]>--`.
 *
 * The SDK signs `<transformations>/<public id>[.<ext>]`: escaped, without version, host, cloud,
 * resource type, type or query. Because a server cannot always tell which of several SDK habits
 * produced a URL, the verifier tries a fixed list of candidate texts (candidateTexts) and accepts if any
 * matches. Each comparison is constant-time. A valid signature stops at the first candidate that
 * matches (which candidate is no secret: the client chose the URL); an invalid one is compared
 * against every candidate, so all failures cost the same and reveal nothing about the secret.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { LruCache } from '../lib/lru.ts'
import { ok, type Result } from '../result.ts'
import { badRequest } from './errors.ts'
import { locateDeliveryPath, parseDeliveryPath, stripQuery } from './parse.ts'
import { fullyUnescapeBytes } from './percent.ts'
import type { DeliveryError, Signature } from './types.ts'

export type SignatureAlgorithm = 'sha1' | 'sha256'

const SIGNATURE_VALUE = /^(?:[A-Za-z0-9_-]{8}|[A-Za-z0-9_-]{32})$/
const VERSION_SEGMENT = /^v\d+$/
const utf8 = new TextEncoder()

/** The SDK's truncated, url-safe base64 digest. */
function urlSafeDigest(toSign: Uint8Array, secret: Uint8Array, algorithm: SignatureAlgorithm, length: number): string {
  return createHash(algorithm)
    .update(toSign)
    .update(secret)
    .digest('base64')
    .slice(0, length)
    .replaceAll('/', '_')
    .replaceAll('+', '-')
}

/** Splits signed text around its first `v\d+` segment that is not the last one (the SDK's version, unsigned). */
function splitAtVersion(text: string): { transformation: string[]; version: string | undefined; id: string[] } {
  const segments = text.split('/')
  const last = segments.length - 1
  const versionIndex = segments.findIndex((s, i) => i < last && VERSION_SEGMENT.test(s))
  if (versionIndex < 0) return { transformation: segments.slice(0, last), version: undefined, id: segments.slice(last) }
  return {
    transformation: segments.slice(0, versionIndex),
    version: segments[versionIndex],
    id: segments.slice(versionIndex + 1),
  }
}

const joinPresent = (parts: Array<string | undefined>): string => parts.filter((p) => p !== undefined).join('/')

/** The text with the first non-final version segment removed: what the SDK signs. */
export function withoutVersionSegment(text: string): string {
  const { transformation, id } = splitAtVersion(text)
  return joinPresent([...transformation, ...id])
}

/**
 * The texts a genuine signature may cover, always six of them (duplicates included, so the work
 * is the same for every request):
 *  1–2. version removed (SDK `version` option, `v1` forcing) / as sent (a `v123/` written inside
 *       the public id is signed by the SDK);
 *  3–4. the same with `%20` in the transformation part turned back into spaces: the SDK signs
 *       `fl_attachment:my file` and only then escapes the space in the URL;
 *  5–6. the same fully unescaped (`%xx` repeatedly, `+` kept): what the Ruby SDK signs.
 */
function candidateTexts(signedText: string, split = splitAtVersion(signedText)): Uint8Array[] {
  const { transformation, version, id } = split
  const spaced = transformation.map((segment) => segment.replaceAll('%20', ' '))
  const texts = [
    joinPresent([...transformation, ...id]),
    joinPresent([...transformation, version, ...id]),
    joinPresent([...spaced, ...id]),
    joinPresent([...spaced, version, ...id]),
  ].map((text) => utf8.encode(text))
  const [withoutVersion, asSent] = texts
  return [
    ...texts,
    fullyUnescapeBytes(withoutVersion ?? new Uint8Array()),
    fullyUnescapeBytes(asSent ?? new Uint8Array()),
  ]
}

/**
 * Is `signature` a valid SDK signature of its signed text under `secret`? 32 characters →
 * SHA-256; 8 characters → SHA-1 or SHA-256 (`signature_algorithm: 'sha256'`). An empty secret
 * never verifies: anyone could compute those signatures.
 */
export function verifyDeliverySignature(
  signature: Signature,
  secret: string,
  options: { boundType?: string } = {},
): boolean {
  if (secret === '' || !SIGNATURE_VALUE.test(signature.value)) return false
  const split = splitAtVersion(signature.signedText)
  const verified = verifiedFor(secret)
  // Only matches of a candidate without the version are remembered, so the key leaves it out: every
  // `v<N>` spelling of one signed URL is then one entry.
  const key = `${options.boundType ?? ''}\0${signature.value}\0${joinPresent([...split.transformation, ...split.id])}`
  if (verified.get(key) === true) return true
  const length = signature.value.length
  const algorithms: SignatureAlgorithm[] = length === 32 ? ['sha256'] : ['sha1', 'sha256']
  const expected = Buffer.from(signature.value, 'ascii')
  const secretBytes = utf8.encode(secret)
  const candidates = candidateTexts(signature.signedText, split).map((text) => withBoundType(text, options.boundType))
  for (const algorithm of algorithms) {
    for (let i = 0; i < candidates.length; i++) {
      const actual = Buffer.from(urlSafeDigest(candidates[i]!, secretBytes, algorithm, length), 'ascii')
      if (timingSafeEqual(actual, expected)) {
        if (VERSIONLESS_CANDIDATES.has(i)) verified.set(key, true)
        return true // both exactly `length` ASCII bytes
      }
    }
  }
  return false
}

/** Indexes in candidateTexts of the texts that do not contain the version segment. */
const VERSIONLESS_CANDIDATES: ReadonlySet<number> = new Set([0, 2, 4])

/**
 * Signatures already found valid, per secret (bounded): a warm hit verifies the same signed URL
 * again and again, often with a new `v<N>` each time. Only valid ones are kept, so an invalid
 * signature still costs every comparison; a remembered one answers what its first check answered.
 */
const VERIFIED_ENTRIES = 4096
const verifiedBySecret = new Map<string, LruCache<true>>()

function verifiedFor(secret: string): LruCache<true> {
  let verified = verifiedBySecret.get(secret)
  if (verified === undefined) {
    if (verifiedBySecret.size >= 4) verifiedBySecret.clear() // a secret rotated (or tests): start over
    verified = new LruCache<true>(VERIFIED_ENTRIES)
    verifiedBySecret.set(secret, verified)
  }
  return verified
}

/**
 * HEADSHOT_SIGN_TYPE: the delivery type is part of the signed text (`<type>/` before the SDK's
 * text), so a signature made for one network cannot be replayed on another. The SDKs do not sign
 * that way, which is why it is opt-in.
 */
function withBoundType(text: Uint8Array, type: string | undefined): Uint8Array {
  if (type === undefined) return text
  const prefix = utf8.encode(`${type}/`)
  const bound = new Uint8Array(prefix.length + text.length)
  bound.set(prefix)
  bound.set(text, prefix.length)
  return bound
}

export interface SignOptions {
  /** Bind the signature to the delivery type (HEADSHOT_SIGN_TYPE). */
  bindType?: boolean
  /** Hash for 8-character signatures (default sha1, like the SDK). */
  algorithm?: SignatureAlgorithm
  /** 32-character SHA-256 signature (`long_url_signature`). */
  long?: boolean
}

/**
 * Signs a delivery path the way the SDK would (for `headshot sign <url-path>`): any existing
 * `s--…--` segment is replaced, the new one goes right after the type, and the version segment is
 * left out of the signed text. The path may carry a cloud prefix and a query (kept as given).
 * The result is parsed again, so only URLs the server would accept are signed.
 */
export function signDeliveryPath(
  rawPath: string,
  secret: string,
  options: SignOptions = {},
): Result<string, DeliveryError> {
  if (secret === '') return badRequest('Missing API secret')
  if (options.long === true && options.algorithm === 'sha1') return badRequest('Long signatures use sha256')
  const path = stripQuery(rawPath)
  const suffix = rawPath.slice(path.length)
  const located = locateDeliveryPath(path)
  if (!located.ok) return located
  const { segments, afterType, cloud, type } = located.value

  let restIndex = afterType
  const first = segments[afterType]
  if (first?.text.startsWith('s--') && afterType < segments.length - 1) restIndex++ // old signature
  const restSegment = segments[restIndex]
  const typeEnd = first?.start
  if (restSegment === undefined || typeEnd === undefined) return badRequest('Missing public ID')
  const rest = path.slice(restSegment.start)

  const long = options.long === true
  const algorithm = long ? 'sha256' : (options.algorithm ?? 'sha1')
  const toSign = withBoundType(utf8.encode(withoutVersionSegment(rest)), options.bindType ? type : undefined)
  const digest = urlSafeDigest(toSign, utf8.encode(secret), algorithm, long ? 32 : 8)
  const signed = `${path.slice(0, typeEnd)}s--${digest}--/${rest}${suffix}`

  const check = parseDeliveryPath(signed, { cloudName: cloud ?? '' })
  return check.ok ? ok(signed) : check
}
