import { describe, expect, test } from 'bun:test'
import { MAX_COMPONENTS } from '../../src/url/component.ts'
import { parseDeliveryPath } from '../../src/url/parse.ts'
import { expectError, parse, parsed } from '../support/url.ts'

describe('host prefix forms the SDKs emit', () => {
  test('/<cloud>/image/<type>/… names the cloud', () => {
    const request = parsed('/demo/image/facebook/65646572251')
    expect(request).toEqual({
      cloud: 'demo',
      resourceType: 'image',
      type: 'facebook',
      rawComponents: [],
      components: [],
      rawPublicId: '65646572251',
      publicId: '65646572251',
    })
  })

  test('/image/<type>/… (single-tenant host) has no cloud', () => {
    const request = parsed('/image/facebook/65646572251')
    expect(request.cloud).toBeUndefined()
    expect(request.publicId).toBe('65646572251')
  })

  test('/res/<cloud>/image/<type>/… (relative SDK URLs)', () => {
    expect(parsed('/res/demo/image/facebook/65646572251').cloud).toBe('demo')
  })

  test('a cloud that is not ours is 404', () => {
    expectError(parse('/other/image/facebook/x'), 404, 'Unknown cloud name other')
    expectError(parse('/res/other/image/facebook/x'), 404, 'Unknown cloud name other')
  })

  test('only the image resource type exists', () => {
    expectError(parse('/demo/video/upload/x'), 400, 'Invalid resource type video')
    expectError(parse('/video/upload/x'), 400, 'Invalid resource type video')
    expectError(parse('/demo/raw/upload/x'), 400, 'Invalid resource type raw')
  })

  test('the type must be lowercase letters, digits and _; whether it is known is for the caller', () => {
    expect(parsed('/demo/image/instagram_name/x').type).toBe('instagram_name')
    expectError(parse('/demo/image/Face-book/x'), 400, 'Invalid delivery type Face-book')
    expectError(parse('/image/face%62ook/x'), 400, 'Invalid delivery type face%62ook')
  })

  test('truncated paths', () => {
    expectError(parse(''), 400, 'Invalid URL')
    expectError(parse('/'), 400, 'Invalid URL')
    expectError(parse('demo/image/facebook/x'), 400, 'Invalid URL')
    expectError(parse('/demo/image'), 400, 'Invalid URL')
    expectError(parse('/demo/image/facebook'), 400, 'Missing public ID')
    expectError(parse('/demo/image/facebook/'), 400, 'Missing public ID')
    expectError(parse('/demo/image/facebook/c_fill/'), 400, 'Missing public ID')
  })

  test('query string and fragment are ignored entirely', () => {
    const plain = parsed('/demo/image/facebook/s--f4dLnM-U--/65646572251')
    expect(parsed('/demo/image/facebook/s--f4dLnM-U--/65646572251?_a=BAMAROfk0')).toEqual(plain)
    expect(parsed('/demo/image/facebook/s--f4dLnM-U--/65646572251#frag')).toEqual(plain)
    expect(parsed('/demo/image/facebook/s--f4dLnM-U--/65646572251?a=/w_1/x#b?c')).toEqual(plain)
  })
})

describe('signature segment', () => {
  test('an 8-character signature right after the type; the signed text is the raw rest', () => {
    const request = parsed('/demo/image/twitter_name/s--FoKQVIWA--/john%20doe?_a=x')
    expect(request.signature).toEqual({ value: 'FoKQVIWA', signedText: 'john%20doe' })
    expect(request.publicId).toBe('john doe')
  })

  test('a 32-character signature', () => {
    const request = parsed('/demo/image/facebook/s--cya_MI6Ujk4NiASMUlu5606J9V6OgoVf--/65646572251')
    expect(request.signature?.value).toBe('cya_MI6Ujk4NiASMUlu5606J9V6OgoVf')
  })

  test('the signed text keeps transformations and version exactly as sent', () => {
    const request = parsed('/demo/image/upload/s--xuFeHuyA--/c_scale,w_50/v1/folder/pic.jpg')
    expect(request.signature?.signedText).toBe('c_scale,w_50/v1/folder/pic.jpg')
  })

  test('a signature may start with dashes (`s----SjmNDA--`)', () => {
    expect(parsed('/demo/image/upload/s----SjmNDA--/v1234/image.jpg').signature?.value).toBe('--SjmNDA')
  })

  test('a segment after the type that starts with s-- but is no signature is 400', () => {
    for (const segment of ['s--abc--', 's--abcdefghi--', 's--abcdefg!--', 's--abcdefgh-', 's--', 's--abcdefgh--x']) {
      expectError(parse(`/demo/image/facebook/${segment}/x`), 400, `Malformed signature ${segment}`)
    }
  })

  test('a signature with nothing after it has no public id', () => {
    expectError(parse('/demo/image/facebook/s--f4dLnM-U--'), 400, 'Missing public ID')
    expectError(parse('/demo/image/facebook/s--f4dLnM-U--/'), 400, 'Missing public ID')
  })

  test('an unsigned URL has no signature', () => {
    expect(parsed('/demo/image/facebook/65646572251').signature).toBeUndefined()
  })

  test('s--…-- anywhere else is not a signature (it is part of the public id)', () => {
    const request = parsed('/demo/image/facebook/c_fill,w_80/s--f4dLnM-U--/65646572251')
    expect(request.signature).toBeUndefined()
    expect(request.rawComponents).toEqual(['c_fill,w_80'])
    expect(request.publicId).toBe('s--f4dLnM-U--/65646572251')
  })
})

describe('transformations, version and public id', () => {
  test('the last segment is always the public id, even if it looks like a transformation', () => {
    const request = parsed('/demo/image/facebook/w_100')
    expect(request.components).toEqual([])
    expect(request.publicId).toBe('w_100')
  })

  test('the first v<digits> segment that is not last is the version', () => {
    const request = parsed('/demo/image/upload/c_scale,w_50/v1/folder/pic')
    expect(request.version).toBe(1)
    expect(request.rawComponents).toEqual(['c_scale,w_50'])
    expect(request.publicId).toBe('folder/pic')
  })

  test('only the first version segment counts; later ones belong to the id', () => {
    const request = parsed('/demo/image/upload/v1/a/v2/b')
    expect(request.version).toBe(1)
    expect(request.publicId).toBe('a/v2/b')
  })

  test('a v<digits> last segment is the id, not a version', () => {
    const request = parsed('/demo/image/facebook/v123')
    expect(request.version).toBeUndefined()
    expect(request.publicId).toBe('v123')
  })

  test('a version written inside the public id is read as the version (the SDK signs it as part of the id)', () => {
    const request = parsed('/demo/image/facebook/s--2BqwzHrw--/v1234/test')
    expect(request.version).toBe(1234)
    expect(request.publicId).toBe('test')
  })

  test('with a version, everything before it must be a transformation', () => {
    expectError(parse('/demo/image/upload/folder/v1/x'), 400, 'Invalid transformation parameter: folder')
    expectError(parse('/demo/image/upload/c_fill,john_doe/v1/x'), 400, 'Invalid transformation parameter: john')
  })

  test('without a version, leading segments made only of known keys are transformations', () => {
    const request = parsed('/demo/image/twitter_name/c_thumb,g_face,h_200,r_max,w_200/e_grayscale/BillClinton.png')
    expect(request.rawComponents).toEqual(['c_thumb,g_face,h_200,r_max,w_200', 'e_grayscale'])
    expect(request.components).toEqual([
      {
        crop: 'thumb',
        gravity: { kind: 'face', mode: 'face', fallback: 'north' },
        height: { kind: 'px', value: 200 },
        radius: { kind: 'max' },
        width: { kind: 'px', value: 200 },
      },
      { effect: { name: 'grayscale', level: 0 } },
    ])
    expect(request.publicId).toBe('BillClinton')
    expect(request.extension).toBe('png')
  })

  test('the first segment with an unknown key starts the public id', () => {
    const request = parsed('/demo/image/upload/c_fill/john_doe/w_80/pic')
    expect(request.rawComponents).toEqual(['c_fill'])
    expect(request.publicId).toBe('john_doe/w_80/pic')
  })

  test('a known key with a bad value is still a transformation, and a 400', () => {
    expectError(parse('/demo/image/facebook/w_abc/65646572251'), 400, 'Invalid width in transformation: abc')
    expectError(parse('/demo/image/facebook/c_fill,w_0/65646572251'), 400, 'Invalid width in transformation: 0')
  })

  test('recognised but unimplemented keys are 400, not part of the id', () => {
    expectError(parse('/demo/image/facebook/l_text:Arial_20:hi/x'), 400, 'Transformation parameter not supported: l')
    expectError(parse('/demo/image/facebook/$foo_10,w_$foo/x'), 400, 'Transformation parameter not supported: $foo')
  })

  test(`at most ${MAX_COMPONENTS} chained components`, () => {
    const chain = (n: number): string => Array.from({ length: n }, () => 'r_max').join('/')
    expect(parsed(`/demo/image/facebook/${chain(MAX_COMPONENTS)}/x`).components).toHaveLength(MAX_COMPONENTS)
    expectError(parse(`/demo/image/facebook/${chain(MAX_COMPONENTS + 1)}/x`), 400, 'Too many transformation components')
    expectError(
      parse(`/demo/image/facebook/${chain(MAX_COMPONENTS + 1)}/v1/x`),
      400,
      'Too many transformation components',
    )
  })

  test('a version too large for an exact integer is refused', () => {
    expectError(parse('/demo/image/facebook/v99999999999999999999/x'), 400, 'Invalid version v99999999999999999999')
  })
})

describe('extension', () => {
  test.each([
    ['x.jpg', 'jpg'],
    ['x.jpeg', 'jpg'],
    ['x.JPG', 'jpg'],
    ['x.png', 'png'],
    ['x.gif', 'gif'],
    ['x.webp', 'webp'],
  ])('%s → %s', (id, format) => {
    const request = parsed(`/demo/image/facebook/${id}`)
    expect(request.extension).toBe(format as 'jpg')
    expect(request.publicId).toBe('x')
    expect(request.rawPublicId).toBe('x')
  })

  test.each(['avif', 'bmp', 'tiff', 'tif', 'ico', 'heic', 'jxl', 'AVIF'])(
    '.%s is a format we cannot encode: 400',
    (ext) => {
      expectError(parse(`/demo/image/facebook/x.${ext}`), 400, `Unsupported output format ${ext.toLowerCase()}`)
    },
  )

  test('an unknown extension stays part of the id (Facebook usernames have dots)', () => {
    const request = parsed('/demo/image/facebook/john.smith')
    expect(request.publicId).toBe('john.smith')
    expect(request.extension).toBeUndefined()
    expect(parsed('/demo/image/facebook/john.smith.png')).toMatchObject({ publicId: 'john.smith', extension: 'png' })
  })

  test('a dot in a folder is not an extension', () => {
    expect(parsed('/demo/image/upload/v1/a.png/b')).toMatchObject({ publicId: 'a.png/b' })
    expect(parsed('/demo/image/upload/v1/a.png/b').extension).toBeUndefined()
  })

  test('an id that is only an extension is missing', () => {
    expectError(parse('/demo/image/facebook/.png'), 400, 'Missing public ID')
  })
})

describe('public id decoding (for lookup only)', () => {
  test.each([
    ['john%20doe', 'john doe'],
    ['J%C3%BCrgen', 'Jürgen'],
    ['a%2Bb', 'a+b'],
    ['a+b', 'a+b'],
    ['%40handle', '@handle'],
    ["a(b)!*'", "a(b)!*'"],
    ['a%3Fb%23c', 'a?b#c'],
    ['a%2Fb', 'a/b'],
  ])('%s → %s (rawPublicId stays escaped)', (raw, decoded) => {
    const request = parsed(`/demo/image/twitter_name/${raw}`)
    expect(request.publicId).toBe(decoded)
    expect(request.rawPublicId).toBe(raw)
  })

  test.each(['a%zz', 'a%', 'a%2', '%C3', '%FF', '%ED%A0%80'])('invalid escape or UTF-8 %s is 400', (raw) => {
    expectError(parse(`/demo/image/twitter_name/${raw}`), 400, 'Invalid percent-encoding in public ID')
  })

  test.each(['a%00b', 'a%0Ab', 'a%0D', '%7F', '%C2%85'])('decoded control character %s is 400', (raw) => {
    expectError(parse(`/demo/image/twitter_name/${raw}`), 400, 'Invalid character in public ID')
  })

  test('raw control characters anywhere in the path are 400', () => {
    expectError(parse('/demo/image/facebook/a\tb'), 400, 'Invalid URL')
    expectError(parse('/demo/image/facebook/a\r\nb'), 400, 'Invalid URL')
  })

  test.each(['v1/a/../b', 'v1/./b', '..', 'v1/%2E%2E/x', 'v1/a/%2e'])('dot segment in %s is 400', (raw) => {
    expectError(parse(`/demo/image/upload/${raw}`), 400, 'Invalid public ID')
  })

  test('empty segments are malformed, except after a scheme (fetch-style ids)', () => {
    expectError(parse('/demo/image/facebook/c_fill//x'), 400, 'Invalid URL')
    expectError(parse('/demo/image/facebook//x'), 400, 'Invalid URL')
    expectError(parse('/demo//image/facebook/x'), 400, 'Invalid URL')
    expect(parsed('/demo/image/fetch/v1234/http://google.com/path/to/image.png').publicId).toBe(
      'http://google.com/path/to/image',
    )
  })
})

describe('limits and linear-time parsing', () => {
  const prefix = '/demo/image/facebook/'

  test('paths up to 2048 bytes parse; longer ones are 400 URL too long', () => {
    const idOfLength = (n: number): string => 'a'.repeat(n - prefix.length)
    expect(parsed(`${prefix}${idOfLength(2048)}`).publicId).toHaveLength(2048 - prefix.length)
    expectError(parse(`${prefix}${idOfLength(2049)}`), 400, 'URL too long')
  })

  test('the limit counts UTF-8 bytes, and not the query', () => {
    expectError(parse(`${prefix}${'é'.repeat(1100)}`), 400, 'URL too long')
    expect(parse(`${prefix}x?${'q'.repeat(10_000)}`).ok).toBe(true)
  })

  test('pathological 2 KB paths finish quickly', () => {
    const room = 2048 - prefix.length - 16 // leave room for the fixed text around each fill
    const fill = (unit: string): string => unit.repeat(Math.floor(room / unit.length))
    const nasty = [
      `${fill('w_1,')}w_1/x`,
      `${fill('e_sepia:')}/x`,
      `${fill('%25')}`,
      `${fill('v1/')}x`,
      `${fill('a/')}x`,
      `s--${fill('A')}`,
      `${fill('.')}x`,
      `${fill('_')}/x`,
      `r_${fill('1:')}1/x`,
      `${fill('c_fill,')}/x`,
      `fl_${fill('lossy.')}lossy/x`,
      `a_${fill('hflip.')}/x`,
      `${fill('s--AAAAAAAA--/')}x`,
      `${fill('%C3%BC')}`,
      `b_rgb:${fill('f')}/x`,
      `bo_${fill('1')}px_solid_red/x`,
      `t_${fill('a.')}/x`,
      `d_${fill('a:')}a/x`,
    ].map((rest) => `${prefix}${rest}`)
    const started = performance.now()
    for (let round = 0; round < 5; round++) {
      for (const path of nasty) {
        expect(path.length).toBeGreaterThan(2000)
        const result = parseDeliveryPath(path, { cloudName: 'demo' })
        expect(typeof result.ok).toBe('boolean')
      }
    }
    expect(performance.now() - started).toBeLessThan(500) // ~90 parses; real cost is a few ms
  })
})

describe('parsed chains are remembered by their text', () => {
  test('a repeated chain parses to an equal result, whatever the version and id around it', () => {
    const first = parsed('/demo/image/facebook/c_fill,g_face,h_120,w_80/e_blur:300/v1/1.jpg')
    const again = parsed('/demo/image/facebook/c_fill,g_face,h_120,w_80/e_blur:300/v2/2.png')
    expect(again.components).toEqual(first.components)
    expect(again.rawComponents).toEqual(first.rawComponents)
    expect(again.version).toBe(2)
    expect(again.publicId).toBe('2')
    expect(again.extension).toBe('png')
    // A different chain is not confused with it.
    expect(parsed('/demo/image/facebook/c_fill,g_face,h_120,w_81/v1/1.jpg').components).toEqual([
      { ...first.components[0], width: { kind: 'px', value: 81 } },
    ])
  })

  test('a result cannot be changed, so the next request gets the chain its text says', () => {
    const path = '/demo/image/facebook/c_fill,g_face,h_120,w_80/r_max/v1/1.jpg'
    const first = parsed(path)
    const expected = structuredClone(first.components)
    expect(() => {
      ;(first.components[0] as unknown as { width: number }).width = 999
    }).toThrow()
    expect(() => first.components.push({ crop: 'fit' })).toThrow()
    expect(() => {
      ;(first.components[0]?.gravity as { kind: string }).kind = 'north'
    }).toThrow()
    first.rawComponents.push('w_1') // the raw texts are the request's own copy
    const next = parsed(path.replace('/v1/', '/v2/'))
    expect(next.components).toEqual(expected)
    expect(next.rawComponents).toEqual(['c_fill,g_face,h_120,w_80', 'r_max'])
  })

  test('a failing chain fails every time', () => {
    for (let i = 0; i < 2; i++) {
      expectError(parse(`/demo/image/facebook/w_abc/v${i}/1.jpg`), 400, 'Invalid width in transformation: abc')
    }
  })
})
