/**
 * The crop/resize rules (docs/compatibility.md, Crop modes), as plain numbers: what comes out of one component
 * applied to a 1000×600 (landscape) source.
 */
import { describe, expect, test } from 'bun:test'
import { focusFromFaces, mapRect, planGeometry } from '../../src/image/geometry.ts'
import { HttpError } from '../../src/lib/http-error.ts'
import type { Size } from '../../src/image/types.ts'
import type { CompassGravity, Component } from '../../src/url/types.ts'
import { px, rel, size } from '../support/image-fixtures.ts'

const SRC: Size = { width: 1000, height: 600 }
const out = (c: Component, src: Size = SRC) => size(planGeometry(c, src).output)
const plan = (c: Component, src: Size = SRC) => planGeometry(c, src)
const compass = (value: CompassGravity) => ({ kind: 'compass', value }) as const

describe('lengths', () => {
  test('no crop mode with w/h means c_scale', () => {
    expect(out({ width: px(200) })).toBe('200x120')
    expect(out({ width: px(200), height: px(100) })).toBe('200x100')
  })
  test('a decimal is a multiple of the current image', () => {
    expect(out({ crop: 'scale', width: rel(0.5) })).toBe('500x300')
    expect(out({ crop: 'scale', height: rel(1.5) })).toBe('1500x900')
    expect(out({ crop: 'scale', width: rel(1.0) })).toBe('1000x600')
  })
  test('dpr multiplies the requested dimensions, pixel or relative', () => {
    expect(out({ crop: 'scale', width: px(200), dpr: 2 })).toBe('400x240')
    expect(out({ crop: 'fill', width: px(100), height: px(100), dpr: 2 })).toBe('200x200')
    expect(out({ crop: 'scale', width: rel(0.25), dpr: 2 })).toBe('500x300')
  })
  test('a component holding only dpr resamples the image entering it [REC]', () => {
    expect(plan({ dpr: 2 })).toEqual({ resize: { width: 2000, height: 1200 }, output: { width: 2000, height: 1200 } })
    expect(plan({ dpr: 0.5 })).toEqual({ resize: { width: 500, height: 300 }, output: { width: 500, height: 300 } })
    expect(plan({ dpr: 1 })).toEqual({ output: { width: 1000, height: 600 } })
  })
  test('dpr beside other fields without a size has nothing to multiply [REC]', () => {
    expect(plan({ dpr: 2, quality: { kind: 'fixed', value: 80 } })).toEqual({ output: { width: 1000, height: 600 } })
  })
  test('ar derives the missing dimension', () => {
    expect(out({ crop: 'scale', width: px(200), aspectRatio: 1 })).toBe('200x200')
    expect(out({ crop: 'fill', height: px(100), aspectRatio: 16 / 9 })).toBe('178x100')
    // both given: w and h win
    expect(out({ crop: 'scale', width: px(200), height: px(50), aspectRatio: 1 })).toBe('200x50')
  })
  test('zero, negative or non-finite lengths are a 400 HttpError', () => {
    expect(() => plan({ width: px(0) })).toThrow(new HttpError(400, 'Invalid width in transformation: 0'))
    expect(() => plan({ height: rel(-0.5) })).toThrow(HttpError)
    expect(() => plan({ crop: 'fill', width: px(10), aspectRatio: 0 })).toThrow(HttpError)
    expect(() => plan({ crop: 'fill', width: px(10), dpr: 0 })).toThrow(HttpError)
  })
  test('a component without size or mode changes nothing', () => {
    expect(plan({})).toEqual({ output: { width: 1000, height: 600 } })
    expect(plan({ crop: 'fill' })).toEqual({ output: { width: 1000, height: 600 } })
    expect(plan({ gravity: compass('north') })).toEqual({ output: { width: 1000, height: 600 } })
  })
})

describe('c_scale', () => {
  test('one dimension keeps the aspect ratio, both distort', () => {
    expect(out({ crop: 'scale', width: px(200) })).toBe('200x120')
    expect(out({ crop: 'scale', height: px(300) })).toBe('500x300')
    expect(out({ crop: 'scale', width: px(200), height: px(200) })).toBe('200x200')
    expect(plan({ crop: 'scale', width: px(200), height: px(200) }).extract).toBeUndefined()
  })
  test('upscales', () => expect(out({ crop: 'scale', width: px(3000) })).toBe('3000x1800'))
  test('fl_ignore_aspect_ratio with one dimension keeps the other original', () => {
    expect(out({ crop: 'scale', width: px(200), flags: ['ignore_aspect_ratio'] })).toBe('200x600')
  })
  test('ar alone keeps the width and distorts to the ratio [REC]', () => {
    expect(out({ crop: 'scale', aspectRatio: 2 })).toBe('1000x500')
  })
  test('a size equal to the input plans no work', () => {
    expect(plan({ crop: 'scale', width: px(1000) })).toEqual({ output: { width: 1000, height: 600 } })
  })
})

describe('c_fit / c_limit / c_mfit', () => {
  test('fit: the largest size inside the box, aspect kept, up or down', () => {
    expect(out({ crop: 'fit', width: px(200), height: px(200) })).toBe('200x120')
    expect(out({ crop: 'fit', width: px(2000), height: px(2000) })).toBe('2000x1200')
    expect(out({ crop: 'fit', width: px(200) })).toBe('200x120')
    expect(out({ crop: 'fit', height: px(300) })).toBe('500x300')
    expect(out({ crop: 'fit', width: rel(0.5), height: rel(0.5) })).toBe('500x300')
    expect(out({ crop: 'fit', width: px(100), height: px(100), dpr: 2 })).toBe('200x120')
    expect(out({ crop: 'fit', width: px(300), aspectRatio: 1 })).toBe('300x180')
  })
  test('limit: like fit, but never upscales', () => {
    expect(out({ crop: 'limit', width: px(200), height: px(200) })).toBe('200x120')
    expect(out({ crop: 'limit', width: px(2000), height: px(2000) })).toBe('1000x600')
    expect(out({ crop: 'limit', width: px(1200) })).toBe('1000x600')
    expect(out({ crop: 'limit', height: px(300) })).toBe('500x300')
    expect(out({ crop: 'limit', width: px(300), height: px(300), dpr: 2 })).toBe('600x360')
    expect(out({ crop: 'limit', width: rel(2), height: rel(2) })).toBe('1000x600')
    expect(plan({ crop: 'limit', width: px(2000), height: px(2000) }).resize).toBeUndefined()
  })
  test('mfit: like fit, but never downscales', () => {
    expect(out({ crop: 'mfit', width: px(2000), height: px(2000) })).toBe('2000x1200')
    expect(out({ crop: 'mfit', width: px(200), height: px(200) })).toBe('1000x600')
  })
  test('ar alone gives fit modes nothing to fit into [REC]', () => {
    expect(out({ crop: 'fit', aspectRatio: 1 })).toBe('1000x600')
  })
})

describe('c_fill', () => {
  test('covers the box, then crops the overflow around the centre', () => {
    const p = plan({ crop: 'fill', width: px(200), height: px(200) })
    expect(size(p.output)).toBe('200x200')
    expect(p.extract).toEqual({ x: 200, y: 0, w: 600, h: 600 })
    expect(p.resize).toEqual({ width: 200, height: 200 })
  })
  test('one dimension: scaled with the aspect ratio, nothing cut', () => {
    expect(plan({ crop: 'fill', width: px(200) })).toEqual({
      resize: { width: 200, height: 120 },
      output: { width: 200, height: 120 },
    })
    expect(out({ crop: 'fill', height: px(300) })).toBe('500x300')
  })
  test('relative, dpr and ar', () => {
    expect(out({ crop: 'fill', width: rel(0.5), height: rel(0.5) })).toBe('500x300')
    expect(out({ crop: 'fill', width: px(80), height: px(120), dpr: 2 })).toBe('160x240')
    const p = plan({ crop: 'fill', width: px(300), aspectRatio: 3 })
    expect(size(p.output)).toBe('300x100')
    // the window is sub-pixel: 1000 × 333.3…, centred vertically
    expect(p.extract!.w).toBe(1000)
    expect(p.extract!.h).toBeCloseTo(1000 / 3, 6)
    expect(p.extract!.y).toBeCloseTo((600 - 1000 / 3) / 2, 6)
  })
  test('ar alone crops to the ratio without scaling (ar_1.0,c_fill squares)', () => {
    const p = plan({ crop: 'fill', aspectRatio: 1 })
    expect(p).toEqual({ extract: { x: 200, y: 0, w: 600, h: 600 }, output: { width: 600, height: 600 } })
  })
  test('upscales to cover', () => expect(out({ crop: 'fill', width: px(2000), height: px(2000) })).toBe('2000x2000'))
  test('compass gravity chooses the kept part, all nine points', () => {
    const at = (g: CompassGravity) => {
      const e = plan({ crop: 'fill', width: px(100), height: px(100), gravity: compass(g) }).extract!
      return [e.x, e.y]
    }
    // 1000×600 → window 600×600: only x moves.
    expect(at('north_west')).toEqual([0, 0])
    expect(at('west')).toEqual([0, 0])
    expect(at('south_west')).toEqual([0, 0])
    expect(at('north')).toEqual([200, 0])
    expect(at('center')).toEqual([200, 0])
    expect(at('south')).toEqual([200, 0])
    expect(at('north_east')).toEqual([400, 0])
    expect(at('east')).toEqual([400, 0])
    expect(at('south_east')).toEqual([400, 0])
    // Portrait source 600×1000, wide box → only y moves.
    const atY = (g: CompassGravity) =>
      plan({ crop: 'fill', width: px(300), height: px(100), gravity: compass(g) }, { width: 600, height: 1000 })
        .extract!.y
    expect([atY('north'), atY('center'), atY('south'), atY('north_east'), atY('west'), atY('south_west')]).toEqual([
      0, 400, 800, 0, 400, 800,
    ])
  })
  test('x/y with compass gravity shift the window inwards (in output pixels)', () => {
    // scale 100/600: 10 output px = 60 source px
    expect(
      plan({ crop: 'fill', width: px(100), height: px(100), gravity: compass('west'), x: px(10) }).extract!.x,
    ).toBeCloseTo(60, 6)
    expect(
      plan({ crop: 'fill', width: px(100), height: px(100), gravity: compass('east'), x: px(10) }).extract!.x,
    ).toBeCloseTo(340, 6)
    // a fraction stays a fraction of the source: 0.1 × 1000
    expect(
      plan({ crop: 'fill', width: px(100), height: px(100), gravity: compass('west'), x: rel(0.1) }).extract!.x,
    ).toBeCloseTo(100, 6)
  })
})

describe('c_lfill', () => {
  test('like fill when the original is larger', () => {
    expect(plan({ crop: 'lfill', width: px(200), height: px(200) })).toEqual(
      plan({ crop: 'fill', width: px(200), height: px(200) }),
    )
  })
  test('a smaller original is not resized, only cut to the box within it (400×200 → 800×100 gives 400×100)', () => {
    const p = plan({ crop: 'lfill', width: px(800), height: px(100) }, { width: 400, height: 200 })
    expect(p).toEqual({ extract: { x: 0, y: 50, w: 400, h: 100 }, output: { width: 400, height: 100 } })
  })
})

describe('c_crop', () => {
  test('cuts w×h out of the original without scaling, centred by default', () => {
    expect(plan({ crop: 'crop', width: px(200), height: px(100) })).toEqual({
      extract: { x: 400, y: 250, w: 200, h: 100 },
      output: { width: 200, height: 100 },
    })
  })
  test('one dimension keeps the other whole; oversized boxes are clamped to the image', () => {
    expect(out({ crop: 'crop', width: px(200) })).toBe('200x600')
    expect(out({ crop: 'crop', width: px(2000), height: px(100) })).toBe('1000x100')
  })
  test('relative sizes, dpr and ar', () => {
    expect(out({ crop: 'crop', width: rel(0.1), height: rel(0.1) })).toBe('100x60')
    expect(out({ crop: 'crop', width: px(100), height: px(50), dpr: 2 })).toBe('200x100')
    expect(out({ crop: 'crop', width: px(300), aspectRatio: 1.5 })).toBe('300x200')
  })
  test('x/y without gravity are the top-left corner, pixels or fractions', () => {
    expect(plan({ crop: 'crop', x: px(10), y: px(20), width: px(100), height: px(100) }).extract).toEqual({
      x: 10,
      y: 20,
      w: 100,
      h: 100,
    })
    expect(plan({ crop: 'crop', x: rel(0.5), y: rel(0.5), width: rel(0.1), height: rel(0.1) }).extract).toEqual({
      x: 500,
      y: 300,
      w: 100,
      h: 60,
    })
  })
  test('a region reaching past the edge from an explicit corner is cut at the edge [REC]', () => {
    expect(plan({ crop: 'crop', x: px(950), y: px(0), width: px(100), height: px(100) }).extract).toEqual({
      x: 950,
      y: 0,
      w: 50,
      h: 100,
    })
  })
  test('compass gravity anchors the region; x/y then offset it inwards', () => {
    expect(plan({ crop: 'crop', gravity: compass('north_west'), width: px(100), height: px(100) }).extract).toEqual({
      x: 0,
      y: 0,
      w: 100,
      h: 100,
    })
    expect(plan({ crop: 'crop', gravity: compass('south_east'), width: px(100), height: px(100) }).extract).toEqual({
      x: 900,
      y: 500,
      w: 100,
      h: 100,
    })
    expect(
      plan({ crop: 'crop', gravity: compass('south_east'), x: px(10), y: px(20), width: px(100), height: px(100) })
        .extract,
    ).toEqual({ x: 890, y: 480, w: 100, h: 100 })
    expect(plan({ crop: 'crop', gravity: compass('north'), width: px(100), height: px(100) }).extract).toEqual({
      x: 450,
      y: 0,
      w: 100,
      h: 100,
    })
  })
  test('an offset pushing past the edge keeps the region inside', () => {
    expect(
      plan({ crop: 'crop', gravity: compass('east'), x: px(-50), width: px(100), height: px(100) }).extract!.x,
    ).toBe(900)
  })
})

describe('face gravity', () => {
  const faces = focusFromFaces([
    { x: 800, y: 100, w: 100, h: 100 },
    { x: 100, y: 400, w: 50, h: 50 },
  ])
  const withFaces = (c: Component) => planGeometry(c, SRC, faces)
  test('g_face centres the window on the largest face, kept inside the image', () => {
    expect(
      withFaces({
        crop: 'crop',
        width: px(200),
        height: px(200),
        gravity: { kind: 'face', mode: 'face', fallback: 'north' },
      }).extract,
    ).toEqual({ x: 750, y: 50, w: 200, h: 200 })
    expect(
      withFaces({
        crop: 'fill',
        width: px(200),
        height: px(200),
        gravity: { kind: 'face', mode: 'face', fallback: 'north' },
      }).extract,
    ).toEqual({ x: 400, y: 0, w: 600, h: 600 })
  })
  test('g_faces centres on the box around all faces', () => {
    // union: x 100..900, y 100..450 → centre (500, 275)
    expect(
      withFaces({
        crop: 'crop',
        width: px(200),
        height: px(200),
        gravity: { kind: 'face', mode: 'faces', fallback: 'north' },
      }).extract,
    ).toEqual({ x: 400, y: 175, w: 200, h: 200 })
  })
  test('no face: g_face falls back to north, face:center to the centre', () => {
    const fill = (fallback: 'north' | 'center') =>
      planGeometry(
        { crop: 'fill', width: px(200), height: px(100), gravity: { kind: 'face', mode: 'face', fallback } },
        SRC,
      ).extract!
    expect(fill('north').y).toBe(0)
    expect(fill('center').y).toBe(50)
  })
  test('g_auto uses the faces, else the centre', () => {
    expect(withFaces({ crop: 'crop', width: px(200), height: px(200), gravity: { kind: 'auto' } }).extract!.x).toBe(400)
    expect(
      planGeometry({ crop: 'crop', width: px(200), height: px(200), gravity: { kind: 'auto' } }, SRC).extract,
    ).toEqual({ x: 400, y: 200, w: 200, h: 200 })
  })
  test('c_crop,g_face without a size cuts out the face; z widens it', () => {
    expect(withFaces({ crop: 'crop', gravity: { kind: 'face', mode: 'face', fallback: 'north' } }).extract).toEqual({
      x: 800,
      y: 100,
      w: 100,
      h: 100,
    })
    expect(
      withFaces({ crop: 'crop', zoom: 0.5, gravity: { kind: 'face', mode: 'face', fallback: 'north' } }).extract,
    ).toEqual({ x: 750, y: 50, w: 200, h: 200 })
  })
  test('faces cropped away earlier are ignored', () => {
    const gone = focusFromFaces([{ x: 2000, y: 0, w: 50, h: 50 }])
    expect(gone.face(SRC)).toBeUndefined()
  })
})

describe('gravity rules', () => {
  test('g_auto with a mode that never crops is a 400', () => {
    expect(() => plan({ crop: 'scale', width: px(100), gravity: { kind: 'auto' } })).toThrow(
      new HttpError(400, 'Conflicting transformation parameters: g_auto and c_scale'),
    )
    expect(() => plan({ crop: 'fit', width: px(100), height: px(100), gravity: { kind: 'auto' } })).toThrow(HttpError)
  })
  test('pad modes take compass gravity only', () => {
    expect(() =>
      plan({
        crop: 'pad',
        width: px(100),
        height: px(100),
        gravity: { kind: 'face', mode: 'face', fallback: 'north' },
      }),
    ).toThrow(HttpError)
  })
  test('compass gravity with a scale is harmless', () => {
    expect(out({ crop: 'scale', width: px(100), gravity: compass('north') })).toBe('100x60')
  })
})

describe('mapRect (face boxes follow the image)', () => {
  test('through a fill: cropped, then scaled', () => {
    const p = plan({ crop: 'fill', width: px(300), height: px(300) }) // window 600×600 at x=200, ×0.5
    expect(mapRect({ x: 400, y: 100, w: 100, h: 100 }, p, SRC)).toEqual({ x: 100, y: 50, w: 50, h: 50 })
  })
})

describe('every mode × every way of giving the size (1000×600 source)', () => {
  const variants: [string, Component][] = [
    ['w only', { width: px(200) }],
    ['h only', { height: px(300) }],
    ['w and h', { width: px(200), height: px(200) }],
    ['relative', { width: rel(0.5), height: rel(0.5) }],
    ['dpr 2', { width: px(100), height: px(100), dpr: 2 }],
    ['ar', { width: px(300), aspectRatio: 1 }],
  ]
  // Expected output per variant, in the order above.
  const table: Record<string, string[]> = {
    scale: ['200x120', '500x300', '200x200', '500x300', '200x200', '300x300'],
    fit: ['200x120', '500x300', '200x120', '500x300', '200x120', '300x180'],
    limit: ['200x120', '500x300', '200x120', '500x300', '200x120', '300x180'],
    mfit: ['1000x600', '1000x600', '1000x600', '1000x600', '1000x600', '1000x600'],
    fill: ['200x120', '500x300', '200x200', '500x300', '200x200', '300x300'],
    lfill: ['200x120', '500x300', '200x200', '500x300', '200x200', '300x300'],
    crop: ['200x600', '1000x300', '200x200', '500x300', '200x200', '300x300'],
    thumb: ['200x120', '500x300', '200x200', '500x300', '200x200', '300x300'],
    pad: ['200x120', '500x300', '200x200', '500x300', '200x200', '300x300'],
    lpad: ['200x120', '500x300', '200x200', '500x300', '200x200', '300x300'],
    mpad: ['1000x600', '1000x600', '1000x600', '1000x600', '1000x600', '1000x600'],
  }
  for (const [mode, expected] of Object.entries(table)) {
    test(`c_${mode}`, () => {
      expect(variants.map(([, v]) => out({ ...v, crop: mode as Component['crop'] }))).toEqual(expected)
    })
  }
  test('and upscaling requests, where the modes differ most', () => {
    const big = { width: px(2000), height: px(1000) }
    const modes = ['scale', 'fit', 'limit', 'mfit', 'fill', 'lfill', 'crop', 'thumb', 'pad', 'lpad', 'mpad'] as const
    expect(modes.map((m) => out({ ...big, crop: m }))).toEqual([
      '2000x1000',
      '1667x1000',
      '1000x600',
      '1667x1000',
      '2000x1000',
      '1000x600',
      '1000x600',
      '2000x1000',
      '2000x1000',
      '2000x1000',
      '2000x1000',
    ])
  })
})

describe('pad modes', () => {
  test('c_pad: fit, then centre on the canvas; compass gravity moves it', () => {
    expect(plan({ crop: 'pad', width: px(200), height: px(200) })).toEqual({
      resize: { width: 200, height: 120 },
      pad: { width: 200, height: 200, x: 0, y: 40 },
      output: { width: 200, height: 200 },
    })
    expect(plan({ crop: 'pad', width: px(200), height: px(200), gravity: compass('north') }).pad!.y).toBe(0)
    expect(plan({ crop: 'pad', width: px(200), height: px(200), gravity: compass('south') }).pad!.y).toBe(80)
    expect(plan({ crop: 'pad', width: px(200), height: px(100), gravity: compass('east') }).pad).toEqual({
      width: 200,
      height: 100,
      x: 33,
      y: 0,
    }) // 167 wide
    expect(plan({ crop: 'pad', width: px(200), height: px(100), gravity: compass('west') }).pad!.x).toBe(0)
  })
  test('ar alone pads to the ratio without scaling [REC]', () => {
    expect(plan({ crop: 'pad', aspectRatio: 1 })).toEqual({
      pad: { width: 1000, height: 1000, x: 0, y: 200 },
      output: { width: 1000, height: 1000 },
    })
  })
  test('c_lpad: a smaller original is padded, not scaled', () => {
    expect(plan({ crop: 'lpad', width: px(2000), height: px(2000) })).toEqual({
      pad: { width: 2000, height: 2000, x: 500, y: 700 },
      output: { width: 2000, height: 2000 },
    })
  })
  test('c_mpad: a smaller original is padded; a larger one is delivered unchanged', () => {
    expect(out({ crop: 'mpad', width: px(1200), height: px(1000) })).toBe('1200x1000')
    expect(plan({ crop: 'mpad', width: px(1200), height: px(1000) }).resize).toBeUndefined()
    expect(plan({ crop: 'mpad', width: px(200), height: px(200) })).toEqual({ output: { width: 1000, height: 600 } })
  })
})

describe('c_thumb', () => {
  const face = { kind: 'face', mode: 'face', fallback: 'north' } as const
  const faces = focusFromFaces([{ x: 600, y: 200, w: 100, h: 100 }])
  test('a window around the face with room around it, scaled to the box', () => {
    const p = planGeometry({ crop: 'thumb', width: px(150), height: px(150), gravity: face }, SRC, faces)
    expect(p.extract).toEqual({ x: 550, y: 150, w: 200, h: 200 }) // face is half the window
    expect(p.resize).toEqual({ width: 150, height: 150 })
  })
  test('z tightens (z>1) or widens (z<1) the window, never beyond the image', () => {
    expect(
      planGeometry({ crop: 'thumb', width: px(150), height: px(150), gravity: face, zoom: 2 }, SRC, faces).extract,
    ).toEqual({ x: 600, y: 200, w: 100, h: 100 })
    expect(
      planGeometry({ crop: 'thumb', width: px(150), height: px(150), gravity: face, zoom: 0.5 }, SRC, faces).extract,
    ).toEqual({ x: 450, y: 50, w: 400, h: 400 })
    expect(
      planGeometry({ crop: 'thumb', width: px(150), height: px(150), gravity: face, zoom: 0.1 }, SRC, faces).extract,
    ).toEqual({ x: 350, y: 0, w: 600, h: 600 }) // the whole height, centred on the face
  })
  test('a small face on a small box: the window is upscaled', () => {
    const p = planGeometry({ crop: 'thumb', width: px(300), height: px(300), gravity: face }, SRC, faces)
    expect(size(p.output)).toBe('300x300')
    expect(p.extract!.w).toBe(200)
  })
  test('no face: like fill around the fallback gravity', () => {
    expect(plan({ crop: 'thumb', width: px(100), height: px(100), gravity: face })).toEqual(
      plan({ crop: 'fill', width: px(100), height: px(100), gravity: compass('north') }),
    )
  })
})

describe('c_fill_pad (g_auto)', () => {
  const auto = { kind: 'auto' } as const
  test('fills when the crop keeps the whole focus', () => {
    const faces = focusFromFaces([{ x: 450, y: 250, w: 100, h: 100 }])
    expect(planGeometry({ crop: 'fill_pad', width: px(100), height: px(100), gravity: auto }, SRC, faces)).toEqual(
      planGeometry({ crop: 'fill', width: px(100), height: px(100), gravity: auto }, SRC, faces),
    )
  })
  test('pads instead of cutting into faces spread wider than the crop', () => {
    const faces = focusFromFaces([
      { x: 0, y: 250, w: 100, h: 100 },
      { x: 900, y: 250, w: 100, h: 100 },
    ])
    const p = planGeometry({ crop: 'fill_pad', width: px(100), height: px(100), gravity: auto }, SRC, faces)
    expect(size(p.output)).toBe('100x100')
    expect(p.extract).toBeUndefined() // everything kept…
    expect(p.resize).toEqual({ width: 100, height: 60 }) // …scaled to fit…
    expect(p.pad).toEqual({ width: 100, height: 100, x: 0, y: 20 }) // …and padded
  })
  test('needs g_auto', () => {
    expect(() => plan({ crop: 'fill_pad', width: px(100), height: px(100) })).toThrow(
      new HttpError(400, 'Crop mode fill_pad requires g_auto'),
    )
  })
})
