/**
 * A photo-like test picture made without a photograph, shared by the benchmarks that drive the
 * binary (bench/peers.ts, bench/scale.ts).
 */
import type { Bitmap } from '../src/image/types.ts'
import { seededRandom } from '../test/support/fuzz-paths.ts'

/**
 * A photo-like picture without a photograph: octaves of smooth noise with amplitude falling as
 * 1/frequency (the spectrum of natural images), plus soft-edged discs (objects and edges).
 */
export function syntheticPhoto(n: number): Bitmap {
  const rand = seededRandom(42).next
  const acc = new Float32Array(n * n * 3)
  for (let cell = n / 2; cell >= 2; cell /= 2) {
    const g = Math.ceil(n / cell) + 2
    const grid = Float32Array.from({ length: g * g * 3 }, () => rand() - 0.5)
    const amplitude = 90 * (cell / n) ** 0.8
    for (let y = 0; y < n; y++) {
      const gy = y / cell
      const y0 = Math.floor(gy)
      const fy = gy - y0
      for (let x = 0; x < n; x++) {
        const gx = x / cell
        const x0 = Math.floor(gx)
        const fx = gx - x0
        for (let c = 0; c < 3; c++) {
          const at = (yy: number, xx: number) => grid[(yy * g + xx) * 3 + c]!
          const top = at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx
          const bottom = at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx
          acc[(y * n + x) * 3 + c]! += (top * (1 - fy) + bottom * fy) * amplitude
        }
      }
    }
  }
  const discs = Array.from({ length: 24 }, () => ({
    x: rand() * n,
    y: rand() * n,
    r: (0.03 + rand() * 0.15) * n,
    colour: [rand() * 200 + 30, rand() * 200 + 30, rand() * 200 + 30],
  }))
  const data = new Uint8Array(n * n * 4)
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      let rgb = [110 + (60 * x) / n, 100 + (40 * y) / n, 90]
      for (const d of discs) {
        const edge = Math.min(1, Math.max(0, d.r - Math.hypot(x - d.x, y - d.y))) // 1-px soft edge
        if (edge > 0) rgb = rgb.map((v, c) => v * (1 - edge) + d.colour[c]! * edge)
      }
      const i = (y * n + x) * 4
      for (let c = 0; c < 3; c++) data[i + c] = rgb[c]! + acc[(y * n + x) * 3 + c]!
      data[i + 3] = 255
    }
  }
  return { width: n, height: n, data }
}

/** Photo-like content (smooth gradients + texture), deterministic, so codecs do realistic work (bench/image.ts, bench/work.ts). */
export function gradientPhoto(n: number): Bitmap {
  const data = new Uint8Array(n * n * 4)
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const i = (y * n + x) * 4
      const t = Math.sin(x / 23) * Math.cos(y / 31) * 50 + ((x * 7 + y * 13) % 17)
      data[i] = 120 + t + (x * 60) / n
      data[i + 1] = 90 + t * 0.7 + (y * 80) / n
      data[i + 2] = 70 - t * 0.5
      data[i + 3] = 255
    }
  }
  return { width: n, height: n, data }
}
