/**
 * `headshot migrate`: copies a SQLite + disk store into PostgreSQL and a blob store (normally S3),
 * then verifies the copy row by row and blob by blob (docs/operations.md, Moving to PostgreSQL and S3).
 *
 * What is copied: every row of `pictures` (held ones with their faces, and remembered "no picture"
 * answers, which are still valid until the negative TTL forgets them) and of `derivatives`, all
 * columns as they are (last_served_at included, so the store bound keeps its order). Not copied:
 * `blob_refs` and `store_totals` (the target's triggers rebuild them from the rows; the verification
 * compares the totals) and the migration bookkeeping (the target has its own dialect's migrations).
 *
 * How:
 * - The source is read inside one SQLite read transaction: every walk sees the same snapshot, even
 *   if a server still writes (what it writes after the snapshot is for the next run).
 * - Rows are walked in primary-key order, a batch of pictures at a time with their derived images,
 *   so memory stays bounded whatever the store's size. Both engines order keys byte-wise (SQLite's
 *   BINARY, PostgreSQL's COLLATE "C"), so one key range selects the same rows on both sides.
 * - For each batch the blobs go first, each checked by its hash (the key IS the SHA-256 of the
 *   bytes) on the way in and read back from the target after writing; then the rows, in one
 *   transaction. No row in the target ever names a blob the target lacks, and a run cut short
 *   can simply be run again: what is already there, byte-identical, is left alone.
 * - Before anything is written, one walk compares the rows: a target row that differs from the
 *   source's, or one the source does not have, stops the run (nothing written) unless `force`,
 *   which makes the target's rows an exact copy of the source's (replacing and deleting).
 * - A row whose blob is missing or damaged in the source is not copied and is reported: a derived
 *   image is made again on its next request, a picture is fetched again (as garbage collection
 *   treats them on disk). Rows are never written without their bytes.
 * - At the end, a second walk compares every row (and a checksum over each table's canonical rows)
 *   and reads back every blob the target's rows name, unless this run already read it back.
 */
import type { Database } from 'bun:sqlite'
import type { SQL as PostgresClient } from 'bun'
import { type AnyColumn, and, asc, type SQL, sql } from 'drizzle-orm'
import { drizzle as drizzlePg } from 'drizzle-orm/bun-sql'
import { drizzle as drizzleSqlite } from 'drizzle-orm/bun-sqlite'
import { sha256Hex } from '../lib/hash.ts'
import * as lite from './schema.ts'
import type { DerivativeRow, PictureRow } from './schema.ts'
import * as pg from './schema-pg.ts'
import { formatBytes } from './gc.ts'
import type { BlobStore } from './types.ts'

/** Pictures per batch (with all their derived images). */
const BATCH = 200
/** Rows per INSERT statement (PostgreSQL takes at most 65 535 parameters). */
const INSERT_CHUNK = 1000
/** Blobs moved at once. */
const CONCURRENCY = 8
/** Hashes remembered as read back during this run, so the verification need not read them again. */
const VERIFIED_CAP = 200_000
/** Examples kept per kind of problem. */
const EXAMPLES = 10

// Every column, in a fixed order: the canonical text of a row. Typed as a record of the row's keys,
// so a column added to the schema fails the type check here until the copy knows of it.
const PICTURE_FIELDS: Record<keyof PictureRow, true> = {
  type: true,
  publicId: true,
  version: true,
  status: true,
  upstreamUrl: true,
  changeKey: true,
  etag: true,
  lastModified: true,
  contentHash: true,
  format: true,
  width: true,
  height: true,
  bytes: true,
  faces: true,
  createdAt: true,
  fetchedAt: true,
  checkedAt: true,
  lastServedAt: true,
}
const DERIVATIVE_FIELDS: Record<keyof DerivativeRow, true> = {
  type: true,
  publicId: true,
  version: true,
  key: true,
  format: true,
  contentHash: true,
  bytes: true,
  width: true,
  height: true,
  createdAt: true,
  lastServedAt: true,
  eager: true,
}
const PICTURE_COLUMNS = Object.keys(PICTURE_FIELDS) as Array<keyof PictureRow>
const DERIVATIVE_COLUMNS = Object.keys(DERIVATIVE_FIELDS) as Array<keyof DerivativeRow>

type Row = PictureRow | DerivativeRow

/** A row as one line of JSON, its columns in schema order: equal texts, equal rows. */
export function pictureText(row: PictureRow): string {
  return JSON.stringify(PICTURE_COLUMNS.map((column) => row[column]))
}
export function derivativeText(row: DerivativeRow): string {
  return JSON.stringify(DERIVATIVE_COLUMNS.map((column) => row[column]))
}
export const pictureKey = (row: Pick<PictureRow, 'type' | 'publicId'>) => JSON.stringify([row.type, row.publicId])
export const derivativeKey = (row: Pick<DerivativeRow, 'type' | 'publicId' | 'version' | 'key'>) =>
  JSON.stringify([row.type, row.publicId, row.version, row.key])

export interface RowDiff<R> {
  /** In the source only. */
  added: R[]
  same: number
  /** In both, different. */
  changed: Array<{ source: R; target: R }>
  /** In the target only. */
  extra: R[]
}

/** The rows of one key range on both sides, matched by key. */
export function diffRows<R>(source: R[], target: R[], keyOf: (row: R) => string, textOf: (row: R) => string) {
  const theirs = new Map(target.map((row) => [keyOf(row), row]))
  const diff: RowDiff<R> = { added: [], same: 0, changed: [], extra: [] }
  for (const row of source) {
    const key = keyOf(row)
    const other = theirs.get(key)
    theirs.delete(key)
    if (other === undefined) diff.added.push(row)
    else if (textOf(other) === textOf(row)) diff.same++
    else diff.changed.push({ source: row, target: other })
  }
  diff.extra = [...theirs.values()]
  return diff
}

// ---- the two ends ----------------------------------------------------------------------------

export interface CopySource {
  /** The source's SQLite database (read only). */
  db: Database
  blobs: BlobStore
}

export interface CopyTarget {
  /** The target's PostgreSQL client, its schema already migrated (openPostgresDatabase). */
  client: PostgresClient
  /** Put must write the bytes even when an object of that key exists (a damaged one is replaced). */
  blobs: BlobStore
}

export type CopyMode = 'copy' | 'dry-run' | 'verify-only'

export interface CopyOptions {
  mode: CopyMode
  /** Replace target rows that differ and delete those the source lacks. */
  force?: boolean
  /** Progress lines (stderr in the command). */
  progress?: (line: string) => void
  now?: () => number
  /** Test seam: pictures per batch. */
  batch?: number
}

interface PictureKeyRange {
  /** Exclusive lower bound; undefined = from the first key. */
  after?: { type: string; publicId: string }
  /** Inclusive upper bound; undefined = to the last key. */
  upTo?: { type: string; publicId: string }
}

/** Reads both ends in the same key ranges, with the same order. */
function openEnds(source: CopySource, target: CopyTarget) {
  const liteDb = drizzleSqlite(source.db)
  const pgDb = drizzlePg({ client: target.client })

  const range = (
    type: AnyColumn,
    publicId: AnyColumn,
    { after, upTo }: PictureKeyRange,
    cast: boolean,
  ): SQL | undefined => {
    // PostgreSQL: compare as the columns do (COLLATE "C", byte order), as SQLite's BINARY does.
    const value = (text: string) => (cast ? sql`${text}::text COLLATE "C"` : sql`${text}`)
    return and(
      after === undefined ? undefined : sql`(${type}, ${publicId}) > (${value(after.type)}, ${value(after.publicId)})`,
      upTo === undefined ? undefined : sql`(${type}, ${publicId}) <= (${value(upTo.type)}, ${value(upTo.publicId)})`,
    )
  }

  return {
    sourcePicturePage(after: PictureKeyRange['after'], limit: number): PictureRow[] {
      const t = lite.pictures
      return liteDb
        .select()
        .from(t)
        .where(range(t.type, t.publicId, { after }, false))
        .orderBy(asc(t.type), asc(t.publicId))
        .limit(limit)
        .all()
    },
    sourceDerivatives(keys: PictureKeyRange): DerivativeRow[] {
      const t = lite.derivatives
      return liteDb
        .select()
        .from(t)
        .where(range(t.type, t.publicId, keys, false))
        .orderBy(asc(t.type), asc(t.publicId), asc(t.version), asc(t.key))
        .all()
    },
    async targetPictures(keys: PictureKeyRange): Promise<PictureRow[]> {
      const t = pg.pictures
      const rows = await pgDb
        .select()
        .from(t)
        .where(range(t.type, t.publicId, keys, true))
        .orderBy(asc(t.type), asc(t.publicId))
      return rows as PictureRow[]
    },
    async targetDerivatives(keys: PictureKeyRange): Promise<DerivativeRow[]> {
      const t = pg.derivatives
      const rows = await pgDb
        .select()
        .from(t)
        .where(range(t.type, t.publicId, keys, true))
        .orderBy(asc(t.type), asc(t.publicId), asc(t.version), asc(t.key))
      return rows as DerivativeRow[]
    },
    sourceCounts(): { pictures: number; derivatives: number } {
      const count = (table: string) =>
        Number((source.db.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n)
      return { pictures: count('pictures'), derivatives: count('derivatives') }
    },
    sourceUsage(): { bytes: number; blobs: number } {
      const row = source.db.query('SELECT bytes, blobs FROM store_totals WHERE id = 1').get() as {
        bytes: number
        blobs: number
      } | null
      return { bytes: Number(row?.bytes ?? 0), blobs: Number(row?.blobs ?? 0) }
    },
    async targetUsage(): Promise<{ bytes: number; blobs: number }> {
      const [row] = await target.client.unsafe('SELECT bytes, blobs FROM store_totals WHERE id = 1')
      return { bytes: Number(row?.bytes ?? 0), blobs: Number(row?.blobs ?? 0) }
    },
    /** Writes one batch in one transaction: deletions first, then pictures before their derived images. */
    async writeBatch(batch: {
      deleteDerivatives: DerivativeRow[]
      deletePictures: PictureRow[]
      pictures: PictureRow[]
      derivatives: DerivativeRow[]
    }): Promise<void> {
      const p = pg.pictures
      const d = pg.derivatives
      await pgDb.transaction(async (tx) => {
        for (const row of batch.deleteDerivatives) {
          await tx
            .delete(d)
            .where(
              sql`(${d.type}, ${d.publicId}, ${d.version}, ${d.key}) = (${row.type}, ${row.publicId}, ${row.version}, ${row.key})`,
            )
        }
        for (const row of batch.deletePictures) {
          // The foreign key's cascade takes the picture's derived images with it.
          await tx.delete(p).where(sql`(${p.type}, ${p.publicId}) = (${row.type}, ${row.publicId})`)
        }
        for (let i = 0; i < batch.pictures.length; i += INSERT_CHUNK) {
          await tx
            .insert(p)
            .values(batch.pictures.slice(i, i + INSERT_CHUNK))
            .onConflictDoUpdate({ target: [p.type, p.publicId], set: excluded(PICTURE_COLUMNS, p) })
        }
        for (let i = 0; i < batch.derivatives.length; i += INSERT_CHUNK) {
          await tx
            .insert(d)
            .values(batch.derivatives.slice(i, i + INSERT_CHUNK))
            .onConflictDoUpdate({
              target: [d.type, d.publicId, d.version, d.key],
              set: excluded(DERIVATIVE_COLUMNS, d),
            })
        }
      })
    },
  }
}

/** `{ column: excluded.column }` for every column (an upsert that makes the row the source's, all of it). */
function excluded(columns: readonly string[], table: object): Record<string, SQL> {
  const set: Record<string, SQL> = {}
  for (const name of columns) {
    const column = (table as Record<string, { name: string }>)[name]!
    set[name] = sql.raw(`excluded."${column.name}"`)
  }
  return set
}

// ---- blobs ------------------------------------------------------------------------------------

export type BlobOutcome = 'present' | 'copied' | 'repaired' | 'missing-in-source' | 'damaged-in-source'

/**
 * Makes sure the target holds the blob `hash` with the right bytes: present and hashing to its key
 * → left alone; otherwise read from the source, checked, written and read back. With `write`
 * false (a dry run), only says what would happen.
 */
export async function ensureBlob(
  hash: string,
  source: BlobStore,
  target: BlobStore,
  write: boolean,
): Promise<{ outcome: BlobOutcome; bytes: number }> {
  const existing = await target.get(hash)
  if (existing !== undefined && sha256Hex(existing) === hash) return { outcome: 'present', bytes: existing.byteLength }
  const bytes = await source.get(hash)
  if (bytes === undefined) return { outcome: 'missing-in-source', bytes: 0 }
  if (sha256Hex(bytes) !== hash) return { outcome: 'damaged-in-source', bytes: bytes.byteLength }
  if (write) {
    await target.put(bytes)
    const back = await target.get(hash)
    if (back === undefined || sha256Hex(back) !== hash) {
      throw new Error(`blob ${hash}: the target does not give back the bytes just written`)
    }
  }
  return { outcome: existing === undefined ? 'copied' : 'repaired', bytes: bytes.byteLength }
}

/** Runs `work` over `items`, at most `limit` at once. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const lane = async () => {
    while (next < items.length) await work(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane))
}

// ---- the report -------------------------------------------------------------------------------

export interface TableReport {
  /** Rows in the source (at the snapshot). */
  source: number
  /** Rows in the target after the run. */
  target: number
  /** Written because the target lacked them (or, in a dry run, would be). */
  copied: number
  /** Already in the target, identical. */
  same: number
  /** Different in the target: replaced with `force`, otherwise the reason for refusing. */
  changed: number
  /** In the target only: deleted with `force`, otherwise the reason for refusing. */
  extra: number
  /** Not copied: their blob is missing or damaged in the source (or their picture was not copied). */
  skipped: number
  /** SHA-256 over the canonical rows, in key order: of the source rows the target should hold, and of the target's. */
  checksum: { source: string; target: string }
}

export interface CopyReport {
  mode: CopyMode
  force: boolean
  /** False when the run refused to write (conflicting rows without `force`). */
  proceeded: boolean
  pictures: TableReport
  derivatives: TableReport
  /** Held pictures in the target with their faces detected, and the boxes among them. */
  faces: { pictures: number; boxes: number }
  blobs: {
    /** Distinct blobs looked at (a blob shared by several batches counts once per batch). */
    checked: number
    present: number
    copied: number
    repaired: number
    bytesCopied: number
    /** Source blobs missing or no longer matching their hash: how many (per batch naming them), and some of them. */
    missingInSource: { count: number; examples: string[] }
    damagedInSource: { count: number; examples: string[] }
  }
  /** Examples of conflicting rows (key and what differs). */
  conflicts: string[]
  verification?: {
    ok: boolean
    mismatches: number
    examples: string[]
    /** Blobs read back from the target by the verification itself (the rest were read back while copying). */
    blobsRead: number
    usage: { source: { bytes: number; blobs: number }; target: { bytes: number; blobs: number } }
  }
  durationMs: number
}

const emptyTable = (): TableReport => ({
  source: 0,
  target: 0,
  copied: 0,
  same: 0,
  changed: 0,
  extra: 0,
  skipped: 0,
  checksum: { source: '', target: '' },
})

function describeChange(label: string, key: string, source: Row, target: Row): string {
  const columns = Object.keys(source).filter(
    (column) =>
      JSON.stringify((source as Record<string, unknown>)[column]) !==
      JSON.stringify((target as Record<string, unknown>)[column]),
  )
  return `${label} ${key} differs in ${columns.join(', ')}`
}

// ---- the run ----------------------------------------------------------------------------------

type Ends = ReturnType<typeof openEnds>

/** One key range of both sides, matched. */
interface Batch {
  pictures: RowDiff<PictureRow>
  derivatives: RowDiff<DerivativeRow>
  sourcePictures: PictureRow[]
  sourceDerivatives: DerivativeRow[]
  targetPictures: PictureRow[]
  targetDerivatives: DerivativeRow[]
}

/**
 * Visits every key range once: the source's pictures a batch at a time with their derived images,
 * and for the last range everything after them, so rows only the target has are seen too.
 */
async function walkRanges(ends: Ends, batchSize: number, visit: (batch: Batch) => Promise<void>): Promise<void> {
  let after: PictureKeyRange['after']
  for (;;) {
    const page = ends.sourcePicturePage(after, batchSize)
    const last = page.at(-1)
    const range: PictureKeyRange = { after, upTo: page.length < batchSize ? undefined : last }
    const sourceDerivatives = ends.sourceDerivatives(range)
    const [targetPictures, targetDerivatives] = await Promise.all([
      ends.targetPictures(range),
      ends.targetDerivatives(range),
    ])
    await visit({
      pictures: diffRows(page, targetPictures, pictureKey, pictureText),
      derivatives: diffRows(sourceDerivatives, targetDerivatives, derivativeKey, derivativeText),
      sourcePictures: page,
      sourceDerivatives,
      targetPictures,
      targetDerivatives,
    })
    if (range.upTo === undefined) return
    after = { type: last!.type, publicId: last!.publicId }
  }
}

/** What the phases of one run share. */
interface Run {
  source: CopySource
  target: CopyTarget
  ends: Ends
  report: CopyReport
  force: boolean
  walk: (visit: (batch: Batch) => Promise<void>) => Promise<void>
  say: (line: string) => void
  now: () => number
  /** Hashes read back from the target and found right during this run (bounded). */
  verified: Set<string>
  remember: (hash: string) => void
}

/** Copies (or only compares) the source into the target, then verifies. Throws on I/O errors. */
export async function copyStore(source: CopySource, target: CopyTarget, options: CopyOptions): Promise<CopyReport> {
  const now = options.now ?? Date.now
  const started = now()
  const ends = openEnds(source, target)
  const verified = new Set<string>()
  const run: Run = {
    source,
    target,
    ends,
    report: {
      mode: options.mode,
      force: options.force === true,
      proceeded: true,
      pictures: emptyTable(),
      derivatives: emptyTable(),
      faces: { pictures: 0, boxes: 0 },
      blobs: {
        checked: 0,
        present: 0,
        copied: 0,
        repaired: 0,
        bytesCopied: 0,
        missingInSource: { count: 0, examples: [] },
        damagedInSource: { count: 0, examples: [] },
      },
      conflicts: [],
      durationMs: 0,
    },
    force: options.force === true,
    walk: (visit) => walkRanges(ends, options.batch ?? BATCH, visit),
    say: options.progress ?? (() => {}),
    now,
    verified,
    remember: (hash) => {
      if (verified.size < VERIFIED_CAP) verified.add(hash)
    },
  }
  const { report } = run

  // One snapshot of the source for every walk (WAL: a server may keep writing meanwhile).
  source.db.run('BEGIN')
  try {
    const counts = ends.sourceCounts()
    report.pictures.source = counts.pictures
    report.derivatives.source = counts.derivatives
    run.say(`source: ${counts.pictures} pictures, ${counts.derivatives} derived images`)
    if (options.mode !== 'verify-only') {
      await compareRows(run)
      // A refused copy stops here; a refused dry run goes on counting what a forced run would do.
      if (report.proceeded || options.mode === 'dry-run') await copyRows(run, options.mode === 'copy')
    }
    if (options.mode === 'verify-only' || (options.mode === 'copy' && report.proceeded)) await verifyCopy(run)
  } finally {
    source.db.run('COMMIT')
  }
  report.durationMs = now() - started
  return report
}

/** 1. Compare before writing anything: differing or foreign rows stop the run unless forced. */
async function compareRows(run: Run): Promise<void> {
  const { report } = run
  run.say('comparing the rows with the target')
  const note = <R extends Row>(label: string, table: TableReport, diff: RowDiff<R>, keyOf: (row: R) => string) => {
    // What a refused run reports; a run that goes on counts again while copying.
    table.copied += diff.added.length
    table.same += diff.same
    table.changed += diff.changed.length
    table.extra += diff.extra.length
    for (const { source, target } of diff.changed) {
      if (report.conflicts.length < EXAMPLES)
        report.conflicts.push(describeChange(label, keyOf(source), source, target))
    }
    for (const row of diff.extra) {
      if (report.conflicts.length < EXAMPLES) report.conflicts.push(`${label} ${keyOf(row)} is in the target only`)
    }
  }
  await run.walk(async ({ pictures, derivatives }) => {
    note('picture', report.pictures, pictures, pictureKey)
    note('derived image', report.derivatives, derivatives, derivativeKey)
  })
  const conflicting =
    report.pictures.changed + report.pictures.extra + report.derivatives.changed + report.derivatives.extra
  if (conflicting > 0) run.say(`target: ${conflicting} rows differ from the source or are not in it`)
  if (conflicting > 0 && !run.force) report.proceeded = false
}

/** 2. Copy (or, with `write` false, count what would be copied): blobs first, then the rows naming them. */
async function copyRows(run: Run, write: boolean): Promise<void> {
  const { report, force } = run
  for (const table of [report.pictures, report.derivatives])
    Object.assign(table, emptyTable(), { source: table.source })
  let done = 0
  let lastSaid = run.now()
  const progress = () =>
    `${write ? 'copied' : 'compared'} ${done}/${report.pictures.source} pictures; blobs: ` +
    `${report.blobs.copied + report.blobs.repaired} ${write ? 'written' : 'to write'} ` +
    `(${report.blobs.bytesCopied} bytes), ${report.blobs.present} already there`
  await run.walk(async ({ pictures, derivatives, sourcePictures, sourceDerivatives }) => {
    const hashes = new Set<string>()
    for (const row of [...sourcePictures, ...sourceDerivatives]) if (row.contentHash) hashes.add(row.contentHash)
    const unusable = new Set<string>()
    await eachLimited([...hashes], CONCURRENCY, async (hash) => {
      const { outcome, bytes } = await ensureBlob(hash, run.source.blobs, run.target.blobs, write)
      report.blobs.checked++
      if (outcome === 'present') report.blobs.present++
      else if (outcome === 'copied' || outcome === 'repaired') {
        report.blobs[outcome]++
        report.blobs.bytesCopied += bytes
      } else {
        unusable.add(hash)
        const lost = outcome === 'missing-in-source' ? report.blobs.missingInSource : report.blobs.damagedInSource
        lost.count++
        if (lost.examples.length < EXAMPLES && !lost.examples.includes(hash)) lost.examples.push(hash)
      }
      if (write && !unusable.has(hash)) run.remember(hash)
    })
    // A picture whose original is unusable is not copied, nor are its derived images (foreign key).
    const skippedPictures = new Set(
      sourcePictures.filter((p) => p.contentHash !== null && unusable.has(p.contentHash)).map(pictureKey),
    )
    const usablePicture = (row: PictureRow) => !skippedPictures.has(pictureKey(row))
    const usableDerivative = (row: DerivativeRow) =>
      !unusable.has(row.contentHash) && !skippedPictures.has(pictureKey(row))
    report.pictures.skipped += skippedPictures.size
    report.derivatives.skipped += sourceDerivatives.filter((row) => !usableDerivative(row)).length

    const newPictures = pictures.added.filter(usablePicture)
    const newDerivatives = derivatives.added.filter(usableDerivative)
    for (const [table, diff, copied] of [
      [report.pictures, pictures, newPictures.length],
      [report.derivatives, derivatives, newDerivatives.length],
    ] as const) {
      table.copied += copied
      table.same += diff.same
      table.changed += diff.changed.length
      table.extra += diff.extra.length
    }
    if (write) {
      await run.ends.writeBatch({
        deleteDerivatives: force ? derivatives.extra : [],
        deletePictures: force ? pictures.extra : [],
        pictures: [...newPictures, ...(force ? pictures.changed.map((c) => c.source).filter(usablePicture) : [])],
        derivatives: [
          ...newDerivatives,
          ...(force ? derivatives.changed.map((c) => c.source).filter(usableDerivative) : []),
        ],
      })
    }
    done += sourcePictures.length
    if (run.now() - lastSaid >= 1000) {
      lastSaid = run.now()
      run.say(progress())
    }
  })
  run.say(progress())
}

/** 3. Verify: every row equal, every named blob present with the right hash, the totals equal. */
async function verifyCopy(run: Run): Promise<void> {
  const { report, source, target } = run
  run.say('verifying')
  const examples: string[] = []
  let mismatches = 0
  const mismatch = (text: string) => {
    mismatches++
    if (examples.length < EXAMPLES) examples.push(text)
  }
  const sourceHash = { pictures: new Bun.CryptoHasher('sha256'), derivatives: new Bun.CryptoHasher('sha256') }
  const targetHash = { pictures: new Bun.CryptoHasher('sha256'), derivatives: new Bun.CryptoHasher('sha256') }
  let blobsRead = 0
  const counted = { pictures: 0, derivatives: 0, skippedPictures: 0, skippedDerivatives: 0 }
  /** Is the source's blob unusable (so its rows are rightly absent from the target)? */
  const unusableInSource = async (hash: string | null) => {
    if (hash === null) return false
    const bytes = await source.blobs.get(hash)
    return bytes === undefined || sha256Hex(bytes) !== hash
  }
  let lastSaid = run.now()
  await run.walk(async (batch) => {
    if (run.now() - lastSaid >= 1000) {
      lastSaid = run.now()
      run.say(`verified ${counted.pictures} pictures, ${blobsRead} blobs read back, ${mismatches} problems so far`)
    }
    counted.pictures += batch.targetPictures.length
    counted.derivatives += batch.targetDerivatives.length
    const absentPictures = new Set<string>()
    for (const row of batch.pictures.added) {
      if (await unusableInSource(row.contentHash)) {
        counted.skippedPictures++
        absentPictures.add(pictureKey(row))
      } else mismatch(`picture ${pictureKey(row)} is missing from the target`)
    }
    const absentDerivatives = new Set<string>()
    for (const row of batch.derivatives.added) {
      if (absentPictures.has(pictureKey(row)) || (await unusableInSource(row.contentHash))) {
        counted.skippedDerivatives++
        absentDerivatives.add(derivativeKey(row))
      } else mismatch(`derived image ${derivativeKey(row)} is missing from the target`)
    }
    for (const { source: s, target: t } of batch.pictures.changed)
      mismatch(describeChange('picture', pictureKey(s), s, t))
    for (const { source: s, target: t } of batch.derivatives.changed)
      mismatch(describeChange('derived image', derivativeKey(s), s, t))
    for (const row of batch.pictures.extra) mismatch(`picture ${pictureKey(row)} is in the target only`)
    for (const row of batch.derivatives.extra) mismatch(`derived image ${derivativeKey(row)} is in the target only`)

    // Checksums: the source rows the target should hold (all but the skipped ones), and the
    // target's rows, in key order.
    for (const row of batch.sourcePictures)
      if (!absentPictures.has(pictureKey(row))) sourceHash.pictures.update(`${pictureText(row)}\n`)
    for (const row of batch.sourceDerivatives)
      if (!absentDerivatives.has(derivativeKey(row))) sourceHash.derivatives.update(`${derivativeText(row)}\n`)
    for (const row of batch.targetPictures) targetHash.pictures.update(`${pictureText(row)}\n`)
    for (const row of batch.targetDerivatives) targetHash.derivatives.update(`${derivativeText(row)}\n`)

    for (const row of batch.targetPictures) {
      if (row.status !== 'ok' || row.faces === null) continue
      report.faces.pictures++
      report.faces.boxes += (JSON.parse(row.faces) as unknown[]).length
    }

    // Every blob the target's rows name, read back unless this run already did.
    const named = new Set<string>()
    for (const row of [...batch.targetPictures, ...batch.targetDerivatives])
      if (row.contentHash && !run.verified.has(row.contentHash)) named.add(row.contentHash)
    await eachLimited([...named], CONCURRENCY, async (hash) => {
      const bytes = await target.blobs.get(hash)
      blobsRead++
      if (bytes === undefined) mismatch(`blob ${hash} is missing from the target`)
      else if (sha256Hex(bytes) !== hash) mismatch(`blob ${hash} is damaged in the target (its bytes hash differently)`)
      else run.remember(hash)
    })
  })
  report.pictures.target = counted.pictures
  report.derivatives.target = counted.derivatives
  report.pictures.skipped = counted.skippedPictures
  report.derivatives.skipped = counted.skippedDerivatives
  report.pictures.checksum = { source: sourceHash.pictures.digest('hex'), target: targetHash.pictures.digest('hex') }
  report.derivatives.checksum = {
    source: sourceHash.derivatives.digest('hex'),
    target: targetHash.derivatives.digest('hex'),
  }
  for (const [label, table] of [
    ['pictures', report.pictures],
    ['derived images', report.derivatives],
  ] as const) {
    if (table.checksum.source !== table.checksum.target && mismatches === 0) mismatch(`${label}: the checksums differ`)
    if (table.source - table.skipped !== table.target)
      mismatch(`${label}: ${table.source - table.skipped} expected in the target, ${table.target} there`)
  }
  const usage = { source: run.ends.sourceUsage(), target: await run.ends.targetUsage() }
  // The totals cover the same blobs only when every row was copied.
  if (
    counted.skippedPictures + counted.skippedDerivatives === 0 &&
    (usage.source.bytes !== usage.target.bytes || usage.source.blobs !== usage.target.blobs)
  ) {
    mismatch(
      `store totals differ: source ${usage.source.bytes} bytes in ${usage.source.blobs} blobs, ` +
        `target ${usage.target.bytes} bytes in ${usage.target.blobs} blobs`,
    )
  }
  report.verification = { ok: mismatches === 0, mismatches, examples, blobsRead, usage }
}

// ---- the summary ------------------------------------------------------------------------------

/** Did the run do what it was asked, and is the target a verified copy? (the exit code). */
export function copySucceeded(report: CopyReport): boolean {
  if (!report.proceeded) return false
  return report.verification === undefined || report.verification.ok
}

/** The summary `headshot migrate` prints on stdout. */
export function formatCopyReport(report: CopyReport): string {
  // A refused run wrote nothing: its counts are what it would have done, as in a dry run.
  const dry = report.mode === 'dry-run' || !report.proceeded
  const lines: string[] = []
  const table = (label: string, t: TableReport) => {
    const parts = [
      `${t.source} in the source`,
      ...(report.mode === 'verify-only'
        ? []
        : [`${t.copied} ${dry ? 'to copy' : 'copied'}`, `${t.same} already there`]),
    ]
    if (report.mode !== 'verify-only' && (t.changed > 0 || t.extra > 0)) {
      const fate = report.force ? (dry ? 'to replace' : 'replaced') : 'refused'
      parts.push(`${t.changed} different (${fate})`)
      parts.push(`${t.extra} in the target only (${report.force ? (dry ? 'to delete' : 'deleted') : 'refused'})`)
    }
    if (t.skipped > 0) parts.push(`${t.skipped} skipped (blob missing or damaged in the source)`)
    if (report.verification) parts.push(`${t.target} in the target`)
    lines.push(`${label}: ${parts.join(', ')}`)
  }
  table('pictures', report.pictures)
  table('derived images', report.derivatives)
  // A refused copy stopped before looking at the images.
  if (report.mode === 'dry-run' || (report.mode === 'copy' && report.proceeded)) {
    const b = report.blobs
    lines.push(
      `blobs: ${b.copied} ${dry ? 'to copy' : 'copied'}, ${b.repaired} ${dry ? 'to repair' : 'repaired'} (damaged in the target), ` +
        `${formatBytes(b.bytesCopied)}; ${b.present} already there with the right hash`,
    )
    for (const [label, lost] of [
      ['missing in the source', b.missingInSource],
      ['damaged in the source', b.damagedInSource],
    ] as const) {
      if (lost.count > 0)
        lines.push(`blobs ${label}: ${lost.count} (their rows are not copied), e.g. ${lost.examples.join(', ')}`)
    }
  }
  if (!report.proceeded) {
    lines.push(
      'refused: the target holds rows that differ from the source or that the source does not have; nothing was written. ' +
        'Run with --force to make the target a copy of the source (replacing and deleting those rows), ' +
        'or point HEADSHOT_DATABASE_URL at an empty database.',
    )
    for (const example of report.conflicts) lines.push(`  ${example}`)
  }
  const v = report.verification
  if (v) {
    lines.push(`faces: ${report.faces.pictures} pictures with detected faces (${report.faces.boxes} boxes)`)
    lines.push(
      `checksums: pictures ${report.pictures.checksum.target.slice(0, 16)}, derived images ${report.derivatives.checksum.target.slice(0, 16)} ` +
        `(source ${report.pictures.checksum.source.slice(0, 16)}, ${report.derivatives.checksum.source.slice(0, 16)})`,
    )
    lines.push(
      `store: ${formatBytes(v.usage.target.bytes)} in ${v.usage.target.blobs} blobs (source ${formatBytes(v.usage.source.bytes)} in ${v.usage.source.blobs} blobs)`,
    )
    if (v.ok)
      lines.push(
        `verification: ok (every row equal; ${v.blobsRead} blobs read back by the verification, the rest while copying)`,
      )
    else {
      lines.push(`verification: FAILED, ${v.mismatches} problem${v.mismatches === 1 ? '' : 's'}:`)
      for (const example of v.examples) lines.push(`  ${example}`)
    }
  }
  const seconds = report.durationMs / 1000
  const rate =
    report.mode === 'copy' && report.proceeded && seconds > 0
      ? ` (${(report.pictures.source / seconds).toFixed(1)} pictures/s, ${formatBytes(report.blobs.bytesCopied / seconds)}/s written)`
      : ''
  lines.push(`duration: ${seconds.toFixed(seconds < 10 ? 2 : 1)} s${rate}`)
  return `${lines.join('\n')}\n`
}
