/**
 * Shrink-on-load: how much smaller than stored a JPEG may be decoded. Its own module because both
 * the pipeline (to decode) and the work budget (to price the decode) need the same answer.
 */
import type { ComponentPlan } from './pipeline.ts'

/**
 * How much the first component reduces its source window anyway (≥ 2, else 1): a JPEG can then
 * be decoded straight at 1/2–1/8 scale. The decoded window stays at least the target size, so
 * the resampler still does the final, exact reduction (what libvips' thumbnail does).
 */
export function shrinkOnLoad(first: ComponentPlan): number {
  const { extract, resize } = first.geometry
  if (!resize) return 1
  const turned = first.preTurn === 90 || first.preTurn === 270
  const w = extract?.w ?? (turned ? first.input.height : first.input.width)
  const h = extract?.h ?? (turned ? first.input.width : first.input.height)
  const k = Math.min(w / resize.width, h / resize.height)
  return k >= 2 ? k : 1
}
