/**
 * g_faces window selection (geometry.ts `facesWindow`, used by c_fill/c_lfill): every face when
 * they fit (centred on them, as before), else the window that keeps the most faces whole.
 * Synthetic face positions, so every expectation is exact.
 */
import { describe, expect, test } from 'bun:test'
import { facesWindow, focusFromFaces, planGeometry } from '../../../src/image/geometry.ts'
import type { Component } from '../../../src/url/types.ts'

const px = (value: number) => ({ kind: 'px', value }) as const
const SRC = { width: 1000, height: 600 }
const faces = (mode: 'face' | 'faces') => ({ kind: 'face', mode, fallback: 'north' }) as const
const whole = (f: { x: number; y: number; w: number; h: number }, r: { x: number; y: number; w: number; h: number }) =>
  f.x >= r.x - 1e-9 && f.y >= r.y - 1e-9 && f.x + f.w <= r.x + r.w + 1e-9 && f.y + f.h <= r.y + r.h + 1e-9

describe('facesWindow', () => {
  test('all faces fit: centred on the box around them (unchanged behaviour)', () => {
    const f = [
      { x: 300, y: 100, w: 100, h: 130 },
      { x: 500, y: 200, w: 80, h: 100 },
    ]
    // union x 300..580 → centre 440; window 400 wide → x 240
    expect(facesWindow(f, SRC, 400, 600)).toEqual({ x: 240, y: 0, w: 400, h: 600 })
  })
  test('faces spread wider than the window: keeps the most faces whole', () => {
    // Two people on the left, one on the right; the union-centred window (x 300) cuts them all.
    const f = [
      { x: 20, y: 100, w: 90, h: 120 },
      { x: 150, y: 120, w: 90, h: 120 },
      { x: 880, y: 100, w: 90, h: 120 },
    ]
    const w = facesWindow(f, SRC, 400, 600)
    expect(f.filter((x) => whole(x, w)).length).toBe(2)
    expect(whole(f[0]!, w) && whole(f[1]!, w)).toBe(true)
    // … and centres on the faces it keeps (x 20..240 → centre 130), clamped at the edge.
    expect(w.x).toBe(0)
  })
  test('tie on the count: more face area wins', () => {
    const f = [
      { x: 0, y: 100, w: 60, h: 80 },
      { x: 800, y: 100, w: 150, h: 200 },
    ]
    const w = facesWindow(f, SRC, 300, 600)
    expect(whole(f[1]!, w)).toBe(true)
  })
  test('a face larger than the window: the most of it', () => {
    const f = [{ x: 100, y: 0, w: 500, h: 600 }]
    const w = facesWindow(f, SRC, 400, 600)
    expect(w.x).toBeGreaterThanOrEqual(100)
    expect(w.x + w.w).toBeLessThanOrEqual(600)
  })
})

describe('planGeometry with g_faces', () => {
  const spread = focusFromFaces([
    { x: 20, y: 100, w: 90, h: 120 },
    { x: 150, y: 120, w: 90, h: 120 },
    { x: 880, y: 100, w: 90, h: 120 },
  ])
  test('c_fill uses the best window', () => {
    const p = planGeometry(
      { crop: 'fill', width: px(200), height: px(300), gravity: faces('faces') } as Component,
      SRC,
      spread,
    )
    expect(p.extract).toEqual({ x: 0, y: 0, w: 400, h: 600 })
  })
  test('c_fill offsets still apply to the chosen window', () => {
    const p = planGeometry(
      {
        crop: 'fill',
        width: px(200),
        height: px(300),
        gravity: faces('faces'),
        x: { kind: 'rel', value: 0.1 },
      } as Component,
      SRC,
      spread,
    )
    expect(p.extract!.x).toBe(100)
  })
  test('g_face (largest face) is unchanged', () => {
    const one = focusFromFaces([
      { x: 800, y: 100, w: 100, h: 100 },
      { x: 100, y: 100, w: 50, h: 50 },
    ])
    const p = planGeometry(
      { crop: 'fill', width: px(200), height: px(300), gravity: faces('face') } as Component,
      SRC,
      one,
    )
    expect(p.extract).toEqual({ x: 600, y: 0, w: 400, h: 600 })
  })
  test('c_crop keeps centring on the box around all faces', () => {
    const p = planGeometry(
      { crop: 'crop', width: px(200), height: px(200), gravity: faces('faces') } as Component,
      SRC,
      spread,
    )
    // union x 20..970, y 100..240 → centre (495, 170)
    expect(p.extract).toEqual({ x: 395, y: 70, w: 200, h: 200 })
  })
  test('no faces: the fallback gravity', () => {
    const p = planGeometry(
      {
        crop: 'fill',
        width: px(200),
        height: px(300),
        gravity: { kind: 'face', mode: 'faces', fallback: 'center' },
      } as Component,
      SRC,
      focusFromFaces([]),
    )
    expect(p.extract).toEqual({ x: 300, y: 0, w: 400, h: 600 })
  })
})
