/** One line of detector statistics, averaged per image: phase times (ms), then the counters. */
import type { DetectStats } from '../../src/image/faces/index.ts'

export function statsPerImage(totals: DetectStats, images: number): string {
  const mean = (total: number) => (total / images).toFixed(2)
  const times = Object.entries(totals.ms).map(([phase, ms]) => `${phase} ${mean(ms)} ms`)
  const { seeds, candidates, uprightWindows, rotatedWindows, brightenedWindows } = totals
  const counts = Object.entries({ seeds, candidates, uprightWindows, rotatedWindows, brightenedWindows }).map(
    ([name, total]) => `${name} ${mean(total)}`,
  )
  return [...times, ...counts].join('  ')
}
