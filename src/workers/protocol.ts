import type { DeriveInput, DeriveOutput, FaceBox, ImageLimits } from '../image/types.ts'
import type { SourceFormat } from '../url/types.ts'

export type WorkerJob =
  | { id: number; kind: 'derive'; input: DeriveInput; limits: ImageLimits }
  | { id: number; kind: 'faces'; bytes: Uint8Array; format: SourceFormat }

export type WorkerReply =
  | { id: number; ok: true; output: DeriveOutput }
  | { id: number; ok: true; faces: FaceBox[] }
  | { id: number; ok: false; error: { message: string; status?: number; headers?: Record<string, string> } }
