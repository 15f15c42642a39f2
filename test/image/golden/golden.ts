/**
 * Rendering and comparing golden images (shared by golden.test.ts and scripts/update-golden.ts).
 *
 * Comparison is on premultiplied RGBA: where a pixel is fully transparent its colour is
 * meaningless (encoders and rounding may leave anything there), so it must not count.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Image } from 'imagescript'
import { deriveImage } from '../../../src/image/pipeline.ts'
import type { Bitmap } from '../../../src/image/types.ts'
import { parseChain } from '../../../src/url/component.ts'
import type { GoldenCase } from './cases.ts'
import { sourcePng } from './source.ts'

export const EXPECTED_DIR = join(dirname(fileURLToPath(import.meta.url)), 'expected')

/** Tolerances: mean absolute channel difference, and the largest difference of any channel. */
export const MAX_MEAN_DIFF = 1.5
export const MAX_PIXEL_DIFF = 24

export const expectedPath = (c: GoldenCase) => join(EXPECTED_DIR, `${c.name}.png`)

/** Runs a case through the real pipeline (parseChain → deriveImage), PNG out. */
export async function renderCase(c: GoldenCase): Promise<{ png: Uint8Array; width: number; height: number }> {
  const parsed = parseChain(c.chain)
  if (!parsed.ok) throw new Error(`golden case ${c.name}: ${parsed.error.message}`)
  const out = await deriveImage({
    bytes: await sourcePng(),
    format: 'png',
    chain: parsed.value.components,
    output: 'png',
    faces: c.faces ?? [],
  })
  return { png: out.bytes, width: out.width, height: out.height }
}

/** PNG bytes → straight RGBA (imagescript's decoder, independent of src/image/codecs.ts). */
export async function decodePng(bytes: Uint8Array): Promise<Bitmap> {
  const image = await Image.decode(bytes)
  const b = image.bitmap
  return { width: image.width, height: image.height, data: new Uint8Array(b.buffer, b.byteOffset, b.byteLength) }
}

export interface Difference {
  sameSize: boolean
  /** Mean over all pixels and the four premultiplied channels. */
  mean: number
  /** Largest single-channel difference, and where. */
  max: number
  maxAt: [number, number]
}

export function compareBitmaps(actual: Bitmap, expected: Bitmap): Difference {
  if (actual.width !== expected.width || actual.height !== expected.height) {
    return { sameSize: false, mean: Infinity, max: Infinity, maxAt: [0, 0] }
  }
  const a = actual.data
  const e = expected.data
  let sum = 0
  let max = 0
  let maxAt: [number, number] = [0, 0]
  for (let i = 0; i < a.length; i += 4) {
    const aa = a[i + 3]!
    const ea = e[i + 3]!
    for (let ch = 0; ch < 4; ch++) {
      const av = ch === 3 ? aa : (a[i + ch]! * aa) / 255
      const ev = ch === 3 ? ea : (e[i + ch]! * ea) / 255
      const d = Math.abs(av - ev)
      sum += d
      if (d > max) {
        max = d
        const p = i / 4
        maxAt = [p % actual.width, Math.floor(p / actual.width)]
      }
    }
  }
  return { sameSize: true, mean: sum / a.length, max, maxAt }
}

export const withinTolerance = (d: Difference) => d.sameSize && d.mean <= MAX_MEAN_DIFF && d.max <= MAX_PIXEL_DIFF

export function readExpected(c: GoldenCase): Uint8Array | undefined {
  const path = expectedPath(c)
  return existsSync(path) ? new Uint8Array(readFileSync(path)) : undefined
}

export function writeExpected(c: GoldenCase, png: Uint8Array): void {
  mkdirSync(EXPECTED_DIR, { recursive: true })
  writeFileSync(expectedPath(c), png)
}
