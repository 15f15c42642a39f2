/**
 * A fixed pool of Bun Workers for transformations, with a bounded queue: when every worker is busy
 * and the queue is full, `derive` fails fast with a 429 instead of piling up memory. A job that
 * runs past its deadline is ended the only way synchronous WASM can be: its worker is terminated
 * and replaced, and the job fails with a 503. A worker whose WebAssembly memory grew past a threshold
 * is replaced too, once its job is answered and no job waits: that memory never shrinks while the
 * worker lives.
 */
import { availableParallelism } from 'node:os'
import type { DeriveInput, DeriveOutput, Rect, ImageLimits } from '../image/types.ts'
import type { ImageFormat } from '../url/types.ts'
import { HttpError } from '../lib/http-error.ts'
import type { WorkerJob, WorkerReady, WorkerReply } from './protocol.ts'

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
  /** How long one job may run in a worker (from the moment it is handed over). Default 20 s. */
  timeoutMs?: number
  /**
   * WebAssembly memory a worker may hold after a job, bytes; a worker holding more is replaced by a
   * fresh one once it has replied and no job waits (see `recycleThreshold` in pool-size.ts).
   * Default: never.
   */
  recycleBytes?: number
}

/** Long enough for anything the signed work budget allows on a slow core; short enough to free the worker. */
export const DEFAULT_DERIVE_TIMEOUT_MS = 20_000

/**
 * `signal`: the job is wanted no more (its client went away). Still queued, it is taken out, never
 * runs, and the promise rejects with the signal's reason. Already running, it finishes and the
 * promise settles with its result, which the caller may still store (see `submit`).
 */
export interface JobOptions {
  signal?: AbortSignal
}

export interface DerivePool {
  derive(input: DeriveInput, options?: JobOptions): Promise<DeriveOutput>
  /** Face boxes of an encoded original, in upright source pixels. */
  detectFaces(bytes: Uint8Array, format: ImageFormat, options?: JobOptions): Promise<Rect[]>
  readonly busy: number
  readonly queued: number
  /** Jobs handed to a worker so far. */
  readonly started: number
  /** Workers in the pool (constant: a crashed or timed-out worker is replaced). */
  readonly size: number
  /** Workers terminated and replaced so far (crashes and deadlines). */
  readonly replaced: number
  /** Workers replaced after a job because their WebAssembly memory had grown past `recycleBytes`. */
  readonly recycled: number
  /** WebAssembly memory the workers hold, as each reported after its last job (or at start). */
  readonly wasmBytes: number
  close(): Promise<void>
}

/** Omit<> over a union would flatten it; keep each job kind intact. The pool adds the rest. */
type WorkerJobWithoutId = WorkerJob extends infer J
  ? J extends WorkerJob
    ? Omit<J, 'id' | 'recycleBytes'>
    : never
  : never

interface Pending {
  job: WorkerJob
  resolve: (reply: WorkerReply & { ok: true }) => void
  reject: (error: Error) => void
}

interface Slot {
  worker: Worker
  /** The worker has loaded its modules: a job handed over now starts running at once. */
  ready: boolean
  /** Its WebAssembly memory, as it last reported (0 while loading). */
  wasmBytes: number
  current?: Pending
  /** The running job's deadline. */
  timer?: ReturnType<typeof setTimeout>
}

export function createDerivePool(options: DerivePoolOptions): DerivePool {
  const size = Math.max(1, options.size ?? availableParallelism())
  const maxQueue = options.maxQueue ?? 64
  const timeoutMs = options.timeoutMs ?? DEFAULT_DERIVE_TIMEOUT_MS
  const recycleBytes = options.recycleBytes ?? Number.POSITIVE_INFINITY
  const queue: Pending[] = []
  const slots: Slot[] = []
  let nextId = 1
  let closed = false
  let replaced = 0
  let recycled = 0
  let started = 0
  const spawn = () => new Worker(String(options.workerUrl))

  function settle(slot: Slot, reply: WorkerReply): void {
    const pending = slot.current
    if (pending?.job.id !== reply.id) return // not the job it runs now (cannot happen; never misroute)
    clearTimeout(slot.timer)
    slot.current = undefined
    slot.wasmBytes = reply.wasmBytes
    if (reply.ok) pending.resolve(reply)
    else {
      // Keep the status across the thread boundary: a bad transformation stays the client's 400.
      const { status, message, headers } = reply.error
      pending.reject(status === undefined ? new Error(message) : new HttpError(status, message, headers))
    }
    // The job is answered; only the worker's memory is lost. Not while jobs wait: a fresh worker
    // costs about 0.5 s of CPU (0.1 s to load, the rest on its first jobs, run cold, and on growing
    // its memory again), which a stream of large jobs would pay on every one of them. A grown worker
    // serves the backlog at the size it already has (the pool is sized for every worker at its
    // peak) and is replaced once the queue is empty; it is still above then, its memory never shrinks.
    if (reply.wasmBytes > recycleBytes && queue.length === 0) {
      recycled++
      restart(slot)
    }
    pump()
  }

  /** A fresh worker in the slot's place (the pool keeps its size); it takes jobs once loaded. */
  function restart(slot: Slot): void {
    slot.worker.terminate()
    if (closed) return
    slot.worker = spawn()
    slot.ready = false
    slot.wasmBytes = 0
    attach(slot)
  }

  /** Ends the slot's worker and its job (with `error`), and starts a fresh worker in its place. */
  function replace(slot: Slot, error: Error): void {
    const pending = slot.current
    slot.current = undefined
    clearTimeout(slot.timer)
    pending?.reject(error)
    replaced++
    restart(slot)
    pump()
  }

  function attach(slot: Slot): void {
    // Handlers belong to this worker: a reply or error of a worker already replaced is ignored.
    const worker = slot.worker
    worker.onmessage = (event: MessageEvent<WorkerReply | WorkerReady>) => {
      if (slot.worker !== worker) return
      if ('ready' in event.data) {
        slot.ready = true
        slot.wasmBytes = event.data.wasmBytes
        pump()
      } else settle(slot, event.data)
    }
    worker.onerror = (event) => {
      // A crashed worker takes its job down with it; replace the worker so the pool keeps its size.
      if (slot.worker === worker) replace(slot, new Error(`transformation worker failed: ${event.message}`))
    }
  }

  function pump(): void {
    for (const slot of slots) {
      // A worker still loading gets nothing yet, so a deadline never counts its start-up.
      if (!slot.ready || slot.current || queue.length === 0) continue
      const next = queue.shift()!
      slot.current = next
      started++
      slot.worker.postMessage(next.job)
      slot.timer = setTimeout(() => {
        if (slot.current === next) replace(slot, timedOut(next.job, timeoutMs))
      }, timeoutMs)
    }
  }

  for (let i = 0; i < size; i++) {
    const slot: Slot = { worker: spawn(), ready: false, wasmBytes: 0 }
    attach(slot)
    slots.push(slot)
  }

  /**
   * Queues a job. When `signal` aborts while the job waits, it leaves the queue and never runs.
   * Once running it is left to finish: the work is half done, its result is stored for the next
   * request, the deadline bounds it, and ending it would cost a worker restart.
   */
  function submit(job: WorkerJobWithoutId, signal?: AbortSignal): Promise<WorkerReply & { ok: true }> {
    if (closed) return Promise.reject(new Error('derive pool is closed'))
    if (signal?.aborted) return Promise.reject(signal.reason)
    // Jobs beyond the idle workers wait; a worker still loading counts as idle (it takes one soon).
    const idle = slots.filter((s) => !s.current).length
    if (queue.length >= idle + maxQueue)
      return Promise.reject(new HttpError(429, 'Too many transformations in progress', { 'Retry-After': '1' }))
    return new Promise((resolve, reject) => {
      const pending: Pending = { job: { ...job, id: nextId++, recycleBytes } as WorkerJob, resolve, reject }
      if (signal) {
        const abandon = () => {
          const at = queue.indexOf(pending)
          if (at < 0) return // running (or done): let it finish
          queue.splice(at, 1)
          reject(signal.reason)
        }
        signal.addEventListener('abort', abandon, { once: true })
        const done = () => signal.removeEventListener('abort', abandon)
        pending.resolve = (reply) => {
          done()
          resolve(reply)
        }
        pending.reject = (error) => {
          done()
          reject(error)
        }
      }
      queue.push(pending)
      pump()
    })
  }

  return {
    async derive(input, job = {}) {
      const reply = await submit({ kind: 'derive', input, limits: options.limits }, job.signal)
      return (reply as { output: DeriveOutput }).output
    },
    async detectFaces(bytes, format, job = {}) {
      const reply = await submit({ kind: 'faces', bytes, format }, job.signal)
      return (reply as { faces: Rect[] }).faces
    },
    get busy() {
      return slots.filter((s) => s.current).length
    },
    get queued() {
      return queue.length
    },
    get started() {
      return started
    },
    get size() {
      return slots.length
    },
    get replaced() {
      return replaced
    },
    get recycled() {
      return recycled
    },
    get wasmBytes() {
      return slots.reduce((sum, slot) => sum + slot.wasmBytes, 0)
    },
    async close() {
      closed = true
      for (const pending of queue.splice(0)) pending.reject(new Error('derive pool is closed'))
      for (const slot of slots) {
        clearTimeout(slot.timer)
        slot.current?.reject(new Error('derive pool is closed'))
        slot.worker.terminate()
      }
    },
  }
}

/**
 * A job past its deadline: 503, the server's momentary trouble rather than the client's mistake (the
 * work budget already refused what is too costly to try), so a CDN keeps nothing (5xx is no-store).
 * Not 504: that status says an upstream was slow, and operators read it that way.
 */
function timedOut(job: WorkerJob, timeoutMs: number): HttpError {
  const what = job.kind === 'faces' ? 'Face detection' : 'Transformation'
  return new HttpError(503, `${what} took longer than ${formatSeconds(timeoutMs)}`)
}

const formatSeconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`)
