/**
 * `GET /readyz`: can this instance serve? The database answers and takes writes (SQLite: takes its
 * write lock; PostgreSQL: answers a query within 2 s on a server that is not read-only), the data
 * directory's disk has room for new pictures (and the database), the S3 bucket answers when the
 * images are stored there, the transformation workers are there, and no shutdown has begun. A load
 * balancer sends traffic only while it answers 200; `/healthz` only says the
 * process is alive.
 */
import { statfs } from 'node:fs/promises'
import { redactForClient } from './lib/redact.ts'
import type { DatabaseEngine } from './store/open.ts'
import type { Repository } from './store/types.ts'

/** Below this much free space, new originals and derivatives could fail half-way. */
export const MIN_FREE_BYTES = 64 * 1024 * 1024

export interface ReadinessDeps {
  repo: Repository
  /** Named in the database check's detail. */
  engine?: DatabaseEngine
  dataDir: string
  /** The S3 bucket holding the images, when they are not on disk: a one-key listing, short timeout. */
  s3?: { bucket: string; check(): Promise<void> }
  /** Worker pool state; undefined when transformations run inline. */
  workers?: () => { busy: number; queued: number }
  /** True once a shutdown began: the load balancer must stop sending (docs/operations.md, Shutdown). */
  draining?: () => boolean
}

export async function readiness(deps: ReadinessDeps): Promise<Response> {
  const checks: Record<string, { ok: boolean; detail?: string }> = {}
  try {
    await deps.repo.ping()
    checks.database = deps.engine ? { ok: true, detail: deps.engine } : { ok: true }
  } catch (error) {
    // Public to whoever reaches /readyz: no addresses or URLs of the database server.
    const message = redactForClient((error as Error)?.message ?? 'unavailable')
    checks.database = { ok: false, detail: deps.engine ? `${deps.engine}: ${message}` : message }
  }
  try {
    const fs = await statfs(deps.dataDir)
    const free = Number(fs.bavail) * Number(fs.bsize)
    checks.disk = free >= MIN_FREE_BYTES ? { ok: true } : { ok: false, detail: `${free} bytes free` }
  } catch {
    checks.disk = { ok: false, detail: 'data directory unreadable' }
  }
  if (deps.s3) {
    try {
      await deps.s3.check()
      checks.s3 = { ok: true, detail: `bucket ${deps.s3.bucket}` }
    } catch (error) {
      // The store's errors name operation, bucket and S3's code, never a credential.
      checks.s3 = { ok: false, detail: (error as Error)?.message ?? 'unavailable' }
    }
  }
  const pool = deps.workers?.()
  checks.workers = { ok: true, detail: pool ? `${pool.busy} busy, ${pool.queued} queued` : 'inline' }
  if (deps.draining?.()) checks.shutdown = { ok: false, detail: 'draining: finishing requests under way' }
  const ready = Object.values(checks).every((check) => check.ok)
  return Response.json(
    { status: ready ? 'ready' : 'not ready', checks },
    { status: ready ? 200 : 503, headers: { 'Cache-Control': 'no-store' } },
  )
}
