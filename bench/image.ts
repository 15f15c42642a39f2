/**
 * Derive times per crop mode, with same-run baselines so numbers read as ratios on any machine:
 *   decode      – decode only (the floor: every derive pays it)
 *   nearest     – decode + imagescript's own nearest-neighbour resize + JPEG encode (what v1 offers)
 * Derives use shrink-on-load (JPEG decoded at 1/2–1/8 when the first step reduces ≥ 2×), which is
 * why most of them beat "decode only": that baseline is a full-size decode.
 * Run: bun run bench/image.ts [runs]
 */
import { Image } from 'imagescript'
import { decode, encode } from '../src/image/codecs.ts'
import { deriveImage } from '../src/image/pipeline.ts'
import { gradientPhoto as photo } from './photo.ts'
import type { Component } from '../src/url/types.ts'

const RUNS = Number(process.argv[2] ?? 15)
const px = (value: number) => ({ kind: 'px', value }) as const

async function median(fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 3; i++) await fn() // warm-up (JIT, WASM compile)
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now()
    await fn()
    times.push(performance.now() - t)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]!
}

const CASES: [string, Component][] = [
  ['scale w_200', { crop: 'scale', width: px(200) }],
  ['fit 200x200', { crop: 'fit', width: px(200), height: px(200) }],
  ['limit 200x200', { crop: 'limit', width: px(200), height: px(200) }],
  ['fill 80x120', { crop: 'fill', width: px(80), height: px(120) }],
  ['fill 200x200 dpr2', { crop: 'fill', width: px(200), height: px(200), dpr: 2 }],
  ['crop 200x200', { crop: 'crop', width: px(200), height: px(200) }],
  [
    'thumb 150 g_face',
    { crop: 'thumb', width: px(150), height: px(150), gravity: { kind: 'face', mode: 'face', fallback: 'north' } },
  ],
  ['pad 200x100', { crop: 'pad', width: px(200), height: px(100) }],
  [
    'fill 150 r_max bo_3',
    {
      crop: 'fill',
      width: px(150),
      height: px(150),
      radius: { kind: 'max' },
      border: { width: 3, color: { r: 0, g: 0, b: 0, a: 255 } },
    },
  ],
  ['fill 200 e_blur:300', { crop: 'fill', width: px(200), height: px(200), effect: { name: 'blur', level: 300 } }],
  ['fill 200 e_sharpen', { crop: 'fill', width: px(200), height: px(200), effect: { name: 'sharpen', level: 100 } }],
  ['fill 200 a_45', { crop: 'fill', width: px(200), height: px(200), angles: [{ kind: 'deg', value: 45 }] }],
]

for (const n of [400, 1024]) {
  const jpg = await encode(photo(n), 'jpg', { quality: 90 })
  const faces = [{ x: n * 0.4, y: n * 0.3, w: n * 0.2, h: n * 0.2 }]
  const decodeOnly = await median(() => decode(jpg, 'jpg'))
  const nearest = await median(async () => {
    const img = await Image.decode(jpg)
    img.resize(200, Image.RESIZE_AUTO)
    return img.encodeJPEG(80)
  })
  console.log(
    `\n${n}×${n} JPEG source (${(jpg.length / 1024).toFixed(0)} KB), median of ${RUNS} runs, output JPEG q_auto:good`,
  )
  console.log(`  ${'baseline: decode only'.padEnd(34)} ${decodeOnly.toFixed(1).padStart(7)} ms`)
  console.log(
    `  ${'baseline: imagescript nearest w200'.padEnd(34)} ${nearest.toFixed(1).padStart(7)} ms  ${(nearest / decodeOnly).toFixed(2)}× decode`,
  )
  for (const [name, component] of CASES) {
    const ms = await median(() => deriveImage({ bytes: jpg, format: 'jpg', chain: [component], output: 'jpg', faces }))
    console.log(
      `  ${name.padEnd(34)} ${ms.toFixed(1).padStart(7)} ms  ${(ms / decodeOnly).toFixed(2)}× decode  ${(ms / nearest).toFixed(2)}× nearest`,
    )
  }
}
