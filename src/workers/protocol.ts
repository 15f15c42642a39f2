import type { DeriveInput, DeriveOutput, Rect, ImageLimits } from '../image/types.ts'
import type { ImageFormat } from '../url/types.ts'

export type WorkerJob =
  | { id: number; kind: 'derive'; input: DeriveInput; limits: ImageLimits }
  | { id: number; kind: 'faces'; bytes: Uint8Array; format: ImageFormat }

export type WorkerReply =
  | { id: number; ok: true; output: DeriveOutput }
  | { id: number; ok: true; faces: Rect[] }
  | { id: number; ok: false; error: { message: string; status?: number; headers?: Record<string, string> } }

/** Posted once by a worker when its modules are loaded: jobs (and their deadlines) start after it. */
export interface WorkerReady {
  ready: true
}
