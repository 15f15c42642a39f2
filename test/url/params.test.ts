/**
 * Every parameter of the table (src/url/params.ts): accepted spellings with their typed
 * value, and refused ones with their exact message. Tested through parseComponent, which is how
 * the table is used.
 */
import { describe, expect, test } from 'bun:test'
import { parseComponent } from '../../src/url/component.ts'
import { PARAMS, isKnownKey } from '../../src/url/params.ts'
import type { Component } from '../../src/url/types.ts'
import { component, expectError } from '../support/url.ts'

const accepts = (cases: Array<[string, Component]>): void => {
  for (const [text, expected] of cases) {
    test(`${text} →  ${JSON.stringify(expected)}`, () => expect(component(text)).toEqual(expected))
  }
}
const refuses = (message: (value: string) => string, texts: string[]): void => {
  for (const text of texts) {
    const value = text.slice(text.indexOf('_') + 1)
    test(`${text} → 400 ${message(value)}`, () => expectError(parseComponent(text), 400, message(value)))
  }
}
const invalid =
  (name: string) =>
  (value: string): string =>
    `Invalid ${name} in transformation: ${value}`
const unsupported =
  (name: string) =>
  (value: string): string =>
    `Unsupported ${name} in transformation: ${value}`

describe('the key table', () => {
  const implemented = [
    'w',
    'h',
    'c',
    'g',
    'x',
    'y',
    'z',
    'dpr',
    'q',
    'f',
    'ar',
    'r',
    'a',
    'e',
    'bo',
    'b',
    'o',
    'fl',
    't',
    'd',
  ]
  const notImplemented = [
    'l',
    'u',
    'if',
    'fn',
    'bl',
    'pg',
    'dn',
    'cs',
    'co',
    'ac',
    'af',
    'br',
    'dl',
    'du',
    'eo',
    'fps',
    'ki',
    'so',
    'sp',
    'vc',
    'vs',
    'p',
  ]

  test('recognises every Cloudinary key plus $variables, and nothing else', () => {
    for (const key of [...implemented, ...notImplemented, '$foo']) expect(isKnownKey(key)).toBe(true)
    for (const key of ['ab', 'W', 'width', '', '$', 'e2']) expect(isKnownKey(key)).toBe(false)
    expect([...PARAMS.keys()].sort()).toEqual([...implemented, ...notImplemented].sort())
  })

  test.each(implemented)('%s is implemented', (key) => expect(PARAMS.get(key)?.implemented).toBe(true))

  test.each(notImplemented)('%s is recognised but refused: "Transformation parameter not supported: %s"', (key) => {
    expectError(parseComponent(`${key}_1`), 400, `Transformation parameter not supported: ${key}`)
  })

  test('$variables are recognised but refused', () => {
    expectError(parseComponent('$width_100'), 400, 'Transformation parameter not supported: $width')
  })

  test('a variable reference as a value is refused', () => {
    expectError(parseComponent('w_$width'), 400, 'Unsupported width in transformation: $width')
  })

  test('an unknown key is "Invalid transformation parameter: <key>"', () => {
    expectError(parseComponent('ab_cd'), 400, 'Invalid transformation parameter: ab')
    expectError(parseComponent('c_fill,zz_1'), 400, 'Invalid transformation parameter: zz')
  })
})

describe('w, h: pixels or a multiple of the image', () => {
  accepts([
    ['w_80', { width: { kind: 'px', value: 80 } }],
    ['h_120', { height: { kind: 'px', value: 120 } }],
    ['w_1', { width: { kind: 'px', value: 1 } }],
    ['w_1.0', { width: { kind: 'rel', value: 1 } }],
    ['w_0.5', { width: { kind: 'rel', value: 0.5 } }],
    ['w_2.0', { width: { kind: 'rel', value: 2 } }],
    ['w_100000', { width: { kind: 'px', value: 100000 } }],
  ])
  refuses(invalid('width'), [
    'w_0',
    'w_0.0',
    'w_0.0000001',
    'w_abc',
    'w_-5',
    'w_100001',
    'w_1e3',
    'w_',
    'w_.5',
    'w_5.',
    'w_100.5',
  ])
  refuses(invalid('height'), ['h_0'])
  refuses(unsupported('width'), ['w_auto', 'w_auto:100', 'w_iw', 'w_iw_div_2'])
  refuses(unsupported('height'), ['h_ih'])
})

describe('c: crop modes', () => {
  const modes = ['scale', 'fit', 'limit', 'mfit', 'fill', 'lfill', 'pad', 'lpad', 'mpad', 'crop', 'thumb'] as const
  accepts(modes.map((mode): [string, Component] => [`c_${mode}`, { crop: mode }]))
  accepts([['c_fill_pad,g_auto', { crop: 'fill_pad', gravity: { kind: 'auto' } }]])
  refuses(unsupported('crop'), ['c_auto', 'c_auto_pad', 'c_imagga_crop', 'c_imagga_scale'])
  refuses(invalid('crop'), ['c_bogus', 'c_', 'c_FILL'])
})

describe('g: gravity', () => {
  const compass = [
    'north_west',
    'north',
    'north_east',
    'west',
    'center',
    'east',
    'south_west',
    'south',
    'south_east',
  ] as const
  accepts(compass.map((value): [string, Component] => [`g_${value}`, { gravity: { kind: 'compass', value } }]))
  accepts([
    ['g_face', { gravity: { kind: 'face', mode: 'face', fallback: 'north' } }],
    ['g_faces', { gravity: { kind: 'face', mode: 'faces', fallback: 'north' } }],
    ['g_face:center', { gravity: { kind: 'face', mode: 'face', fallback: 'center' } }],
    ['g_faces:center', { gravity: { kind: 'face', mode: 'faces', fallback: 'center' } }],
    ['g_face:auto', { gravity: { kind: 'face', mode: 'face', fallback: 'auto' } }],
    ['g_faces:auto', { gravity: { kind: 'face', mode: 'faces', fallback: 'auto' } }],
    ['g_auto', { gravity: { kind: 'auto' } }],
  ])
  refuses(unsupported('gravity'), [
    'g_custom',
    'g_custom:face',
    'g_xy_center',
    'g_liquid',
    'g_ocr_text',
    'g_adv_face',
    'g_auto:subject',
    'g_body',
  ])
  refuses(invalid('gravity'), ['g_middle', 'g_', 'g_North'])
})

describe('x, y: offsets', () => {
  accepts([
    ['x_10', { x: { kind: 'px', value: 10 } }],
    ['x_-10', { x: { kind: 'px', value: -10 } }],
    ['y_0', { y: { kind: 'px', value: 0 } }],
    ['y_0.5', { y: { kind: 'rel', value: 0.5 } }],
    ['x_1.0', { x: { kind: 'rel', value: 1 } }],
  ])
  refuses(invalid('x'), ['x_1.5', 'x_abc', 'x_', 'x_100001'])
  refuses(invalid('y'), ['y_-1.5'])
})

describe('z, dpr: positive factors', () => {
  accepts([
    ['z_0.7', { zoom: 0.7 }],
    ['z_2', { zoom: 2 }],
    ['dpr_2', { dpr: 2 }],
    ['dpr_2.0', { dpr: 2 }],
    ['dpr_1.5', { dpr: 1.5 }],
    ['dpr_0.5', { dpr: 0.5 }],
  ])
  refuses(invalid('zoom'), ['z_0', 'z_-1', 'z_abc', 'z_101', 'z_0.0000009'])
  accepts([['z_0.000001', { zoom: 0.000001 }]]) // the smallest value JS prints without an exponent
  refuses(invalid('dpr'), ['dpr_0', 'dpr_0.0', 'dpr_11', 'dpr_x'])
  refuses(unsupported('dpr'), ['dpr_auto'])
})

describe('q: quality', () => {
  accepts([
    ['q_80', { quality: { kind: 'fixed', value: 80 } }],
    ['q_1', { quality: { kind: 'fixed', value: 1 } }],
    ['q_100', { quality: { kind: 'fixed', value: 100 } }],
    ['q_80:420', { quality: { kind: 'fixed', value: 80, chroma: 420 } }],
    ['q_80:444', { quality: { kind: 'fixed', value: 80, chroma: 444 } }],
    ['q_auto', { quality: { kind: 'auto', level: 'good' } }],
    ['q_auto:best', { quality: { kind: 'auto', level: 'best' } }],
    ['q_auto:good', { quality: { kind: 'auto', level: 'good' } }],
    ['q_auto:eco', { quality: { kind: 'auto', level: 'eco' } }],
    ['q_auto:low', { quality: { kind: 'auto', level: 'low' } }],
  ])
  refuses(invalid('quality'), [
    'q_0',
    'q_101',
    'q_80.5',
    'q_80:422',
    'q_auto:great',
    'q_abc',
    'q_',
    'q_80:420:1',
    'q_auto:good:x',
  ])
  refuses(unsupported('quality'), ['q_auto:sensitive', 'q_auto:good:sensitive', 'q_jpegmini'])
})

describe('f: output format', () => {
  accepts([
    ['f_jpg', { format: 'jpg' }],
    ['f_jpeg', { format: 'jpg' }],
    ['f_png', { format: 'png' }],
    ['f_webp', { format: 'webp' }],
    ['f_gif', { format: 'gif' }],
    ['f_auto', { format: 'auto' }],
    ['f_auto:image', { format: 'auto' }],
  ])
  test.each(['avif', 'bmp', 'tiff', 'tif', 'ico', 'heic', 'jxl'])(
    'f_%s → 400 Unsupported output format %s',
    (format) => {
      expectError(parseComponent(`f_${format}`), 400, `Unsupported output format ${format}`)
    },
  )
  refuses(invalid('format'), ['f_xyz', 'f_', 'f_JPG'])
  refuses(unsupported('format'), ['f_auto:video', 'f_auto:animated'])
})

describe('ar: aspect ratio', () => {
  accepts([
    ['ar_16:9', { aspectRatio: 16 / 9 }],
    ['ar_1:1', { aspectRatio: 1 }],
    ['ar_1.5', { aspectRatio: 1.5 }],
    ['ar_2', { aspectRatio: 2 }],
    ['ar_0.5:1', { aspectRatio: 0.5 }],
  ])
  refuses(invalid('aspect_ratio'), ['ar_0:1', 'ar_16:0', 'ar_a:b', 'ar_1:2:3', 'ar_', 'ar_-1', 'ar_1:10000'])
})

describe('r: radius (CSS corner order TL, TR, BR, BL)', () => {
  accepts([
    ['r_20', { radius: { kind: 'px', corners: [20, 20, 20, 20] } }],
    ['r_20:0', { radius: { kind: 'px', corners: [20, 0, 20, 0] } }],
    ['r_20:0:40', { radius: { kind: 'px', corners: [20, 0, 40, 0] } }],
    ['r_20:0:40:60', { radius: { kind: 'px', corners: [20, 0, 40, 60] } }],
    ['r_0', { radius: { kind: 'px', corners: [0, 0, 0, 0] } }],
    ['r_max', { radius: { kind: 'max' } }],
  ])
  refuses(invalid('radius'), ['r_-1', 'r_1:2:3:4:5', 'r_abc', 'r_max:1', 'r_', 'r_1.5', 'r_1::2'])
})

describe('a: angle', () => {
  accepts([
    ['a_90', { angles: [{ kind: 'deg', value: 90 }] }],
    ['a_-45', { angles: [{ kind: 'deg', value: -45 }] }],
    [
      'a_hflip.45',
      {
        angles: [
          { kind: 'mode', value: 'hflip' },
          { kind: 'deg', value: 45 },
        ],
      },
    ],
    [
      'a_45.hflip',
      {
        angles: [
          { kind: 'deg', value: 45 },
          { kind: 'mode', value: 'hflip' },
        ],
      },
    ],
    ['a_vflip', { angles: [{ kind: 'mode', value: 'vflip' }] }],
    ['a_ignore', { angles: [{ kind: 'mode', value: 'ignore' }] }],
    ['a_auto_right', { angles: [{ kind: 'mode', value: 'auto_right' }] }],
    ['a_auto_left', { angles: [{ kind: 'mode', value: 'auto_left' }] }],
  ])
  refuses(invalid('angle'), ['a_361', 'a_-361', 'a_flip', 'a_hflip.', 'a_', 'a_1.2.3.4.5.6.7.8.9'])
  refuses(unsupported('angle'), ['a_exif'])
})

describe('e: effects, with Cloudinary default levels', () => {
  accepts([
    ['e_grayscale', { effect: { name: 'grayscale', level: 0 } }],
    ['e_negate', { effect: { name: 'negate', level: 0 } }],
    ['e_sepia', { effect: { name: 'sepia', level: 80 } }],
    ['e_sepia:50', { effect: { name: 'sepia', level: 50 } }],
    ['e_blur', { effect: { name: 'blur', level: 100 } }],
    ['e_blur:2000', { effect: { name: 'blur', level: 2000 } }],
    ['e_blur_faces', { effect: { name: 'blur_faces', level: 500 } }],
    ['e_pixelate', { effect: { name: 'pixelate', level: 0 } }], // 0 = automatic cell size
    ['e_pixelate:20', { effect: { name: 'pixelate', level: 20 } }],
    ['e_pixelate_faces', { effect: { name: 'pixelate_faces', level: 0 } }],
    ['e_pixelate_faces:200', { effect: { name: 'pixelate_faces', level: 200 } }],
    ['e_brightness', { effect: { name: 'brightness', level: 80 } }],
    ['e_brightness:-99', { effect: { name: 'brightness', level: -99 } }],
    ['e_contrast', { effect: { name: 'contrast', level: 0 } }],
    ['e_contrast:50', { effect: { name: 'contrast', level: 50 } }],
    ['e_contrast:level_-30', { effect: { name: 'contrast', level: -30 } }],
    ['e_contrast:level_30;type_sigmoidal', { effect: { name: 'contrast', level: 30 } }],
    ['e_saturation', { effect: { name: 'saturation', level: 80 } }],
    ['e_saturation:-100', { effect: { name: 'saturation', level: -100 } }],
    ['e_sharpen', { effect: { name: 'sharpen', level: 100 } }],
    ['e_vignette', { effect: { name: 'vignette', level: 20 } }],
    ['e_vignette:0', { effect: { name: 'vignette', level: 0 } }],
    ['e_blackwhite', { effect: { name: 'blackwhite', level: 50 } }],
  ])
  refuses(invalid('effect'), [
    'e_sparkle',
    'e_',
    'e_sepia:0',
    'e_sepia:101',
    'e_sepia:',
    'e_sepia:5.5',
    'e_blur:2001',
    'e_pixelate:0',
    'e_pixelate_faces:201',
    'e_brightness:-100',
    'e_contrast:101',
    'e_contrast:level_x',
    'e_contrast:type_bogus',
    'e_grayscale:50',
    'e_negate:1',
    'e_vignette:101',
    'e_blackwhite:-1',
    'e_saturation:101',
    'e_sharpen:0',
  ])
  refuses(unsupported('effect'), [
    'e_colorize',
    'e_colorize:50',
    'e_oil_paint',
    'e_improve:outdoor',
    'e_contrast:level_30;type_linear',
  ])

  test('only the last e_ of a component applies', () => {
    expect(component('e_sepia,e_blur:300')).toEqual({ effect: { name: 'blur', level: 300 } })
  })

  test('an earlier bad e_ is still an error', () => {
    expectError(parseComponent('e_bogus,e_blur'), 400, 'Invalid effect in transformation: bogus')
  })
})

describe('bo: border', () => {
  accepts([
    ['bo_3px_solid_black', { border: { width: 3, color: { r: 0, g: 0, b: 0, a: 255 } } }],
    ['bo_3px_solid_rgb:ff000080', { border: { width: 3, color: { r: 255, g: 0, b: 0, a: 128 } } }],
  ])
  refuses(invalid('border'), [
    'bo_3px_dashed_black',
    'bo_0px_solid_black',
    'bo_3px_solid_nocolour',
    'bo_3_solid_black',
    'bo_',
    'bo_px_solid_red',
  ])
})

describe('b: background colour', () => {
  const rgba = (r: number, g: number, b: number, a = 255): Component => ({ background: { r, g, b, a } })
  accepts([
    ['b_white', rgba(255, 255, 255)],
    ['b_black', rgba(0, 0, 0)],
    ['b_red', rgba(255, 0, 0)],
    ['b_green', rgba(0, 128, 0)],
    ['b_lime', rgba(0, 255, 0)],
    ['b_blue', rgba(0, 0, 255)],
    ['b_gray', rgba(128, 128, 128)],
    ['b_grey', rgba(128, 128, 128)],
    ['b_orange', rgba(255, 165, 0)],
    ['b_White', rgba(255, 255, 255)],
    ['b_transparent', rgba(0, 0, 0, 0)],
    ['b_none', rgba(0, 0, 0, 0)],
    ['b_rgb:f00', rgba(255, 0, 0)],
    ['b_rgb:f008', rgba(255, 0, 0, 136)],
    ['b_rgb:00ff00', rgba(0, 255, 0)],
    ['b_rgb:FF000080', rgba(255, 0, 0, 128)],
  ])
  refuses(invalid('background'), [
    'b_rgb:ff00f',
    'b_rgb:gg0000',
    'b_nocolour',
    'b_rgb:',
    'b_',
    'b_#ff0000',
    'b_rgb:fffffffff',
  ])
  refuses(unsupported('background'), ['b_auto', 'b_auto:predominant', 'b_blurred', 'b_gen_fill'])

  test('all the named colours the brief requires exist', () => {
    const names = [
      'white',
      'black',
      'red',
      'green',
      'blue',
      'yellow',
      'orange',
      'purple',
      'pink',
      'gray',
      'grey',
      'transparent',
      'none',
      'brown',
      'cyan',
      'magenta',
      'silver',
      'navy',
      'teal',
      'maroon',
      'olive',
      'lime',
      'aqua',
      'fuchsia',
    ]
    for (const name of names) expect(parseComponent(`b_${name}`).ok).toBe(true)
  })
})

describe('o: opacity', () => {
  accepts([
    ['o_0', { opacity: 0 }],
    ['o_50', { opacity: 50 }],
    ['o_100', { opacity: 100 }],
  ])
  refuses(invalid('opacity'), ['o_101', 'o_-1', 'o_50.5', 'o_'])
})

describe('fl: flags', () => {
  accepts([
    ['fl_progressive', { flags: ['progressive'] }],
    ['fl_progressive.lossy', { flags: ['lossy', 'progressive'] }],
    ['fl_lossy.progressive.lossy', { flags: ['lossy', 'progressive'] }],
    ['fl_attachment', { flags: ['attachment'] }],
    ['fl_getinfo', { flags: ['getinfo'] }],
    ['fl_attachment:my_file-1!', { flags: ['attachment'], attachmentName: 'my_file-1!' }],
    ['fl_attachment:my%20file.lossy', { flags: ['attachment', 'lossy'], attachmentName: 'my file' }],
    [
      'fl_ignore_aspect_ratio.strip_profile.keep_iptc.keep_attribution.force_strip.preserve_transparency.immutable_cache',
      {
        flags: [
          'force_strip',
          'ignore_aspect_ratio',
          'immutable_cache',
          'keep_attribution',
          'keep_iptc',
          'preserve_transparency',
          'strip_profile',
        ],
      },
    ],
  ])
  test('an unknown flag is "Invalid flag in transformation: <flag>"', () => {
    expectError(parseComponent('fl_pdf'), 400, 'Invalid flag in transformation: pdf')
    expectError(parseComponent('fl_lossy.pdf'), 400, 'Invalid flag in transformation: pdf')
    expectError(parseComponent('fl_lossy.'), 400, 'Invalid flag in transformation: ')
  })
  test('attachment names are limited to [A-Za-z0-9_-! ]', () => {
    expectError(parseComponent('fl_attachment:a$b'), 400, 'Invalid flag in transformation: attachment:a$b')
    expectError(parseComponent('fl_attachment:'), 400, 'Invalid flag in transformation: attachment:')
    expectError(parseComponent('fl_attachment:a.b'), 400, 'Invalid flag in transformation: b')
    expectError(parseComponent('fl_attachment:a.attachment:b'), 400, 'Invalid flag in transformation: attachment:b')
  })
  test('real Cloudinary flags we do not implement are "Unsupported flag"', () => {
    expectError(parseComponent('fl_png8'), 400, 'Unsupported flag in transformation: png8')
    expectError(parseComponent('fl_progressive:semi'), 400, 'Unsupported flag in transformation: progressive:semi')
  })
})

describe('t: named transformations', () => {
  accepts([
    ['t_avatar', { named: ['avatar'] }],
    ['t_a.b', { named: ['a', 'b'] }],
    ['t_media-lib_thumb', { named: ['media-lib_thumb'] }],
  ])
  refuses(invalid('transformation name'), ['t_', 't_a..b', 't_a!', 't_a.b.c.d.e.f.g.h.i.j.k'])
})

describe('d: default image', () => {
  accepts([
    ['d_avatar.png', { defaultImage: 'avatar.png' }],
    ['d_avatars:default.png', { defaultImage: 'avatars/default.png' }],
    ['d_a:b:c-d_e.jpg', { defaultImage: 'a/b/c-d_e.jpg' }],
  ])
  refuses(invalid('default_image'), [
    'd_',
    'd_..:x.png',
    'd_a:.:b',
    'd_a::b',
    'd_:a',
    'd_a%2Fb',
    'd_a b',
    'd_a/b'.replace('/', '%2F'),
  ])
})
