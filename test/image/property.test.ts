/**
 * Random chains (seeded, so failures reproduce) on a tiny image: deriveImage either refuses with
 * a 400 HttpError or produces exactly the size planChain predicted. Never anything else.
 */
import { expect, test } from 'bun:test'
import { encode } from '../../src/image/codecs.ts'
import { deriveImage, planChain } from '../../src/image/pipeline.ts'
import { HttpError } from '../../src/lib/http-error.ts'
import { CROP_MODES, type Component, type EffectName, type Gravity, type Length } from '../../src/url/types.ts'

let seed = 20240601
const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!
const maybe = <T>(p: number, f: () => T): T | undefined => (rnd() < p ? f() : undefined)

const MODES = CROP_MODES
const GRAVITIES: Gravity[] = [
  { kind: 'compass', value: 'north_east' },
  { kind: 'compass', value: 'south' },
  { kind: 'face', mode: 'face', fallback: 'north' },
  { kind: 'face', mode: 'faces', fallback: 'center' },
  { kind: 'auto' },
]
const EFFECTS: EffectName[] = [
  'grayscale',
  'sepia',
  'blur',
  'blur_faces',
  'pixelate',
  'pixelate_faces',
  'negate',
  'brightness',
  'contrast',
  'saturation',
  'sharpen',
  'vignette',
  'blackwhite',
]
const length = (): Length =>
  rnd() < 0.7
    ? { kind: 'px', value: 1 + Math.floor(rnd() * 90) }
    : { kind: 'rel', value: 0.05 + Math.round(rnd() * 150) / 100 }

function component(): Component {
  const c: Component = {
    crop: maybe(0.85, () => pick(MODES)),
    width: maybe(0.7, length),
    height: maybe(0.7, length),
    gravity: maybe(0.5, () => pick(GRAVITIES)),
    aspectRatio: maybe(0.2, () => 0.2 + Math.round(rnd() * 300) / 100),
    dpr: maybe(0.2, () => pick([1.5, 2, 3])),
    x: maybe(0.15, length),
    y: maybe(0.15, length),
    zoom: maybe(0.15, () => pick([0.3, 2.5])),
    radius: maybe(0.15, () => (rnd() < 0.5 ? { kind: 'max' } : { kind: 'px', corners: [5, 0, 9, 100] })),
    angles: maybe(0.2, () => [
      pick([
        { kind: 'deg', value: pick([90, -90, 180, 33, -145]) },
        { kind: 'mode', value: pick(['hflip', 'vflip', 'auto_right', 'auto_left']) },
      ] as const),
    ]),
    effect: maybe(0.25, () => ({ name: pick(EFFECTS), level: Math.floor(rnd() * 100) })),
    border: maybe(0.15, () => ({ width: 1 + Math.floor(rnd() * 4), color: { r: 1, g: 2, b: 3, a: 255 } })),
    background: maybe(0.15, () => ({ r: 9, g: 9, b: 9, a: pick([0, 128, 255]) })),
    opacity: maybe(0.15, () => Math.floor(rnd() * 101)),
  }
  for (const k of Object.keys(c) as (keyof Component)[]) if (c[k] === undefined) delete c[k]
  return c
}

test('120 random chains: a 400 HttpError or exactly the planned size', async () => {
  const w = 37
  const h = 23
  const data = new Uint8Array(w * h * 4).map((_, i) => (i * 31) & 255)
  const source = await encode({ width: w, height: h, data }, 'png', { quality: 100 })
  let derived = 0
  for (let i = 0; i < 120; i++) {
    const chain = Array.from({ length: 1 + Math.floor(rnd() * 3) }, component)
    const faces =
      rnd() < 0.5
        ? [
            { x: 5, y: 3, w: 10, h: 8 },
            { x: 25, y: 10, w: 6, h: 6 },
          ]
        : []
    const output = pick(['png', 'jpg', 'webp', 'gif'] as const)
    try {
      const planned = planChain(chain, { width: w, height: h }, undefined, faces)
      const out = await deriveImage({ bytes: source, format: 'png', chain, output, faces })
      expect([out.width, out.height]).toEqual([planned.output.width, planned.output.height])
      derived++
    } catch (e) {
      if (!(e instanceof HttpError))
        throw new Error(`chain ${JSON.stringify(chain)} faces ${JSON.stringify(faces)}: ${e}`)
    }
  }
  expect(derived).toBeGreaterThan(60) // most random chains are valid
  // 120 real derivations: a correctness check, not a timing one, so a busy machine must not fail it.
}, 60_000)
