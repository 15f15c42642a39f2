import { describe, expect, test } from 'bun:test'
import { generateNonce, percentEncode, signatureBaseString, signatureBaseUrl, signOAuth1 } from './oauth1.ts'
import { OAUTH1_VECTORS, type OAuth1Vector } from './oauth1-vectors.ts'

function sign(vector: OAuth1Vector, url = vector.url) {
  return signOAuth1(
    {
      method: vector.method,
      url,
      form: vector.formBody === undefined ? undefined : new URLSearchParams(vector.formBody),
    },
    {
      consumerKey: vector.consumerKey,
      consumerSecret: vector.consumerSecret,
      token: vector.token,
      tokenSecret: vector.tokenSecret,
    },
    { nonce: vector.nonce, timestamp: vector.timestamp, includeVersion: vector.includeVersion, realm: vector.realm },
  )
}

describe('OAuth 1.0a signer: published vectors', () => {
  for (const vector of OAUTH1_VECTORS) {
    test(`${vector.name} → ${vector.signature}`, () => {
      const signed = sign(vector)
      expect(signed.signature).toBe(vector.signature)
      if (vector.baseString !== undefined) expect(signed.baseString).toBe(vector.baseString)
      expect(signed.authorization).toContain(`oauth_signature="${percentEncode(vector.signature)}"`)
      if (vector.headerSignature !== undefined)
        expect(signed.authorization).toContain(`oauth_signature="${vector.headerSignature}"`)
    })
  }

  test('vector A signature bytes are the ones X documents', () => {
    const signature = sign(OAUTH1_VECTORS[0]!).signature
    expect(Buffer.from(signature, 'base64').toString('hex').toUpperCase()).toBe(
      '2ECF778498996D0DDA905DC7177C75073F3FCD4E',
    )
  })
})

describe('OAuth 1.0a signer: encoding and base string', () => {
  test.each([
    ['Ladies + Gentlemen', 'Ladies%20%2B%20Gentlemen'],
    ['Dogs, Cats & Mice', 'Dogs%2C%20Cats%20%26%20Mice'],
    ['☃', '%E2%98%83'],
    ["unreserved -._~ stay, !*'() do not", 'unreserved%20-._~%20stay%2C%20%21%2A%27%28%29%20do%20not'],
  ])('percentEncode(%p) = %p', (input, encoded) => {
    expect(percentEncode(input)).toBe(encoded)
  })

  test('the base URL keeps a non-default port and drops default ones, lower-cases scheme and host', () => {
    expect(signatureBaseUrl('http://127.0.0.1:41234/2/users/12?user.fields=x')).toBe(
      'http://127.0.0.1:41234/2/users/12',
    )
    expect(signatureBaseUrl('HTTPS://API.X.COM:443/2/users')).toBe('https://api.x.com/2/users')
    expect(signatureBaseUrl('http://Example.com:80/Path')).toBe('http://example.com/Path')
  })

  test('parameters sort by encoded name, then by encoded value (byte order, duplicates kept)', () => {
    const base = signatureBaseString('get', 'https://h.example/p', [
      ['b', '2'],
      ['a', 'z'],
      ['a', 'Z'],
      ['A', '1'],
    ])
    expect(base).toBe(`GET&https%3A%2F%2Fh.example%2Fp&${percentEncode('A=1&a=Z&a=z&b=2')}`)
  })

  test('a loopback base URL with a port is signed as sent, so it differs from the same path on api.x.com', () => {
    const d1 = OAUTH1_VECTORS.find((vector) => vector.name.startsWith('D1'))!
    const loopback = sign(d1, 'http://127.0.0.1:41234/2/users/2244994945?user.fields=profile_image_url')
    expect(loopback.baseString.startsWith('GET&http%3A%2F%2F127.0.0.1%3A41234%2F2%2Fusers%2F2244994945&')).toBe(true)
    expect(loopback.signature).not.toBe(d1.signature)
    // The explicit default port is the same URL as far as the signature goes.
    expect(sign(d1, 'https://api.x.com:443/2/users/2244994945?user.fields=profile_image_url').signature).toBe(
      d1.signature,
    )
  })
})

describe('OAuth 1.0a signer: the Authorization header', () => {
  const credentials = { consumerKey: 'ck', consumerSecret: 'cs', token: 'tk', tokenSecret: 'ts' }

  test('carries the seven protocol parameters, quoted and encoded', () => {
    const { authorization } = signOAuth1({ method: 'GET', url: 'https://api.x.com/2/users/1' }, credentials, {
      nonce: 'n0nce',
      timestamp: 1700000000,
    })
    expect(authorization.startsWith('OAuth ')).toBe(true)
    const names = [...authorization.matchAll(/(\w+)="[^"]*"/g)].map((match) => match[1]).sort()
    expect(names).toEqual([
      'oauth_consumer_key',
      'oauth_nonce',
      'oauth_signature',
      'oauth_signature_method',
      'oauth_timestamp',
      'oauth_token',
      'oauth_version',
    ])
    expect(authorization).toContain('oauth_signature_method="HMAC-SHA1"')
    expect(authorization).toContain('oauth_timestamp="1700000000"')
    expect(authorization).toContain('oauth_version="1.0"')
  })

  test('a realm goes into the header but not into the signature', () => {
    const request = { method: 'GET', url: 'https://api.x.com/2/users/1' }
    const plain = signOAuth1(request, credentials, { nonce: 'n', timestamp: 1 })
    const withRealm = signOAuth1(request, credentials, { nonce: 'n', timestamp: 1, realm: 'Photos' })
    expect(withRealm.signature).toBe(plain.signature)
    expect(withRealm.authorization.startsWith('OAuth realm="Photos", ')).toBe(true)
  })

  test('without an injected nonce/timestamp, each request gets a fresh random nonce and the current time', () => {
    const request = { method: 'GET', url: 'https://api.x.com/2/users/1' }
    const first = signOAuth1(request, credentials).oauthParameters
    const second = signOAuth1(request, credentials).oauthParameters
    expect(first.oauth_nonce).not.toBe(second.oauth_nonce)
    expect(first.oauth_nonce).toMatch(/^\w{32,}$/)
    expect(Math.abs(Number(first.oauth_timestamp) - Date.now() / 1000)).toBeLessThan(5)
  })

  test('generateNonce: 32 random bytes worth of word characters', () => {
    const nonces = new Set(Array.from({ length: 50 }, generateNonce))
    expect(nonces.size).toBe(50)
    for (const nonce of nonces) expect(nonce).toMatch(/^\w{30,43}$/)
  })
})
