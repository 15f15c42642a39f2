/**
 * The work budget's weights (src/image/budget.ts) against this machine: each step's time per
 * megapixel relative to the same run's `e_grayscale` pass (the unit), beside the weight the budget
 * uses; then whole derivations, their predicted units beside the CPU time they really take.
 * Times are the least CPU time of [runs] (default 5) after warm-up, so other load on the machine
 * disturbs them least. Run: bun run bench/work.ts [runs]
 */
import { decode, encode, flatten } from '../src/image/codecs.ts'
import { estimateWork, WEIGHTS, blurWeight, DEFAULT_WORK_BUDGETS } from '../src/image/budget.ts'
import { addBorder, applyOpacity, cornerRadii, roundCorners } from '../src/image/draw.ts'
import { applyEffect, blurSigma } from '../src/image/effects.ts'
import { deriveImage, planChain } from '../src/image/pipeline.ts'
import { resize } from '../src/image/resize.ts'
import { flip, rotateArbitrary, rotateQuarter } from '../src/image/transform.ts'
import { gradientPhoto as photo } from './photo.ts'
import { foldDpr } from '../src/url/chain.ts'
import { parseChain } from '../src/url/component.ts'
import type { EffectName, ImageFormat } from '../src/url/types.ts'

const RUNS = Number(process.argv[2] ?? 5)

/**
 * The least CPU time of `runs` after three warm-ups (JIT tiers, WASM compile): CPU time, not wall
 * time, so other load on the machine disturbs it least.
 */
async function fastest(fn: () => unknown, runs = RUNS): Promise<number> {
  for (let i = 0; i < 3; i++) await fn()
  let best = Number.POSITIVE_INFINITY
  for (let i = 0; i < runs; i++) {
    const before = process.cpuUsage()
    await fn()
    const used = process.cpuUsage(before)
    best = Math.min(best, (used.user + used.system) / 1000)
  }
  return best
}

const image = photo(1000) // 1 MP: ms per run = ms per megapixel
const unit = await fastest(() => applyEffect(image, { name: 'grayscale', level: 0 }, []))
const rows: Array<[string, number, number]> = []
const row = async (name: string, weight: number, fn: () => unknown, megapixels = 1) =>
  rows.push([name, (await fastest(fn)) / megapixels / unit, weight])

const E = WEIGHTS.effects
const effects: Array<[EffectName, number, number]> = [
  ['negate', 0, E.negate],
  ['sepia', 80, E.sepia],
  ['blackwhite', 50, E.blackwhite],
  ['brightness', 80, E.brightness],
  ['contrast', 50, E.contrast],
  ['vignette', 20, E.vignette],
  ['pixelate', 0, E.pixelate],
  ['blur', 20, blurWeight(blurSigma(20))],
  ['blur', 60, blurWeight(blurSigma(60))],
  ['blur', 2000, blurWeight(blurSigma(2000))],
  ['sharpen', 100, blurWeight(1) + E.sharpenMix],
]
for (const [name, level, weight] of effects) {
  await row(`e_${name}:${level}`, weight, () => applyEffect(image, { name, level }, []))
}
await row('resize 1 MP → 0.25 MP', WEIGHTS.resizeIn + 0.25 * WEIGHTS.resizeOut, () => resize(image, 500, 500))
await row(
  'resize 1 MP → 4 MP (per MP out)',
  WEIGHTS.resizeIn / 4 + WEIGHTS.resizeOut,
  () => resize(image, 2000, 2000),
  4,
)
await row('r_max', WEIGHTS.radius, () => roundCorners(image, cornerRadii(image, 'max')))
await row('bo_10', WEIGHTS.border, () => addBorder(image, 10, { r: 0, g: 0, b: 0, a: 255 }))
await row('a_45 (per MP out)', WEIGHTS.rotate, () => rotateArbitrary(image, 45), 2)
await row('a_90', WEIGHTS.copy, () => rotateQuarter(image, 90))
await row('a_hflip', WEIGHTS.copy, () => flip(image, 'h'))
await row('o_50', WEIGHTS.copy, () => applyOpacity(image, 50))
await row('b_white', WEIGHTS.background, () => flatten(image, { r: 255, g: 255, b: 255, a: 255 }))
const encoded: Partial<Record<ImageFormat, Uint8Array>> = {}
for (const format of ['jpg', 'png', 'webp', 'gif'] as const) {
  await row(`encode ${format}`, WEIGHTS.encode[format], async () => {
    encoded[format] = await encode(image, format, { quality: 80, progressive: false, fullChroma: false })
  })
}
for (const format of ['jpg', 'png', 'webp', 'gif'] as const) {
  const weight = WEIGHTS.decode[format] + (format === 'jpg' ? WEIGHTS.jpegStored : 0)
  await row(`decode ${format}`, weight, () => decode(encoded[format]!, format))
}

console.log(`Weights: CPU time per megapixel ÷ e_grayscale's (${unit.toFixed(1)} ms/MP in this run = 1 unit)`)
console.log(`  ${'step'.padEnd(34)} ${'measured'.padStart(9)} ${'weight'.padStart(7)}`)
for (const [name, measured, weight] of rows) {
  console.log(`  ${name.padEnd(34)} ${measured.toFixed(2).padStart(9)} ${weight.toFixed(2).padStart(7)}`)
}

// Whole derivations: predicted units × this run's unit, beside the CPU time they take.
const jpg2048 = await encode(photo(2048), 'jpg', { quality: 90, progressive: false, fullChroma: false })
const source = { size: { width: 2048, height: 2048 }, format: 'jpg' as const }
const CHAINS: Array<[string, ImageFormat]> = [
  ['c_fill,g_face,h_150,w_150/r_max', 'png'],
  ['c_fill,h_1000,w_1000/e_grayscale', 'jpg'],
  ['c_fill,h_500,w_500,dpr_3/r_max/e_sharpen/e_brightness:20', 'png'],
  ['c_scale,h_4096,w_4096', 'jpg'],
  ['c_scale,h_4096,w_4096,e_blur:2000', 'jpg'],
  ['c_scale,h_4096,w_4096,e_blur:2000', 'png'],
]
const { unsigned, signed } = DEFAULT_WORK_BUDGETS
console.log(
  `\nWhole derivations of a 2048² JPEG (least CPU time of 3 runs; budgets: unsigned ${unsigned.maxWork}, signed ${signed.maxWork})`,
)
console.log(`  ${'chain → format'.padEnd(62)} ${'units'.padStart(6)} ${'predicted'.padStart(10)} ${'CPU'.padStart(9)}`)
for (const [text, output] of CHAINS) {
  const parsed = parseChain(text)
  if (!parsed.ok) throw parsed.error
  const chain = foldDpr(parsed.value.components)
  const { units } = estimateWork(planChain(chain, source.size), source, output)
  let cpuMs = Number.POSITIVE_INFINITY
  for (let i = 0; i < 3; i++) {
    const before = process.cpuUsage()
    await deriveImage({ bytes: jpg2048, format: 'jpg', chain, output, faces: [] })
    const used = process.cpuUsage(before)
    cpuMs = Math.min(cpuMs, (used.user + used.system) / 1000)
  }
  console.log(
    `  ${`${text} → ${output}`.padEnd(62)} ${units.toFixed(0).padStart(6)} ${`${(units * unit).toFixed(0)} ms`.padStart(10)} ${`${cpuMs.toFixed(0)} ms`.padStart(9)}`,
  )
}
