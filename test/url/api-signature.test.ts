/** API request signing and explicit's response signature, against the SDKs' and the docs' vectors. */
import { describe, expect, test } from 'bun:test'
import { v2 as cloudinary } from 'cloudinary'
import {
  apiStringToSign,
  responseSignature,
  signApiParams,
  verifyApiSignature,
  type ApiParams,
} from '../../src/url/api-signature.ts'

const NPM_SECRET = 'hdcixPpR2iKERPwqvH6sHdK9cyac'
const NPM_PARAMS = { cloud_name: 'dn6ot3ged', timestamp: 1568810420, username: 'user@cloudinary.com' }

describe('known vectors: signing like the SDK (every given param is signed)', () => {
  test.each<[string, ApiParams, string, 'sha1' | 'sha256', string]>([
    [
      'support article 203817991',
      { public_id: 'sample_image', timestamp: 1315060510 },
      'abcd',
      'sha1',
      'b4ad47fb4e25c7bf5f92a20089f9db59bc302313',
    ],
    [
      'docs eager example',
      { eager: 'w_400,h_300,c_pad|w_260,h_200,c_crop', public_id: 'sample_image', timestamp: 1315060510 },
      'abcd',
      'sha1',
      'bfd09f95f331f558cbd1320e67aa8d488770583e',
    ],
    ['npm spec, sha1', NPM_PARAMS, NPM_SECRET, 'sha1', '14c00ba6d0dfdedbc86b316847d95b9e6cd46d94'],
    [
      'npm spec, sha256',
      NPM_PARAMS,
      NPM_SECRET,
      'sha256',
      '45ddaa4fa01f0c2826f32f669d2e4514faf275fe6df053f1a150e7beae58a3bd',
    ],
    [
      'npm spec, folder id',
      { public_id: 'folder/file', version: 1234 },
      'b',
      'sha1',
      '7a3349cbb373e4812118d625047ede50b90e7b67',
    ],
    [
      'npm spec, & escaped in v2',
      { ...NPM_PARAMS, username: undefined, notification_url: 'https://fake.com/callback?a=1&tags=hello,world' },
      NPM_SECRET,
      'sha1',
      '4fdf465dd89451cc1ed8ec5b3e314e8a51695704',
    ],
    [
      'npm spec, the smuggled split',
      { ...NPM_PARAMS, username: undefined, notification_url: 'https://fake.com/callback?a=1', tags: 'hello,world' },
      NPM_SECRET,
      'sha1',
      '7b4e3a539ff1fa6e6700c41b3a2ee77586a025f9',
    ],
    [
      'explicit, captured on the wire',
      { invalidate: 1, public_id: '65646572251', timestamp: 1700000000, type: 'facebook' },
      'abcd',
      'sha1',
      '6d77c55458be0229f31e9c06e90afd2dcd978b62',
    ],
    [
      'explicit with eager',
      { eager: 'c_thumb,g_face,h_80,w_80', public_id: '65646572251', timestamp: 1700000000, type: 'facebook' },
      'abcd',
      'sha1',
      'f9d73970622436f7237c5ea59b34078d96f4eb5f',
    ],
    [
      'Node and Python agree',
      { public_id: '65646572251', type: 'facebook', timestamp: 1700000000 },
      'abcd',
      'sha1',
      '47baf355b51fc324f376e95c63b2561b90f9c29b',
    ],
  ])('%s', (_name, params, secret, algorithm, expected) => {
    expect(signApiParams(params, secret, algorithm)).toBe(expected)
  })

  test('v1 does not escape &, so the smuggled split signs the same as the original (why v2 exists)', () => {
    const original = { timestamp: 1, notification_url: 'https://x/cb?a=1&tags=evil' }
    const smuggled = { timestamp: 1, notification_url: 'https://x/cb?a=1', tags: 'evil' }
    expect(signApiParams(original, 's', 'sha1', 1)).toBe(signApiParams(smuggled, 's', 'sha1', 1))
    expect(signApiParams(original, 's', 'sha1', 2)).not.toBe(signApiParams(smuggled, 's', 'sha1', 2))
  })
})

describe('apiStringToSign', () => {
  test('drops null, undefined and "", joins arrays with ",", sorts keys, escapes & (v2)', () => {
    expect(
      apiStringToSign({
        timestamp: 5,
        tags: ['a', 'b'],
        context: '',
        eager: null,
        folder: undefined,
        public_id: 'x&y',
      }),
    ).toBe('public_id=x%26y&tags=a,b&timestamp=5')
    expect(apiStringToSign({ public_id: 'x&y', timestamp: 5 }, 1)).toBe('public_id=x&y&timestamp=5')
    expect(apiStringToSign({ tags: [] })).toBe('')
  })

  test("signatures match the SDK's api_sign_request", () => {
    const params = {
      timestamp: 1700000000,
      public_id: 'a/b c',
      tags: ['x', 'y'],
      eager: 'w_1|w_2',
      invalidate: 1,
      type: 'facebook',
    }
    for (let i = 0; i < 20; i++) {
      const secret = `secret-${i}`
      expect(signApiParams({ ...params, timestamp: 1700000000 + i }, secret)).toBe(
        cloudinary.utils.api_sign_request({ ...params, timestamp: 1700000000 + i }, secret),
      )
    }
  })
})

describe('verifyApiSignature (server side)', () => {
  const request = { invalidate: 1, public_id: '65646572251', timestamp: 1700000000, type: 'facebook' }
  const wire = {
    ...request,
    api_key: '1234',
    signature: '6d77c55458be0229f31e9c06e90afd2dcd978b62',
    file: 'x',
    cloud_name: 'demo',
    resource_type: 'image',
  }

  test('accepts the captured explicit request; file, cloud_name, resource_type, api_key, signature are not signed', () => {
    expect(verifyApiSignature(wire, wire.signature, 'abcd')).toBe(true)
  })

  test('sha256 (64 hex) and upper-case hex are accepted', () => {
    expect(verifyApiSignature(request, signApiParams(request, 'abcd', 'sha256'), 'abcd')).toBe(true)
    expect(verifyApiSignature(request, wire.signature.toUpperCase(), 'abcd')).toBe(true)
  })

  test('v1-encoded signatures are accepted by default, and can be refused', () => {
    const withAmpersand = { timestamp: 1, notification_url: 'https://x/cb?a=1&b=2' }
    const v1 = signApiParams(withAmpersand, 'abcd', 'sha1', 1)
    expect(verifyApiSignature(withAmpersand, v1, 'abcd')).toBe(true)
    expect(verifyApiSignature(withAmpersand, v1, 'abcd', { acceptV1: false })).toBe(false)
    expect(verifyApiSignature(withAmpersand, signApiParams(withAmpersand, 'abcd'), 'abcd', { acceptV1: false })).toBe(
      true,
    )
  })

  test('any change to a signed field, an added field, or the wrong secret fails', () => {
    expect(verifyApiSignature({ ...wire, public_id: '65646572252' }, wire.signature, 'abcd')).toBe(false)
    expect(verifyApiSignature({ ...wire, timestamp: 1700000001 }, wire.signature, 'abcd')).toBe(false)
    expect(verifyApiSignature({ ...wire, eager: 'w_1' }, wire.signature, 'abcd')).toBe(false)
    expect(verifyApiSignature(wire, wire.signature, 'abce')).toBe(false)
  })

  test('empty values do not count, as in the SDK', () => {
    expect(verifyApiSignature({ ...wire, tags: '', context: null }, wire.signature, 'abcd')).toBe(true)
  })

  test('malformed signatures and an empty secret never verify', () => {
    for (const signature of [
      '',
      'xyz',
      wire.signature.slice(1),
      `${wire.signature}0`,
      wire.signature.replace('6', 'g'),
    ]) {
      expect(verifyApiSignature(wire, signature, 'abcd')).toBe(false)
    }
    expect(verifyApiSignature(request, signApiParams(request, ''), '')).toBe(false)
  })
})

describe('response signature (what verify_api_response_signature checks)', () => {
  test.each([
    ['65646572251', 1700000000, 'abcd', '032da896578ffade219f80aa377b77e89a521046'],
    ['sample', 1315060510, 'abcd', '912d90b6fe28aa6820cf928bc440a65a0f36e002'],
  ])('public id %s', (publicId, version, secret, expected) => {
    expect(responseSignature(publicId, version, secret)).toBe(expected)
  })

  test('uses v1 encoding, which is what the SDK verifies', () => {
    const id = 'tests/logo&version=2'
    const signature = responseSignature(id, 123456, 'testsecret')
    expect(signature).toBe(signApiParams({ public_id: id, version: 123456 }, 'testsecret', 'sha1', 1))
    expect(signature).not.toBe(signApiParams({ public_id: id, version: 123456 }, 'testsecret', 'sha1', 2))
    const previousSecret = cloudinary.config().api_secret // the SDK reads it from global config
    try {
      cloudinary.config({ api_secret: 'testsecret' })
      // Not in the SDK's type declarations, but exported by lib/utils (what clients call on responses).
      const utils = cloudinary.utils as unknown as {
        verify_api_response_signature(id: string, version: number, signature: string): boolean
      }
      expect(utils.verify_api_response_signature(id, 123456, signature)).toBe(true)
    } finally {
      cloudinary.config({ api_secret: previousSecret })
    }
  })
})
