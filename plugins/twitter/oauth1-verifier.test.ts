/**
 * The fake X API's OAuth verifier, checked on its own against the published vectors (it shares no
 * code with the plugin's signer, so a bug in one cannot hide a bug in the other).
 */
import { describe, expect, test } from 'bun:test'
import { parseOAuthHeader, receivedBaseString, verifyOAuth1 } from './oauth1-verifier.ts'
import { OAUTH1_VECTORS, type OAuth1Vector } from './oauth1-vectors.ts'

/** The header a client would send for this vector, written out by hand (no signer involved). */
function headerFor(vector: OAuth1Vector, signature = vector.signature): string {
  const quoted = (value: string) =>
    encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  const pairs = [
    ...(vector.realm === undefined ? [] : [`realm="${vector.realm}"`]),
    `oauth_consumer_key="${vector.consumerKey}"`,
    `oauth_token="${vector.token}"`,
    `oauth_signature_method="HMAC-SHA1"`,
    `oauth_timestamp="${vector.timestamp}"`,
    `oauth_nonce="${vector.nonce}"`,
    ...(vector.includeVersion ? ['oauth_version="1.0"'] : []),
    `oauth_signature="${quoted(signature)}"`,
  ]
  return `OAuth ${pairs.join(', ')}`
}

const secretsOf = (vector: OAuth1Vector) => ({
  consumerKey: vector.consumerKey,
  consumerSecret: vector.consumerSecret,
  token: vector.token,
  tokenSecret: vector.tokenSecret,
})

describe('fake X OAuth verifier: published vectors', () => {
  for (const vector of OAUTH1_VECTORS) {
    test(`accepts ${vector.name}`, () => {
      const request = {
        method: vector.method,
        url: vector.url,
        authorization: headerFor(vector),
        formBody: vector.formBody,
      }
      expect(verifyOAuth1(request, secretsOf(vector), vector.timestamp)).toEqual({ ok: true, nonce: vector.nonce })
      if (vector.baseString !== undefined) {
        expect(
          receivedBaseString(vector.method, vector.url, parseOAuthHeader(request.authorization)!, vector.formBody),
        ).toBe(vector.baseString)
      }
    })
  }

  test('the header form of the D1/D2 signatures decodes to the vector signatures', () => {
    for (const vector of OAUTH1_VECTORS.filter((candidate) => candidate.headerSignature !== undefined)) {
      const header = `OAuth oauth_signature="${vector.headerSignature}"`
      expect(parseOAuthHeader(header)!.get('oauth_signature')).toBe(vector.signature)
    }
  })
})

describe('fake X OAuth verifier: refusals', () => {
  const d1 = OAUTH1_VECTORS.find((vector) => vector.name.startsWith('D1'))!
  const good = { method: d1.method, url: d1.url, authorization: headerFor(d1) }

  test.each([
    [
      'a signature for another URL (loopback port instead of api.x.com)',
      { ...good, url: 'http://127.0.0.1:41234/2/users/2244994945?user.fields=profile_image_url' },
    ],
    [
      'a changed query',
      { ...good, url: 'https://api.x.com/2/users/2244994945?user.fields=profile_image_url,protected' },
    ],
    ['another method', { ...good, method: 'POST' }],
    ['a tampered signature', { ...good, authorization: headerFor(d1, 'AAAAY5MZZfSKfP75sjHCKR8dfpk=') }],
    ['a Bearer header', { ...good, authorization: 'Bearer abc' }],
    ['no header', { ...good, authorization: null }],
  ])('refuses %s', (_name, request) => {
    expect(verifyOAuth1(request, secretsOf(d1), d1.timestamp).ok).toBe(false)
  })

  test('refuses a wrong consumer secret or token secret', () => {
    expect(verifyOAuth1(good, { ...secretsOf(d1), consumerSecret: 'other' }, d1.timestamp).ok).toBe(false)
    expect(verifyOAuth1(good, { ...secretsOf(d1), tokenSecret: 'other' }, d1.timestamp).ok).toBe(false)
  })

  test('allows ±300 s of clock skew and no more', () => {
    expect(verifyOAuth1(good, secretsOf(d1), d1.timestamp + 300).ok).toBe(true)
    expect(verifyOAuth1(good, secretsOf(d1), d1.timestamp - 300).ok).toBe(true)
    expect(verifyOAuth1(good, secretsOf(d1), d1.timestamp + 301)).toEqual({
      ok: false,
      reason: 'timestamp out of window',
    })
  })
})
