import type { DeriveInput, DeriveOutput, ImageLimits } from '../image/types.ts'

export interface DeriveJob { id: number; input: DeriveInput; limits: ImageLimits }
export type DeriveReply =
  | { id: number; ok: true; output: DeriveOutput }
  | { id: number; ok: false; error: { name: string; message: string } }
