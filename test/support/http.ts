/** Test shorthand over the real header sniffer: the picture's format and size, or undefined. */
import { probeImage } from '../../src/lib/image-header.ts'
import type { ImageFormat } from '../../src/url/types.ts'

export function sniffImage(bytes: Uint8Array): { format: ImageFormat; width: number; height: number } | undefined {
  const probe = probeImage(bytes)
  if (!probe.ok) return undefined
  const { format, width, height } = probe.value
  return { format, width, height }
}
