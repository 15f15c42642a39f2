/**
 * Garbage collection of the store: what a crash or a lost file leaves behind, found by comparing
 * the blob store with the rows. Run hourly by the server and on demand by `headshot gc`, against
 * the same data directory a server may be using, so every step is safe beside a running server:
 *
 * - temp files of interrupted writes, older than the age threshold (a write in progress is younger);
 * - orphan blobs: files no row names (a crash between writing a blob and inserting its row), older
 *   than the age threshold, because a server may have just written one and be about to insert its
 *   row (a put of bytes already stored refreshes the file's time for the same reason), and not
 *   pinned by this process;
 * - rows whose blob is missing: derived-image rows are deleted (the next request makes the image
 *   again); picture rows are left as they are and counted, since the next request that needs the
 *   original fetches it again (docs/operations.md, Data directory);
 * - remembered "no picture" answers past the negative TTL;
 * - and, when the store is bounded, eviction down to the bound (src/store/quota.ts).
 *
 * With `dryRun`, everything is counted and nothing is deleted.
 */
import type { BlobPins } from './pins.ts'
import type { EvictionReport, StoreQuota } from './quota.ts'
import type { BlobStore, Repository } from './types.ts'

/** Unnamed blobs and temp files younger than this may belong to a write still in progress. */
export const ORPHAN_AGE_MS = 3_600_000
/** Hashes per page when walking the rows. */
const PAGE = 500

export interface GcReport {
  dryRun: boolean
  tempFiles: { count: number; bytes: number }
  orphanBlobs: { count: number; bytes: number }
  /**
   * Blobs rows name that are missing: of derived images (their rows deleted, none in a dry run)
   * and of originals (left for the refetch on the next request).
   */
  missingBlobs: { derived: number; derivedRows: number; originals: number }
  /** Remembered "no picture" answers past the negative TTL. */
  expiredAbsent: number
  eviction?: EvictionReport
}

export interface GcOptions {
  repo: Repository
  blobs: BlobStore
  pins?: BlobPins
  /** Evicts down to the bound at the end, when the store is bounded. */
  quota?: StoreQuota
  negativeTtlMs: number
  orphanAgeMs?: number
  dryRun?: boolean
  /** Stops the walk between steps (the server shutting down). */
  signal?: AbortSignal
  now?: () => number
}

/** Let requests run between steps: a collection walks every blob. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Forget remembered "no picture" answers checked before `checkedBefore`, a thousand rows per
 * statement (at most 100 000 per call). Returns how many were deleted.
 */
export async function forgetExpiredAbsent(repo: Repository, checkedBefore: number): Promise<number> {
  let total = 0
  for (let round = 0; round < 100; round++) {
    const deleted = await repo.deleteExpiredAbsent(checkedBefore, 1000)
    total += deleted
    if (deleted < 1000) break
  }
  return total
}

export async function collectGarbage(options: GcOptions): Promise<GcReport> {
  const { repo, blobs, pins } = options
  const dryRun = options.dryRun === true
  const now = options.now ?? Date.now
  const orphanAgeMs = options.orphanAgeMs ?? ORPHAN_AGE_MS
  const pause = async () => {
    await nextTurn()
    options.signal?.throwIfAborted()
  }

  const tempFiles = await blobs.sweepLeftovers(orphanAgeMs, { dryRun })

  const orphanBlobs = { count: 0, bytes: 0 }
  const bornBefore = now() - orphanAgeMs
  let seen = 0
  for await (const entry of blobs.list()) {
    if (++seen % 256 === 0) await pause()
    if (entry.modifiedAt > bornBefore || pins?.isPinned(entry.hash)) continue
    if (await repo.isBlobReferenced(entry.hash)) continue
    if (!dryRun) await blobs.delete(entry.hash)
    orphanBlobs.count++
    orphanBlobs.bytes += entry.bytes
  }

  const missingBlobs = { derived: 0, derivedRows: 0, originals: 0 }
  for (const kind of ['derived', 'original'] as const) {
    let after = ''
    for (;;) {
      const page = await repo.listReferencedBlobs(kind, after, PAGE)
      for (const hash of page) {
        if (await blobs.has(hash)) continue
        if (kind === 'original') missingBlobs.originals++
        else {
          missingBlobs.derived++
          if (!dryRun) missingBlobs.derivedRows += await repo.deleteDerivativesOfBlob(hash)
        }
      }
      if (page.length < PAGE) break
      after = page.at(-1)!
      await pause()
    }
  }

  const expiredBefore = now() - options.negativeTtlMs
  const expiredAbsent = dryRun
    ? await repo.countExpiredAbsent(expiredBefore)
    : await forgetExpiredAbsent(repo, expiredBefore)

  const eviction = await options.quota?.enforce({ dryRun })
  return { dryRun, tempFiles, orphanBlobs, missingBlobs, expiredAbsent, eviction }
}

/** `1234567` → `1.2 MB` (decimal units, as HEADSHOT_MAX_STORE_BYTES reads them; a rate may have a fraction). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${Math.round(bytes)} B`
  const units = ['kB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = -1
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}

/** The report as `headshot gc` prints it: one line per category, counts and bytes. */
export function formatGcReport(report: GcReport): string {
  const removed = report.dryRun ? 'to remove' : 'removed'
  const size = (bytes: number) => `${bytes} bytes (${formatBytes(bytes)})`
  const lines = [
    `temp files: ${report.tempFiles.count} ${removed}, ${size(report.tempFiles.bytes)}`,
    `orphan blobs: ${report.orphanBlobs.count} ${removed}, ${size(report.orphanBlobs.bytes)}`,
    `missing blobs: ${report.missingBlobs.derived} of derived images (` +
      (report.dryRun ? 'their rows to remove' : `${report.missingBlobs.derivedRows} rows removed`) +
      `), ${report.missingBlobs.originals} of originals (fetched again on their next request)`,
    `expired "no picture" answers: ${report.expiredAbsent} ${removed}`,
  ]
  const e = report.eviction
  if (e === undefined || e.maxBytes === undefined) {
    lines.push('store bound: none (HEADSHOT_MAX_STORE_BYTES unset)')
  } else {
    const evicted = report.dryRun ? 'to evict' : 'evicted'
    const freed = e.before.bytes - e.after.bytes
    lines.push(
      `store bound: ${size(e.maxBytes)}: ${e.derivatives} derived images and ${e.originals} originals ${evicted}, ` +
        `${size(freed)}${e.stillOver ? ' (still over: the rest is eager, in use or just served)' : ''}`,
    )
  }
  // What the rows name now: before any eviction in a dry run, after it otherwise.
  const usage = report.dryRun ? e?.before : e?.after
  if (usage) lines.push(`store: ${size(usage.bytes)} in ${usage.blobs} blobs`)
  return `${lines.join('\n')}\n`
}
