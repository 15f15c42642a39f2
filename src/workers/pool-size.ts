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

/** The memory the workers may use together: HEADSHOT_WORKER_MEMORY_MB, else a share of this machine's. */
export function workerMemory(configured?: number): number {
  return configured ?? Math.floor(systemMemoryLimit() * WORKER_MEMORY_SHARE)
}

/** The pool size for this machine, the configured count and memory (HEADSHOT_WORKERS, HEADSHOT_WORKER_MEMORY_MB). */
export function workerCount(options: { workers?: number; memoryBytes?: number; limits: ImageLimits }): number {
  return poolSize({
    cores: availableParallelism(),
    memoryBytes: workerMemory(options.memoryBytes),
    perWorkerBytes: workerPeakBytes(options.limits),
    workers: options.workers,
  })
}

const MB = 1024 * 1024

/**
 * The most WebAssembly memory a recycled worker's threshold allows. WebAssembly memory never
 * shrinks while its worker lives: at start the codecs hold 34 MB (mozjpeg's encoder and libwebp's
 * decoder, 17 MB each), then mozjpeg keeps ~16 B per pixel of the largest JPEG it encoded (2000²:
 * 61 MB, 4000²: 266 MB) and libwebp ~7 B per pixel of the largest WebP it decoded. Ordinary work
 * (outputs up to 2000², a `dpr_2` thumbnail of 1000²) stays under 128 MB; a JPEG of about 2800² and
 * up does not, and its worker is replaced instead of keeping that memory for good.
 */
export const RECYCLE_MAX_BYTES = 128 * MB
/** Room above the codecs' start-up memory for ordinary work, else every job would restart its worker. */
export const RECYCLE_MIN_BYTES = 64 * MB

/**
 * WebAssembly memory a worker may keep after a job before the pool replaces it (derive-pool.ts):
 * a quarter of its share of the workers' memory, so what it keeps at rest leaves most of the share
 * for its next peak, within RECYCLE_MIN_BYTES–RECYCLE_MAX_BYTES.
 */
export function recycleThreshold(memoryBytes: number, workers: number): number {
  const quarterShare = memoryBytes / Math.max(1, workers) / 4
  return Math.round(Math.min(RECYCLE_MAX_BYTES, Math.max(RECYCLE_MIN_BYTES, quarterShare)))
}
