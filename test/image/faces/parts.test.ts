/** Building blocks of the face detector on synthetic data: cascades, grey, integrals, patches, grouping, NMS. */
import { describe, expect, test } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { cascade, decodeCascade } from '../../../src/image/faces/cascade.ts'
import { ALT2, DEFAULT, EYE } from '../../../src/image/faces/cascades.gen.ts'
import { toGray } from '../../../src/image/faces/gray.ts'
import { groupHits, iou, nms, type Hit } from '../../../src/image/faces/group.ts'
import { allocScanBuffers, levelIntegral, type Gray } from '../../../src/image/faces/haar.ts'
import { rotateGray } from '../../../src/image/faces/rotate.ts'
import { samplePatch } from '../../../src/image/faces/focus.ts'
import { halve } from '../../../src/image/faces/pyramid.ts'

describe('embedded cascades', () => {
  test('alt2 and default load with their known shapes', () => {
    const a = cascade('alt2')
    expect([a.winW, a.winH, a.nStages, a.stageWeak[a.nStages]]).toEqual([20, 20, 20, 1047])
    const d = cascade('default')
    expect([d.winW, d.winH, d.nStages, d.stageWeak[d.nStages]]).toEqual([24, 24, 25, 2913])
    expect(a.maxNodes).toBe(2)
    expect(d.maxNodes).toBe(1)
    const e = cascade('eye')
    expect([e.winW, e.winH, e.nStages, e.maxNodes]).toEqual([20, 20, 24, 1])
  })
  test('compact: a few hundred KB at most', () => {
    expect(ALT2.length + DEFAULT.length + EYE.length).toBeLessThan(300_000)
  })
  test('bad data is refused', () => {
    expect(() => decodeCascade(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow('bad magic')
  })
  // The converter needs Debian's opencv-data (not on CI): when present, it must reproduce the file.
  const xmlDir = '/usr/share/opencv4/haarcascades'
  const haveXml = existsSync(`${xmlDir}/haarcascade_frontalface_alt2.xml`)
  test.skipIf(!haveXml)('the converter reproduces the embedded data from the OpenCV XML', async () => {
    const { convert, SOURCES } = await import('../../../scripts/build-face-cascades.ts')
    const embedded: Record<string, string> = { alt2: ALT2, default: DEFAULT, eye: EYE }
    for (const [name, file] of Object.entries(SOURCES)) {
      const bin = convert(readFileSync(`${xmlDir}/${file}`, 'utf8'))
      expect(Buffer.from(bin).toString('base64')).toBe(embedded[name]!)
    }
  })
})

describe('toGray', () => {
  const ramp = (w: number, h: number) => {
    const data = new Uint8Array(w * h * 4)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([x, x, x, 255], (y * w + x) * 4)
    return { width: w, height: h, data }
  }
  test('luma weights as OpenCV (pure red, green, blue)', () => {
    const data = new Uint8Array([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255])
    const g = toGray({ width: 3, height: 1, data })
    expect(Array.from(g.data).map((v) => Math.round(v))).toEqual([76, 150, 29])
  })
  test('area reduction keeps the mean and averages across boxes', () => {
    const g = toGray(ramp(100, 40), 4)
    expect([g.width, g.height]).toEqual([25, 10])
    expect(g.data[0]).toBeCloseTo(1.5, 4) // mean of 0..3
    expect(g.data[24]).toBeCloseTo(97.5, 4)
    const u = toGray({ width: 37, height: 23, data: new Uint8Array(37 * 23 * 4).fill(200) }, 1.7)
    for (const v of u.data) expect(v).toBeCloseTo(200 * ((4899 + 9617 + 1868) / 16384), 3)
  })
  test('an unaligned pixel buffer gives the same result', () => {
    const b = ramp(33, 9)
    const shifted = new Uint8Array(b.data.length + 1).subarray(1)
    shifted.set(b.data)
    expect(toGray({ ...b, data: shifted }, 1.5).data).toEqual(toGray(b, 1.5).data)
  })
})

describe('integral images and octaves', () => {
  test('sum and squared sum of a level', () => {
    const g: Gray = { width: 3, height: 2, data: Float32Array.from([1, 2, 3, 4, 5, 6]) }
    const buffers = allocScanBuffers(64, 8)
    levelIntegral(g, 3, 2, buffers)
    const ii = buffers.integral
    expect(ii.sum[2 * ii.stride + 3]).toBe(21)
    expect(ii.sq[2 * ii.stride + 3]).toBe(91)
    expect(ii.sum[1 * ii.stride + 2]).toBe(3)
  })
  test('halve averages 2×2 blocks', () => {
    const g: Gray = { width: 4, height: 2, data: Float32Array.from([0, 2, 4, 6, 2, 4, 6, 8]) }
    expect(Array.from(halve(g).data)).toEqual([2, 6])
  })
})

describe('rotation and patches agree on coordinates', () => {
  // A bright dot at (30, 20) of a 64×48 image: wherever a rotated copy shows it, `back` maps it home.
  const g: Gray = { width: 64, height: 48, data: new Float32Array(64 * 48) }
  for (let y = 19; y <= 21; y++) for (let x = 29; x <= 31; x++) g.data[y * 64 + x] = 255
  test.each([0, 22, -35, 90])('rotateGray %p°', (deg) => {
    const r = rotateGray(g, deg, 1, 0)
    let bx = 0,
      by = 0,
      m = -1
    r.image.data.forEach((v, i) => {
      if (v > m) {
        m = v
        bx = i % r.image.width
        by = Math.floor(i / r.image.width)
      }
    })
    const [x, y] = r.back(bx + 0.5, by + 0.5)
    expect(Math.hypot(x - 30.5, y - 20.5)).toBeLessThan(1.5)
  })
  test('samplePatch centred on the dot shows it in the middle, at any angle', () => {
    for (const deg of [0, 30, -60]) {
      const p = samplePatch(g, { cx: 30.5, cy: 20.5, scale: 1, angle: deg, width: 11, outside: 0 })
      expect(p.data[5 * 11 + 5]).toBeGreaterThan(200)
    }
  })
})

describe('grouping and suppression', () => {
  const hit = (x: number, y: number, s: number, score = 1): Hit => ({ x, y, w: s, h: s, score })
  test('neighbouring windows merge into one averaged detection; stragglers are dropped', () => {
    const hits = [hit(100, 100, 40), hit(102, 101, 40), hit(99, 103, 44), hit(300, 50, 40)]
    const g = groupHits(hits, 2)
    expect(g.length).toBe(1)
    expect(g[0]!.members).toBe(3)
    expect(g[0]!.x).toBeCloseTo(100.33, 1)
    expect(g[0]!.w).toBeCloseTo(41.33, 1)
    expect(groupHits(hits, 1).length).toBe(2)
  })
  test('windows of clearly different size do not merge', () => {
    expect(groupHits([hit(100, 100, 40), hit(100, 100, 80)], 1).length).toBe(2)
  })
  test('nms keeps the best of overlapping boxes and any separate one', () => {
    const a = { x: 0, y: 0, w: 100, h: 100, score: 0.9 }
    const b = { x: 10, y: 10, w: 100, h: 100, score: 0.95 }
    const inner = { x: 20, y: 20, w: 30, h: 30, score: 0.99 }
    const far = { x: 300, y: 0, w: 50, h: 50, score: 0.5 }
    expect(nms([a, b, far])).toEqual([b, far])
    expect(nms([a, inner])).toEqual([inner]) // contained: one face
    expect(iou(a, a)).toBe(1)
    expect(iou(a, far)).toBe(0)
  })
})
