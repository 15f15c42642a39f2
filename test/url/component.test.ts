import { describe, expect, test } from 'bun:test'
import { MAX_COMPONENTS, isTransformationSegment, parseChain, parseComponent } from '../../src/url/component.ts'
import type { Component } from '../../src/url/types.ts'
import { component, expectError, unwrap } from '../support/url.ts'

describe('what counts as a transformation segment (every token has a known key)', () => {
  test.each(['c_fill,w_80', 'w_abc', 'l_text:x', '$v_1', 'e_sepia:50', 'c_fill,g_face,h_120,w_80'])(
    '%s is one',
    (segment) => {
      expect(isTransformationSegment(segment)).toBe(true)
    },
  )
  test.each(['john_doe', 'c_fill,john', '', '_x', '65646572251', 'c_fill,,w_80', 'c_fill,', 'BillClinton.png', 'W_80'])(
    '%s is not',
    (segment) => {
      expect(isTransformationSegment(segment)).toBe(false)
    },
  )
})

describe('one component', () => {
  test('an SDK component: keys in any order, one Component', () => {
    const expected: Component = {
      crop: 'fill',
      gravity: { kind: 'face', mode: 'face', fallback: 'north' },
      height: { kind: 'px', value: 120 },
      width: { kind: 'px', value: 80 },
    }
    expect(component('c_fill,g_face,h_120,w_80')).toEqual(expected)
    expect(component('w_80,h_120,g_face,c_fill')).toEqual(expected)
  })

  test('the empty component is empty', () => {
    expect(component('')).toEqual({})
  })

  test('a token without key_value form is an invalid parameter', () => {
    expectError(parseComponent('c_fill,oops'), 400, 'Invalid transformation parameter: oops')
    expectError(parseComponent('c_fill,,w_80'), 400, 'Invalid transformation parameter: ')
    expectError(parseComponent('_80'), 400, 'Invalid transformation parameter: _80')
  })

  test('a key may appear once per component (except e_, where the last one applies)', () => {
    expectError(parseComponent('w_80,w_90'), 400, 'Duplicate transformation parameter: w')
    expectError(parseComponent('c_fill,h_1,c_fit'), 400, 'Duplicate transformation parameter: c')
    expect(component('e_sepia,e_grayscale')).toEqual({ effect: { name: 'grayscale', level: 0 } })
  })

  test('values may be percent-encoded (the SDK escapes spaces)', () => {
    expect(component('w_%38%30')).toEqual({ width: { kind: 'px', value: 80 } })
    expectError(parseComponent('w_%zz'), 400, 'Invalid width in transformation: %zz')
  })

  test('request text in messages is made header-safe and short', () => {
    expectError(parseComponent('w_a\r\nb'), 400, 'Invalid width in transformation: a%0D%0Ab')
    expectError(parseComponent('w_é'), 400, 'Invalid width in transformation: %C3%A9')
    const long = 'x'.repeat(500)
    expectError(parseComponent(`w_${long}`), 400, `Invalid width in transformation: ${'x'.repeat(100)}...`)
  })

  test('never throws, whatever the input', () => {
    const nasty = [
      '\uD800',
      'w_\uD800',
      'e_\uDFFF:1',
      ',,,,',
      '%',
      'fl_attachment:%E0%A4%A',
      'a_'.repeat(300),
      '\u0000_1',
    ]
    for (const text of nasty) expect(typeof parseComponent(text).ok).toBe('boolean')
  })
})

describe('conflicting options', () => {
  const nonCropping = ['scale', 'fit', 'limit', 'mfit', 'pad', 'lpad', 'mpad']
  for (const crop of nonCropping) {
    test(`g_auto with c_${crop} is 400 (documented by Cloudinary)`, () => {
      expectError(
        parseComponent(`c_${crop},g_auto,w_100`),
        400,
        `Conflicting transformation parameters: g_auto and c_${crop}`,
      )
    })
  }
  for (const crop of ['pad', 'lpad', 'mpad']) {
    for (const gravity of ['face', 'faces', 'face:center', 'faces:auto']) {
      test(`g_${gravity} with c_${crop} is 400 (padding is placed by compass gravity)`, () => {
        expectError(
          parseComponent(`c_${crop},g_${gravity},w_100`),
          400,
          `Conflicting transformation parameters: g_${gravity} and c_${crop}`,
        )
      })
    }
  }
  test('a face gravity on a mode that keeps the whole picture is accepted and has nothing to choose', () => {
    for (const text of [
      'c_fit,g_face,w_100,h_100',
      'c_scale,g_faces,w_50',
      'c_limit,g_face:center,w_80',
      'c_mfit,g_faces:auto,w_90,h_90',
    ]) {
      expect(parseComponent(text).ok).toBe(true)
    }
  })

  test('compass gravity goes with any mode; content-aware gravity with cropping modes', () => {
    for (const text of [
      'c_scale,g_north',
      'c_pad,g_south_east',
      'c_fill,g_auto',
      'c_thumb,g_face',
      'c_crop,g_faces',
      'c_lfill,g_face:center',
      'g_face,w_100',
    ]) {
      expect(parseComponent(text).ok).toBe(true)
    }
  })

  test('c_fill_pad requires g_auto', () => {
    expect(parseComponent('c_fill_pad,g_auto,w_100,h_100').ok).toBe(true)
    expectError(parseComponent('c_fill_pad,w_100,h_100'), 400, 'Crop mode fill_pad requires g_auto')
    expectError(parseComponent('c_fill_pad,g_face,w_100,h_100'), 400, 'Crop mode fill_pad requires g_auto')
  })
})

describe('chains (named-transformation texts)', () => {
  test('components separated by /', () => {
    const chain = unwrap(parseChain('c_thumb,g_face,h_150,w_150,z_0.7/r_max/f_auto/q_auto'))
    expect(chain.rawComponents).toEqual(['c_thumb,g_face,h_150,w_150,z_0.7', 'r_max', 'f_auto', 'q_auto'])
    expect(chain.components).toHaveLength(4)
    expect(chain.components[1]).toEqual({ radius: { kind: 'max' } })
  })

  test('the empty text is the empty chain', () => {
    expect(unwrap(parseChain(''))).toEqual({ components: [], rawComponents: [] })
  })

  test('every part must be a transformation', () => {
    expectError(parseChain('c_fill//r_max'), 400, 'Invalid transformation: empty component')
    expectError(parseChain('c_fill/pic'), 400, 'Invalid transformation parameter: pic')
    expectError(parseChain('c_fill/w_0'), 400, 'Invalid width in transformation: 0')
  })

  test(`at most ${MAX_COMPONENTS} components`, () => {
    const chain = (n: number): string => Array.from({ length: n }, () => 'e_grayscale').join('/')
    expect(parseChain(chain(MAX_COMPONENTS)).ok).toBe(true)
    expectError(parseChain(chain(MAX_COMPONENTS + 1)), 400, 'Too many transformation components')
  })
})
