/**
 * A fixed pool of Bun Workers for transformations, with a bounded queue: when every worker is busy
 * and the queue is full, `derive` fails fast with a 429 instead of piling up memory.
 */
import { availableParallelism } from 'node:os'
import type { DeriveInput, DeriveOutput, Rect, ImageLimits } from '../image/types.ts'
import type { ImageFormat } from '../url/types.ts'
import { HttpError } from '../lib/http-error.ts'
import type { WorkerJob, WorkerReply } from './protocol.ts'

export interface DerivePoolOptions {
  /**
   * The worker entry (src/workers/derive-worker.ts). Passed in by a module at the top of src/ because
   * in the compiled binary `import.meta.url` is the bundle's, so only paths relative to src/ resolve
   * in both `bun src/main.ts` and dist/headshot (where the worker is a second entrypoint).
   */
  workerUrl: string | URL
  limits: ImageLimits
  /** Default: one per core. */
  size?: number
  /** Jobs waiting for a free worker before new ones are refused. Default 64. */
  maxQueue?: number
}

export interface DerivePool {
  derive(input: DeriveInput): Promise<DeriveOutput>
  /** Face boxes of an encoded original, in upright source pixels. */
  detectFaces(bytes: Uint8Array, format: ImageFormat): Promise<Rect[]>
  readonly busy: number
  readonly queued: number
  close(): Promise<void>
}

/** Omit<> over a union would flatten it; keep each job kind intact. */
type WorkerJobWithoutId = WorkerJob extends infer J ? (J extends WorkerJob ? Omit<J, 'id'> : never) : never

interface Pending {
  job: WorkerJob
  resolve: (reply: WorkerReply & { ok: true }) => void
  reject: (error: Error) => void
}

interface Slot {
  worker: Worker
  current?: Pending
}

export function createDerivePool(options: DerivePoolOptions): DerivePool {
  const size = Math.max(1, options.size ?? availableParallelism())
  const maxQueue = options.maxQueue ?? 64
  const queue: Pending[] = []
  const slots: Slot[] = []
  let nextId = 1
  let closed = false
  const spawn = () => new Worker(String(options.workerUrl))

  function settle(slot: Slot, reply: WorkerReply): void {
    const pending = slot.current
    slot.current = undefined
    if (pending) {
      if (reply.ok) pending.resolve(reply)
      else {
        // Keep the status across the thread boundary: a bad transformation stays the client's 400.
        const { status, message, headers } = reply.error
        pending.reject(status === undefined ? new Error(message) : new HttpError(status, message, headers))
      }
    }
    pump()
  }

  function attach(slot: Slot): void {
    slot.worker.onmessage = (event: MessageEvent<WorkerReply>) => settle(slot, event.data)
    slot.worker.onerror = (event) => {
      // A crashed worker takes its job down with it; replace the worker so the pool keeps its size.
      const pending = slot.current
      slot.current = undefined
      pending?.reject(new Error(`transformation worker failed: ${event.message}`))
      slot.worker.terminate()
      if (!closed) {
        slot.worker = spawn()
        attach(slot)
      }
      pump()
    }
  }

  function pump(): void {
    for (const slot of slots) {
      if (slot.current || queue.length === 0) continue
      const next = queue.shift()!
      slot.current = next
      slot.worker.postMessage(next.job)
    }
  }

  for (let i = 0; i < size; i++) {
    const slot: Slot = { worker: spawn() }
    attach(slot)
    slots.push(slot)
  }

  function submit(job: WorkerJobWithoutId): Promise<WorkerReply & { ok: true }> {
    if (closed) return Promise.reject(new Error('derive pool is closed'))
    const idle = slots.some((s) => !s.current)
    if (!idle && queue.length >= maxQueue)
      return Promise.reject(new HttpError(429, 'Too many transformations in progress', { 'Retry-After': '1' }))
    return new Promise((resolve, reject) => {
      queue.push({ job: { ...job, id: nextId++ } as WorkerJob, resolve, reject })
      pump()
    })
  }

  return {
    async derive(input) {
      const reply = await submit({ kind: 'derive', input, limits: options.limits })
      return (reply as { output: DeriveOutput }).output
    },
    async detectFaces(bytes, format) {
      const reply = await submit({ kind: 'faces', bytes, format })
      return (reply as { faces: Rect[] }).faces
    },
    get busy() {
      return slots.filter((s) => s.current).length
    },
    get queued() {
      return queue.length
    },
    async close() {
      closed = true
      for (const pending of queue.splice(0)) pending.reject(new Error('derive pool is closed'))
      for (const slot of slots) {
        slot.current?.reject(new Error('derive pool is closed'))
        slot.worker.terminate()
      }
    },
  }
}
