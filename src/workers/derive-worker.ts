/**
 * Worker entry: runs transformations and face detection off the server thread, so a slow job
 * (a 4 MP decode blocks ~0.4 s) never delays warm hits. Protocol: WorkerJob in, WorkerReply out.
 */
// First: it notes the WebAssembly memories of the codecs loaded after it.
import { heldWasmBytes, wasmMemoryBytes } from './wasm-memory.ts'
import { warmUpCodecs } from '../image/codecs.ts'
import { findFaces } from '../image/faces/find.ts'
import { deriveImage } from '../image/pipeline.ts'
import type { WorkerJob, WorkerReady, WorkerReply } from './protocol.ts'
import { HttpError } from '../lib/http-error.ts'

declare const self: Worker

type Outcome = WorkerReply extends infer R ? (R extends WorkerReply ? Omit<R, 'wasmBytes'> : never) : never

async function run(job: WorkerJob): Promise<Outcome> {
  if (job.kind === 'faces') return { id: job.id, ok: true, faces: await findFaces(job.bytes, job.format) }
  const output = await deriveImage(job.input, job.limits)
  // The native encoder's buffer cannot be transferred (DataCloneError), so it is copied.
  return { id: job.id, ok: true, output: { ...output, bytes: new Uint8Array(output.bytes) } }
}

/**
 * JavaScriptCore collects a busy worker's heap late: under steady load the decoded bitmaps and
 * copies of many jobs pile up (hundreds of MB across the pool) before a collection runs. A full
 * collection every few jobs, after the answer has gone, keeps the heap near its working size.
 */
const COLLECT_EVERY_JOBS = 16
let jobsSinceCollection = 0

self.onmessage = async (event: MessageEvent<WorkerJob>) => {
  const job = event.data
  let outcome: Outcome
  try {
    outcome = await run(job)
  } catch (error) {
    const message = (error as Error)?.message ?? String(error)
    // An HttpError's status travels with it; anything else is an internal failure (500).
    const mapped = error instanceof HttpError ? { status: error.status, headers: { ...error.headers } } : {}
    outcome = { id: job.id, ok: false, error: { message, ...mapped } }
  }
  // What the job left behind, so the pool can replace a worker that grew (derive-pool.ts).
  self.postMessage({ ...outcome, wasmBytes: await heldWasmBytes(job.recycleBytes) } satisfies WorkerReply)
  if (++jobsSinceCollection >= COLLECT_EVERY_JOBS) {
    jobsSinceCollection = 0
    Bun.gc(true)
  }
}

// Loaded and compiled (codecs, detector): the pool may hand over jobs and start their clocks.
await warmUpCodecs()
self.postMessage({ ready: true, wasmBytes: wasmMemoryBytes() } satisfies WorkerReady)
