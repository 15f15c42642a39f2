import type { DeriveInput, DeriveOutput, Rect, ImageLimits } from '../image/types.ts'
import type { ImageFormat } from '../url/types.ts'

/**
 * `recycleBytes`: the WebAssembly memory the worker may hold after the job (the pool's threshold);
 * above it the worker collects garbage before measuring, so only memory it really keeps counts.
 */
export type WorkerJob =
  | { id: number; kind: 'derive'; input: DeriveInput; limits: ImageLimits; recycleBytes: number }
  | { id: number; kind: 'faces'; bytes: Uint8Array; format: ImageFormat; recycleBytes: number }

/** `wasmBytes`: the WebAssembly memory the worker holds once the job is done (src/workers/wasm-memory.ts). */
export type WorkerReply = (
  | { id: number; ok: true; output: DeriveOutput }
  | { id: number; ok: true; faces: Rect[] }
  | { id: number; ok: false; error: { message: string; status?: number; headers?: Record<string, string> } }
) & { wasmBytes: number }

/** Posted once by a worker when its modules are loaded: jobs (and their deadlines) start after it. */
export interface WorkerReady {
  ready: true
  /** Its WebAssembly memory at start (the codecs' initial sizes). */
  wasmBytes: number
}
