/**
 * How many transformation workers a machine can run: one per core, but no more than its memory
 * holds when every worker is at its peak at once. The peak follows from the image limits (the
 * largest source decoded, the largest image blurred), so a smaller box gets fewer workers instead
 * of being killed for memory under load.
 */
import { readFileSync } from 'node:fs'
import { availableParallelism, totalmem } from 'node:os'
import { DEFAULT_IMAGE_LIMITS } from '../image/limits.ts'
import type { ImageLimits } from '../image/types.ts'

/**
 * Bytes per source pixel a worker may hold while decoding: the RGBA bitmap and the codec's own
 * working copy.
 */
export const SOURCE_BYTES_PER_PIXEL = 8
/**
 * Bytes per output pixel at the dearest step: a blur's two float RGBA buffers (32 B) beside its
 * input and output bitmaps and what the collector has not freed yet (the pipeline collects after
 * each large component). Measured: `c_scale,h_4096,w_4096,e_blur:2000` peaks at ~0.85 GB above
 * the runtime, ~51 B per output pixel, however many such components follow (bench/README.md).
 */
export const OUTPUT_BYTES_PER_PIXEL = 56
/** The runtime, the codecs' WASM and the face cascades, per worker. */
export const WORKER_BASE_BYTES = 64 * 1024 * 1024
/** Share of the machine's (or container's) memory the workers may take; the rest is the server's. */
export const WORKER_MEMORY_SHARE = 0.75

/** The most memory one worker can need at once under these limits. */
export function workerPeakBytes(limits: ImageLimits): number {
  const input = limits.maxInputPixels ?? DEFAULT_IMAGE_LIMITS.maxInputPixels!
  return WORKER_BASE_BYTES + input * SOURCE_BYTES_PER_PIXEL + limits.maxOutputPixels * OUTPUT_BYTES_PER_PIXEL
}

export interface PoolSizeInput {
  cores: number
  /** Memory the workers may use together. */
  memoryBytes: number
  perWorkerBytes: number
  /** HEADSHOT_WORKERS: the operator's count, taken as is. */
  workers?: number
}

/** min(cores, memory ÷ per-worker peak), at least one; an explicit count wins. */
export function poolSize(input: PoolSizeInput): number {
  if (input.workers !== undefined && input.workers >= 1) return Math.floor(input.workers)
  const byMemory = Math.floor(input.memoryBytes / input.perWorkerBytes)
  return Math.max(1, Math.min(input.cores, byMemory))
}

/**
 * The memory limit from cgroup files (v2 `memory.max`, v1 `memory.limit_in_bytes`) and the RAM:
 * the smallest that applies. `max` (v2) and v1's "no limit" (a number near 2^63) mean none.
 */
export function memoryLimit(totalBytes: number, cgroupFiles: readonly (string | undefined)[]): number {
  let limit = totalBytes
  for (const text of cgroupFiles) {
    const value = Number(text?.trim())
    if (text !== undefined && /^\d+$/.test(text.trim()) && value > 0 && value < limit) limit = value
  }
  return limit
}

const CGROUP_FILES = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']

/** This machine's memory limit (the I/O edge of `memoryLimit`). */
export function systemMemoryLimit(): number {
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8')
    } catch {
      return undefined
    }
  }
  return memoryLimit(totalmem(), CGROUP_FILES.map(read))
}

/** The pool size for this machine, the configured count and memory (HEADSHOT_WORKERS, HEADSHOT_WORKER_MEMORY_MB). */
export function workerCount(options: { workers?: number; memoryBytes?: number; limits: ImageLimits }): number {
  return poolSize({
    cores: availableParallelism(),
    memoryBytes: options.memoryBytes ?? Math.floor(systemMemoryLimit() * WORKER_MEMORY_SHARE),
    perWorkerBytes: workerPeakBytes(options.limits),
    workers: options.workers,
  })
}
