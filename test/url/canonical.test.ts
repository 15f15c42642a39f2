import { describe, expect, test } from 'bun:test'
import { canonicalChain, canonicalComponent } from '../../src/url/canonical.ts'
import { parseChain } from '../../src/url/component.ts'
import { component, unwrap } from '../support/url.ts'

const key = (text: string): string => canonicalComponent(component(text))
const chainKey = (text: string): string => canonicalChain(unwrap(parseChain(text)).components)

describe('canonical text of a component', () => {
  test.each([
    ['w_80,c_fill,h_120,g_face', 'c_fill,g_face,h_120,w_80'],
    ['dpr_2.0', 'dpr_2'],
    ['w_1.0', 'w_1.0'],
    ['w_2', 'w_2'],
    ['w_0.50', 'w_0.5'],
    ['w_007', 'w_7'],
    ['b_red', 'b_rgb:ff0000ff'],
    ['bo_2px_solid_rgb:fff', 'bo_2px_solid_rgb:ffffffff'],
    ['e_sepia', 'e_sepia:80'],
    ['e_grayscale', 'e_grayscale'],
    ['e_pixelate', 'e_pixelate'],
    ['e_contrast:level_20;type_sigmoidal', 'e_contrast:20'],
    ['q_auto', 'q_auto:good'],
    ['q_80:420', 'q_80:420'],
    ['f_jpeg', 'f_jpg'],
    ['r_20', 'r_20:20:20:20'],
    ['r_max', 'r_max'],
    ['fl_progressive.attachment:my%20file', 'fl_attachment:my file.progressive'],
    ['ar_16:9', `ar_${16 / 9}`],
    ['g_faces:center', 'g_faces:center'],
    ['x_-0', 'x_0'],
    ['d_avatars:x.png', 'd_avatars:x.png'],
    ['t_a.b', 't_a.b'],
    ['a_hflip.-45', 'a_hflip.-45'],
    ['', ''],
  ])('%s → %s', (text, expected) => expect(key(text)).toBe(expected))
})

/**
 * Groups of spellings: everything inside one group means the same thing and must share a key;
 * different groups mean different things and must never share one.
 */
const GROUPS: string[][] = [
  ['c_fill,g_face,h_120,w_80', 'w_80,h_120,g_face,c_fill', 'g_face,c_fill,w_80,h_120'],
  ['c_fill,g_face:center,h_120,w_80'],
  ['c_fill,g_faces,h_120,w_80'],
  ['c_fill,g_auto,h_120,w_80'],
  ['c_fill,h_120,w_80'],
  ['c_fill,g_center,h_120,w_80'],
  ['dpr_2', 'dpr_2.0', 'dpr_2.00'],
  ['dpr_1.5'],
  ['w_1'],
  ['w_1.0', 'w_1.00'],
  ['w_2'],
  ['w_2.0'],
  ['w_0.5', 'w_.5'.replace('.5', '0.5')],
  ['w_80', 'w_080'],
  ['h_80'],
  ['x_0', 'x_-0'],
  ['x_0.0', 'x_-0.0'],
  ['x_10'],
  ['x_-10'],
  ['y_10'],
  ['z_1', 'z_1.0'],
  ['z_0.7'],
  ['z_0.000001'],
  ['x_-0.000001'],
  ['f_jpg', 'f_jpeg'],
  ['f_auto', 'f_auto:image'],
  ['f_png'],
  ['q_auto', 'q_auto:good'],
  ['q_auto:eco'],
  ['q_80'],
  ['q_80:420'],
  ['q_80:444'],
  ['e_sepia', 'e_sepia:80', 'e_blur,e_sepia'],
  ['e_sepia:50'],
  ['e_contrast', 'e_contrast:0', 'e_contrast:level_0', 'e_contrast:type_sigmoidal'],
  ['e_contrast:10', 'e_contrast:level_10'],
  ['e_pixelate'],
  ['e_pixelate:1'],
  ['e_pixelate_faces'],
  ['e_grayscale'],
  ['e_negate'],
  ['e_blackwhite', 'e_blackwhite:50'],
  ['r_20', 'r_20:20', 'r_20:20:20', 'r_20:20:20:20'],
  ['r_20:0'],
  ['r_0:20'],
  ['r_max'],
  ['r_0'],
  ['b_red', 'b_rgb:f00', 'b_rgb:ff0000', 'b_rgb:FF0000FF', 'b_rgb:f00f'],
  ['b_rgb:ff000080'],
  ['b_transparent', 'b_none', 'b_rgb:0000'],
  ['b_black'],
  ['bo_2px_solid_white', 'bo_2px_solid_rgb:fff', 'bo_2px_solid_WHITE'],
  ['bo_3px_solid_white'],
  ['fl_lossy.progressive', 'fl_progressive.lossy', 'fl_lossy.progressive.lossy'],
  ['fl_lossy'],
  ['fl_attachment'],
  ['fl_attachment:x'],
  ['fl_attachment:y'],
  ['ar_16:9', 'ar_32:18'],
  ['ar_1.5', 'ar_3:2'],
  ['ar_1', 'ar_1:1', 'ar_1.0'],
  ['a_hflip.45'],
  ['a_45.hflip'],
  ['a_90'],
  ['a_-90'],
  ['t_a.b'],
  ['t_b.a'],
  ['t_a'],
  ['d_a:b.png'],
  ['d_a_b.png'],
  ['d_a.b.png'],
  ['o_50'],
  ['o_0'],
  ['o_100'],
]

describe('equivalent spellings share a key; different meanings never collide', () => {
  test('within each group: one key', () => {
    for (const group of GROUPS) {
      const keys = new Set(group.map(key))
      expect({ group, keys: [...keys] }).toEqual({ group, keys: [key(group[0] ?? '')] })
    }
  })

  test('across groups: distinct keys', () => {
    const owner = new Map<string, string>()
    for (const group of GROUPS) {
      const groupKey = key(group[0] ?? '')
      expect({ groupKey, already: owner.get(groupKey) }).toEqual({ groupKey, already: undefined })
      owner.set(groupKey, group[0] ?? '')
    }
  })

  test('chains: order of components matters, splitting a component matters, empty ones do not', () => {
    expect(chainKey('w_80/r_max')).not.toBe(chainKey('r_max/w_80'))
    expect(chainKey('w_80,h_120')).not.toBe(chainKey('w_80/h_120'))
    expect(canonicalChain([{}, component('r_max'), {}])).toBe('r_max')
    expect(canonicalChain([])).toBe('')
    expect(chainKey('h_120,w_80,c_fill/r_max')).toBe('c_fill,h_120,w_80/r_max')
  })
})

describe('round trip: parsing the canonical text gives an equal Component', () => {
  const spellings = GROUPS.flat()
  test(`for all ${spellings.length} spellings above`, () => {
    for (const text of spellings) {
      const original = component(text)
      const canonical = canonicalComponent(original)
      expect({ text, reparsed: component(canonical) }).toEqual({ text, reparsed: original })
      expect(canonicalComponent(component(canonical))).toBe(canonical) // idempotent
    }
  })

  test('for every aspect ratio a:b with a, b in 1..60 (shortest-decimal ratios reparse exactly)', () => {
    for (let a = 1; a <= 60; a++) {
      for (let b = 1; b <= 60; b++) {
        const original = component(`ar_${a}:${b}`)
        expect(component(canonicalComponent(original))).toEqual(original)
      }
    }
  })

  test('for a whole chain', () => {
    const chain = unwrap(
      parseChain(
        'c_thumb,g_face,h_150,w_150,z_0.7/r_max/e_sepia/b_rgb:ff000080,c_pad,h_1.0,w_1.0/fl_attachment:a b.lossy',
      ),
    )
    expect(unwrap(parseChain(canonicalChain(chain.components))).components).toEqual(chain.components)
  })
})
