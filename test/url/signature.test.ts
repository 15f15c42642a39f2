/**
 * Delivery signatures against URLs made by the SDKs and vectors from their test suites, the
 * signature-injection attack, and `signDeliveryPath`. (URLs generated live by the SDK are in
 * signature.sdk.test.ts.)
 */
import { describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { parseDeliveryPath } from '../../src/url/parse.ts'
import { signDeliveryPath, verifyDeliverySignature } from '../../src/url/signature.ts'
import type { Signature } from '../../src/url/types.ts'
import { expectError, unwrap } from '../support/url.ts'

const HOST = 'https://res.cloudinary.com'

/** The signature of a full SDK URL, found by parsing it as our server would. */
function signatureOf(url: string, cloudName: string): Signature {
  const request = unwrap(parseDeliveryPath(url.slice(HOST.length), { cloudName }))
  if (request.signature === undefined) throw new Error(`no signature in ${url}`)
  return request.signature
}

/** Independent re-implementation of the SDK's signing (base64 digest, first N characters, url-safe). */
const sdkSignature = (toSign: string, secret: string, algorithm: 'sha1' | 'sha256' = 'sha1', length = 8): string =>
  createHash(algorithm)
    .update(toSign + secret)
    .digest('base64')
    .slice(0, length)
    .replaceAll('/', '_')
    .replaceAll('+', '-')

describe('URLs produced by the npm SDK 2.11.0', () => {
  const rows: Array<[number, string, string, string]> = [
    [1, 'abcd', 'demo', '/demo/image/facebook/s--f4dLnM-U--/65646572251'],
    [2, 'abcd', 'demo', '/demo/image/facebook/s--YSJERfiM--/c_fill,g_face,h_120,w_80/65646572251'],
    [3, 'abcd', 'demo', '/demo/image/facebook/s--lIIRldoe--/c_fill,g_face,h_120,w_80/65646572251.jpg'],
    [4, 'abcd', 'demo', '/demo/image/facebook/s--mwoqL1tz--/v1573726751/65646572251.png'],
    [
      5,
      'abcd',
      'demo',
      '/demo/image/twitter_name/s--2BaJaZeS--/c_thumb,g_face,h_200,r_max,w_200/e_grayscale/BillClinton.png',
    ],
    [
      6,
      'abcd',
      'demo',
      '/demo/image/gravatar/s--WTxehRGO--/c_fill,d_avatar.png,h_80,w_120/e3264cf16f34ecd3c7c564f5668cbc1e.jpg',
    ],
    [7, 'abcd', 'demo', '/demo/image/twitter/s--a4ty_yXz--/c_scale,f_auto,q_auto,w_100/5f5d3e2b'],
    [8, 'abcd', 'demo', '/demo/image/facebook/s--xbcygrb1--/t_avatar.round/65646572251'],
    [9, 'abcd', 'demo', '/demo/image/facebook/s--cya_MI6U--/65646572251'],
    [10, 'abcd', 'demo', '/demo/image/facebook/s--cya_MI6Ujk4NiASMUlu5606J9V6OgoVf--/65646572251'],
    [11, 'abcd', 'demo', '/demo/image/twitter_name/s--FoKQVIWA--/john%20doe'],
    [12, 'abcd', 'demo', '/demo/image/facebook/s--2BqwzHrw--/v1234/test'],
    [13, 'abcd', 'demo', '/demo/image/upload/s--xuFeHuyA--/c_scale,w_50/v1/folder/pic'],
    [
      14,
      's3cr3t-XyZ',
      'mycloud',
      '/mycloud/image/facebook/s--DcNn5ubs--/c_thumb,dpr_2,g_face,h_150,q_80,w_150,z_0.7/zuck',
    ],
    [
      15,
      's3cr3t-XyZ',
      'mycloud',
      '/mycloud/image/facebook/s--zWU33L9v--/c_thumb,d_avatars:default.png,g_face,h_100,w_100/65646572251',
    ],
  ]
  test.each(rows)('row %i parses and verifies with its secret only', (_row, secret, cloud, path) => {
    const signature = signatureOf(`${HOST}${path}?_a=BAMAROfk0`, cloud)
    expect(verifyDeliverySignature(signature, secret)).toBe(true)
    expect(verifyDeliverySignature(signature, `${secret}x`)).toBe(false)
  })

  test('rows 9 and 10: sha256 signatures share their prefix, and SHA-1 does not produce them', () => {
    const short = signatureOf(`${HOST}/demo/image/facebook/s--cya_MI6U--/65646572251`, 'demo')
    expect(sdkSignature('65646572251', 'abcd', 'sha1')).not.toBe(short.value)
    expect(sdkSignature('65646572251', 'abcd', 'sha256')).toBe(short.value)
  })
})

describe('escaping vectors: escaped (Node, Python) and fully unescaped (Ruby) forms (secret abcd, twitter_name)', () => {
  const verifies = (signedText: string, value: string): boolean =>
    verifyDeliverySignature({ value, signedText }, 'abcd')

  test('Node/Python sign the escaped text', () => {
    expect(verifies('a%20b', '7PAoWh9e')).toBe(true)
    expect(verifies('J%C3%BCrgen', '2PQYD2Lb')).toBe(true)
    expect(verifies("a(b)!*'", '-N-mzEOY')).toBe(true)
    expect(verifies('a%28b%29%21%2A%27', '0jB6Y1Ee')).toBe(true)
  })

  test('Ruby signs the fully unescaped text; the same request verifies with its signature too', () => {
    expect(verifies('a%20b', 'e5wUeO4V')).toBe(true)
    expect(verifies('J%C3%BCrgen', 'tX7P9aLL')).toBe(true)
  })

  test('full unescaping repeats until stable, and + stays +', () => {
    expect(verifies('a%2520b', 'e5wUeO4V')).toBe(true) // %2520 → %20 → ' '
    expect(verifyDeliverySignature({ value: sdkSignature('a+b', 'abcd'), signedText: 'a%2Bb' }, 'abcd')).toBe(true)
    expect(verifyDeliverySignature({ value: sdkSignature('a b', 'abcd'), signedText: 'a+b' }, 'abcd')).toBe(false)
  })
})

describe("vectors from the SDKs' own test suites (cloud test123, secret b)", () => {
  const rows: Array<[string, string, string]> = [
    ['Ai4Znfl3', 'c_crop,h_20,w_10/v1234/image.jpg', 'b'],
    ['Ai4Znfl3', 'c_crop,h_20,w_10/image.jpg', 'b'],
    ['--SjmNDA', 'v1234/image.jpg', 'b'],
    ['hH_YcbiS', 'v1234/http://google.com/path/to/image.png', 'b'],
    ['Uqk1a-5W', 'co_red,l_text:Times_70_bold:Cool%25F0%259F%2598%258D/image.jpg', 'b'],
    ['v2fTPYTu', 'sample.jpg', 'b'],
    ['2hbrSMPO', 'sample.jpg', 'b'],
    ['2hbrSMPOjj5BJ4xV7SgFbRDevFaQNUFf', 'sample.jpg', 'b'],
    ['j5Z1ILxd', 'l_text:Helvetica_50:test+text/some_public_id.jpg', 'AbcdEfghIjklmnopq1234567890'],
  ]
  test.each(rows)('s--%s-- over %s', (value, signedText, secret) => {
    expect(verifyDeliverySignature({ value, signedText }, secret)).toBe(true)
    expect(verifyDeliverySignature({ value, signedText }, 'a')).toBe(false)
  })

  test('the parser hands the verifier exactly that text', () => {
    const paths = [
      '/test123/image/upload/s--Ai4Znfl3--/c_crop,h_20,w_10/v1234/image.jpg',
      '/test123/image/authenticated/s--Ai4Znfl3--/c_crop,h_20,w_10/image.jpg',
      '/test123/image/upload/s----SjmNDA--/v1234/image.jpg',
      '/test123/image/fetch/s--hH_YcbiS--/v1234/http://google.com/path/to/image.png',
      '/test123/image/upload/s--v2fTPYTu--/sample.jpg',
      '/test123/image/upload/s--2hbrSMPOjj5BJ4xV7SgFbRDevFaQNUFf--/sample.jpg',
    ]
    for (const path of paths) {
      expect(verifyDeliverySignature(signatureOf(`${HOST}${path}`, 'test123'), 'b')).toBe(true)
    }
  })
})

describe('what a signature covers (like the SDK)', () => {
  const signedUrl = '/demo/image/upload/s--xuFeHuyA--/c_scale,w_50/v1/folder/pic'
  const verifiesPath = (path: string, cloud = 'demo'): boolean =>
    verifyDeliverySignature(
      unwrap(parseDeliveryPath(path, { cloudName: cloud })).signature ?? { value: '', signedText: '' },
      'abcd',
    )

  test('the version is not covered: it may change or go', () => {
    expect(verifiesPath(signedUrl)).toBe(true)
    expect(verifiesPath(signedUrl.replace('/v1/', '/v999/'))).toBe(true)
    expect(verifiesPath('/demo/image/facebook/s--mwoqL1tz--/65646572251.png')).toBe(true)
  })

  test('host, cloud, type and query are not covered', () => {
    expect(verifiesPath(signedUrl.replace('/upload/', '/private/'))).toBe(true)
    expect(verifiesPath(signedUrl.replace('/demo/', '/'))).toBe(true)
    expect(verifiesPath(`${signedUrl}?anything=1`)).toBe(true)
  })

  test('transformations, id and extension are covered', () => {
    expect(verifiesPath(signedUrl.replace('w_50', 'w_51'))).toBe(false)
    expect(verifiesPath(signedUrl.replace('c_scale,w_50', 'w_50,c_scale'))).toBe(false) // order is signed as sent
    expect(verifiesPath(signedUrl.replace('folder/pic', 'folder/pid'))).toBe(false)
    expect(verifiesPath(`${signedUrl}.png`)).toBe(false)
    expect(verifiesPath('/demo/image/facebook/s--mwoqL1tz--/v1573726751/65646572251.jpg')).toBe(false)
  })
})

describe('signature injection (thumbor e3ae3e25): the signed text is cut by position', () => {
  const secret = 'abcd'
  const signatureFor = (text: string): string => `s--${sdkSignature(text, secret)}--`
  const outcome = (path: string): string => {
    const request = parseDeliveryPath(path, { cloudName: 'demo' })
    if (!request.ok) return `rejected: ${request.error.message}`
    const { signature } = request.value
    if (signature === undefined) return 'unsigned'
    return verifyDeliverySignature(signature, secret) ? 'VALID' : 'invalid'
  }

  test('the genuine URL is valid', () => {
    expect(outcome(`/demo/image/facebook/${signatureFor('a/x')}/a/x`)).toBe('VALID')
  })

  test('a valid signature repeated later in the path does not vanish from the signed text', () => {
    const sig = signatureFor('a/x')
    // A replace-all stripper would turn each of these back into "a/x".
    expect(outcome(`/demo/image/facebook/${sig}/a/${sig}/x`)).toBe('invalid')
    expect(outcome(`/demo/image/facebook/${sig}/${sig}/a/x`)).toBe('invalid')
    expect(outcome(`/demo/image/facebook/${sig}/a/x/${sig}`)).toBe('invalid')
    expect(outcome(`/demo/image/facebook/${sig}/a${sig}/x`)).toBe('invalid')
  })

  test('a valid signature anywhere but right after the type is no signature at all', () => {
    const sig = signatureFor('c_fill,w_80/x')
    expect(outcome(`/demo/image/facebook/c_fill,w_80/${sig}/x`)).toBe('unsigned')
    expect(outcome(`/demo/image/facebook/x?${sig}/c_fill,w_80/x`)).toBe('unsigned')
    expect(outcome(`/demo/${sig}/image/facebook/c_fill,w_80/x`)).toBe(`rejected: Invalid resource type ${sig}`)
    expect(outcome(`/${sig}/image/facebook/c_fill,w_80/x`)).toBe(`rejected: Unknown cloud name ${sig}`)
  })

  test('a signature for one id does not open another', () => {
    expect(outcome(`/demo/image/facebook/${signatureFor('x')}/y`)).toBe('invalid')
    expect(outcome(`/demo/image/facebook/${signatureFor('x')}/c_fill,w_80/x`)).toBe('invalid')
  })
})

describe('verifyDeliverySignature input checks', () => {
  const genuine = { value: 'f4dLnM-U', signedText: '65646572251' }

  test('an empty secret never verifies', () => {
    const forged = { value: sdkSignature('65646572251', ''), signedText: '65646572251' }
    expect(verifyDeliverySignature(forged, '')).toBe(false)
  })

  test('only 8 or 32 url-safe base64 characters can match', () => {
    expect(verifyDeliverySignature(genuine, 'abcd')).toBe(true)
    for (const value of ['f4dLnM-', 'f4dLnM-U1', '', 'f4dLnM+U', 'f4dLnM/U', 'f4dLnM-U'.padEnd(31, 'a')]) {
      expect(verifyDeliverySignature({ ...genuine, value }, 'abcd')).toBe(false)
    }
  })

  test('a 32-character signature must be SHA-256 (SHA-1 prefixes are refused)', () => {
    const sha1Long = sdkSignature('65646572251', 'abcd', 'sha1', 27).padEnd(32, 'A')
    expect(verifyDeliverySignature({ value: sha1Long, signedText: '65646572251' }, 'abcd')).toBe(false)
    expect(
      verifyDeliverySignature(
        { value: sdkSignature('65646572251', 'abcd', 'sha256', 32), signedText: '65646572251' },
        'abcd',
      ),
    ).toBe(true)
  })

  test('every single-character change of the signature fails', () => {
    for (let i = 0; i < genuine.value.length; i++) {
      const value = genuine.value.slice(0, i) + (genuine.value[i] === 'a' ? 'b' : 'a') + genuine.value.slice(i + 1)
      expect(verifyDeliverySignature({ ...genuine, value }, 'abcd')).toBe(false)
    }
  })
})

describe('signDeliveryPath (headshot sign)', () => {
  test.each([
    ['/demo/image/facebook/65646572251', '/demo/image/facebook/s--f4dLnM-U--/65646572251'],
    [
      '/image/facebook/c_fill,g_face,h_120,w_80/65646572251',
      '/image/facebook/s--YSJERfiM--/c_fill,g_face,h_120,w_80/65646572251',
    ],
    [
      '/res/demo/image/facebook/65646572251.png',
      `/res/demo/image/facebook/s--${sdkSignature('65646572251.png', 'abcd')}--/65646572251.png`,
    ],
    [
      '/demo/image/facebook/v1573726751/65646572251.png',
      '/demo/image/facebook/s--mwoqL1tz--/v1573726751/65646572251.png',
    ],
    ['/demo/image/upload/c_scale,w_50/v1/folder/pic', '/demo/image/upload/s--xuFeHuyA--/c_scale,w_50/v1/folder/pic'],
    ['/demo/image/twitter_name/john%20doe', '/demo/image/twitter_name/s--FoKQVIWA--/john%20doe'],
  ])("%s → %s (the SDK's URL)", (path, expected) => {
    expect(unwrap(signDeliveryPath(path, 'abcd'))).toBe(expected)
  })

  test('replaces an existing signature, right or wrong', () => {
    expect(unwrap(signDeliveryPath('/demo/image/facebook/s--AAAAAAAA--/65646572251', 'abcd'))).toBe(
      '/demo/image/facebook/s--f4dLnM-U--/65646572251',
    )
    expect(unwrap(signDeliveryPath('/demo/image/facebook/s--bad--/65646572251', 'abcd'))).toBe(
      '/demo/image/facebook/s--f4dLnM-U--/65646572251',
    )
  })

  test('keeps the query as given', () => {
    expect(unwrap(signDeliveryPath('/demo/image/facebook/65646572251?_a=x', 'abcd'))).toBe(
      '/demo/image/facebook/s--f4dLnM-U--/65646572251?_a=x',
    )
  })

  test('sha256 and long signatures, like signature_algorithm / long_url_signature', () => {
    expect(unwrap(signDeliveryPath('/demo/image/facebook/65646572251', 'abcd', { algorithm: 'sha256' }))).toBe(
      '/demo/image/facebook/s--cya_MI6U--/65646572251',
    )
    expect(unwrap(signDeliveryPath('/demo/image/facebook/65646572251', 'abcd', { long: true }))).toBe(
      '/demo/image/facebook/s--cya_MI6Ujk4NiASMUlu5606J9V6OgoVf--/65646572251',
    )
  })

  test('what it signs, the server verifies', () => {
    const signed = unwrap(
      signDeliveryPath('/demo/image/upload/c_thumb,g_face,h_150,w_150/r_max/v12/a/J%C3%BCrgen.jpg', 's3cret'),
    )
    const request = unwrap(parseDeliveryPath(signed, { cloudName: 'demo' }))
    expect(verifyDeliverySignature(request.signature ?? { value: '', signedText: '' }, 's3cret')).toBe(true)
  })

  test('refuses what the server would refuse', () => {
    expectError(signDeliveryPath('/demo/image/facebook/w_abc/x', 'abcd'), 400, 'Invalid width in transformation: abc')
    expectError(signDeliveryPath('/demo/image/facebook/', 'abcd'), 400, 'Missing public ID')
    expectError(signDeliveryPath('/demo/video/upload/x', 'abcd'), 400, 'Invalid resource type video')
    expectError(signDeliveryPath('/demo/image/facebook/x', ''), 400, 'Missing API secret')
    expectError(
      signDeliveryPath('/demo/image/facebook/x', 'abcd', { long: true, algorithm: 'sha1' }),
      400,
      'Long signatures use sha256',
    )
  })
})

describe('remembered verifications (a warm hit verifies the same signed URL again)', () => {
  const secret = 'remembered-secret'
  const signedPath = (path: string) => unwrap(signDeliveryPath(path, secret))
  const signatureOfPath = (path: string) => {
    const request = unwrap(parseDeliveryPath(path, { cloudName: '' }))
    if (request.signature === undefined) throw new Error('no signature')
    return request.signature
  }

  test('a valid signature stays valid under every version spelling; what it signs still counts', () => {
    const path = signedPath('/image/facebook/c_fill,w_80/v1/4.jpg')
    for (let version = 1; version < 5; version++) {
      const respelled = path.replace('/v1/', `/v${version}/`)
      expect(verifyDeliverySignature(signatureOfPath(respelled), secret)).toBe(true)
      expect(verifyDeliverySignature(signatureOfPath(respelled.replace('w_80', 'w_81')), secret)).toBe(false)
      expect(verifyDeliverySignature(signatureOfPath(respelled.replace('4.jpg', '5.jpg')), secret)).toBe(false)
    }
    // Not under another secret, nor bound to a type it was not made for.
    expect(verifyDeliverySignature(signatureOfPath(path), 'another-secret')).toBe(false)
    expect(verifyDeliverySignature(signatureOfPath(path), secret, { boundType: 'facebook' })).toBe(false)
    expect(verifyDeliverySignature(signatureOfPath(path), secret)).toBe(true)
  })

  test('a version the SDK signed (inside the public id) is not generalised to other versions', () => {
    // Signed as sent, version included: only that version verifies.
    const request = signatureOfPath(
      `/image/facebook/s--${sdkSignature('c_fill,w_80/v7/4.jpg', secret)}--/c_fill,w_80/v7/4.jpg`,
    )
    expect(verifyDeliverySignature(request, secret)).toBe(true)
    expect(verifyDeliverySignature(request, secret)).toBe(true)
    const other = { ...request, signedText: request.signedText.replace('/v7/', '/v8/') }
    expect(verifyDeliverySignature(other, secret)).toBe(false)
  })
})
