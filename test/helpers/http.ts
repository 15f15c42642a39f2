/** Test shorthand over the real header sniffer: the picture's format and size, or undefined. */
import { probeImage } from '../../src/fetch/sniff.ts'
import type { SourceFormat } from '../../src/url/types.ts'

export function sniffImage(bytes: Uint8Array): { format: SourceFormat; width: number; height: number } | undefined {
  const probe = probeImage(bytes)
  return probe.ok ? probe.value : undefined
}
