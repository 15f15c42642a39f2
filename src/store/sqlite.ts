/**
 * The embedded metadata backend: drizzle-orm on bun:sqlite.
 *
 * bun:sqlite is synchronous; the methods are async only because the Repository interface must
 * also fit network databases (PostgreSQL later). Queries on the delivery hot path are prepared
 * once per connection.
 */
import { Database } from 'bun:sqlite'
import { chmodSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { and, asc, desc, eq, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import { pageOf, readListRequest } from './cursor.ts'
import { migrateEmbedded } from './migrate.ts'
import { fromDerivative, fromPicture, oneOf, toDerivative, toPicture } from './rows.ts'
import { derivatives, PICTURE_STATUSES, pictures } from './schema.ts'
import type { DerivativeId, Repository, ServedBatch } from './types.ts'

export function openSqliteRepository(path: string | ':memory:'): Repository {
  if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true })
  const client = new Database(path, { create: true, readwrite: true })
  // Pictures' metadata is nobody else's business (the WAL and SHM files follow the umask of the
  // process, so the data directory itself is 0700 too).
  if (path !== ':memory:' && path !== '') chmodSync(path, 0o600)
  try {
    // Wait for another connection's write lock instead of failing with SQLITE_BUSY at once. First,
    // because switching to WAL itself needs the lock when two processes open a fresh file together.
    client.run('PRAGMA busy_timeout = 5000')
    // WAL: readers never block the writer and vice versa, and several processes can share the file.
    // Switching a fresh file to WAL needs an exclusive lock that SQLite does not always wait for
    // (busy_timeout covers most, not all, of the race between two processes starting together).
    withBusyRetry(() => client.run('PRAGMA journal_mode = WAL'))
    // In WAL mode NORMAL is still crash-safe (no corruption); a power cut may lose the last commits.
    client.run('PRAGMA synchronous = NORMAL')
    // Off by default in SQLite and per connection: needed for the derivatives → pictures cascade.
    client.run('PRAGMA foreign_keys = ON')
    const db = drizzle(client)
    migrateEmbedded(db)
    assertAccountingTriggers(client)
    return createRepository(db, client)
  } catch (error) {
    client.close()
    throw error
  }
}

/** The triggers of migration 0004_store_accounting that keep blob_refs and store_totals exact. */
export const ACCOUNTING_TRIGGERS = [
  'blob_refs_added',
  'blob_refs_removed',
  'pictures_blob_named',
  'pictures_blob_unnamed',
  'pictures_blob_renamed',
  'derivatives_blob_named',
  'derivatives_blob_unnamed',
  'derivatives_blob_renamed',
] as const

/**
 * A migration that rebuilds a table (drizzle-kit's way of changing a column in SQLite) drops the
 * table's triggers with it; the store's size would then drift without anyone noticing. Refuse to
 * run instead, naming what is missing.
 */
function assertAccountingTriggers(client: Database): void {
  const present = new Set(
    (client.query(`SELECT name FROM sqlite_master WHERE type = 'trigger'`).all() as { name: string }[]).map(
      (r) => r.name,
    ),
  )
  const missing = ACCOUNTING_TRIGGERS.filter((name) => !present.has(name))
  if (missing.length > 0) {
    throw new Error(
      `database lacks the store accounting triggers ${missing.join(', ')}: a migration that rebuilt a table ` +
        'must create them again (see src/store/migrations/0004_store_accounting.sql)',
    )
  }
}

function withBusyRetry<T>(run: () => T, attempts = 50): T {
  for (let attempt = 1; ; attempt++) {
    try {
      return run()
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || attempt >= attempts) throw error
      Bun.sleepSync(10 + Math.random() * 20)
    }
  }
}

function createRepository(db: ReturnType<typeof drizzle>, client: Database): Repository {
  const p = sql.placeholder
  const pictureKey = and(eq(pictures.type, p('type')), eq(pictures.publicId, p('publicId')))
  const derivativeKey = and(
    eq(derivatives.type, p('type')),
    eq(derivatives.publicId, p('publicId')),
    eq(derivatives.version, p('version')),
    eq(derivatives.key, p('key')),
  )

  const selectPicture = db.select().from(pictures).where(pictureKey).prepare()
  const selectDerivative = db.select().from(derivatives).where(derivativeKey).prepare()
  // Only move forward: concurrent or out-of-order batches never rewind the date, and a touch that
  // changes nothing does not write.
  const touchDerivative = db
    .update(derivatives)
    .set({ lastServedAt: sql`${p('at')}` })
    .where(and(derivativeKey, sql`${derivatives.lastServedAt} < ${p('at')}`))
    .prepare()
  const touchPicture = db
    .update(pictures)
    .set({ lastServedAt: sql`${p('at')}` })
    .where(and(pictureKey, sql`${pictures.lastServedAt} < ${p('at')}`))
    .prepare()
  const recordServed = client.transaction((batch: ServedBatch) => {
    for (const d of batch.derivatives) touchDerivative.run(d)
    for (const picture of batch.pictures) touchPicture.run(picture)
  })
  // Read after every write: a plain prepared statement, without the query builder's mapping.
  const usage = client.prepare<{ bytes: number; blobs: number }, []>(
    'SELECT bytes, blobs FROM store_totals WHERE id = 1',
  )
  // One transaction for a batch: one commit, and the pages they share (store_totals, blob_refs) written once.
  const evictOne = db
    .delete(derivatives)
    .where(and(derivativeKey, eq(derivatives.eager, false), sql`${derivatives.lastServedAt} < ${p('servedBefore')}`))
    .returning({ contentHash: derivatives.contentHash })
    .prepare()
  const evictDerivatives = client.transaction((ids: readonly DerivativeId[], servedBefore: number) =>
    ids.map(
      ({ type, publicId, version, key }) => evictOne.get({ type, publicId, version, key, servedBefore })?.contentHash,
    ),
  )
  const hasEager = sql`EXISTS (SELECT 1 FROM ${derivatives} WHERE ${derivatives.type} = ${pictures.type}
    AND ${derivatives.publicId} = ${pictures.publicId} AND ${derivatives.eager} = 1)`
  const evictPicture = client.transaction(
    (type: string, publicId: string, servedBefore: number, inUse: (contentHash: string) => boolean) => {
      const [picture] = db
        .select({ contentHash: pictures.contentHash })
        .from(pictures)
        .where(
          and(
            eq(pictures.type, type),
            eq(pictures.publicId, publicId),
            eq(pictures.status, 'ok'),
            sql`${pictures.lastServedAt} < ${servedBefore}`,
            sql`NOT ${hasEager}`,
          ),
        )
        .all()
      if (picture?.contentHash == null) return undefined
      const derived = db
        .select({ contentHash: derivatives.contentHash })
        .from(derivatives)
        .where(and(eq(derivatives.type, type), eq(derivatives.publicId, publicId)))
        .all()
      const hashes = [...new Set([picture.contentHash, ...derived.map((d) => d.contentHash)])]
      if (hashes.some(inUse)) return undefined
      db.delete(derivatives)
        .where(and(eq(derivatives.type, type), eq(derivatives.publicId, publicId)))
        .run()
      db.delete(pictures)
        .where(and(eq(pictures.type, type), eq(pictures.publicId, publicId)))
        .run()
      return hashes
    },
  )
  const referencedBlob = client.prepare(
    `SELECT EXISTS (SELECT 1 FROM pictures WHERE content_hash = ?1)
         OR EXISTS (SELECT 1 FROM derivatives WHERE content_hash = ?1) AS referenced`,
  )

  let closed = false

  return {
    async getPicture(type, publicId) {
      const row = selectPicture.get({ type, publicId })
      return row === undefined ? undefined : toPicture(row)
    },

    async putPicture(picture) {
      const row = fromPicture(picture)
      // Upsert rather than INSERT OR REPLACE: REPLACE deletes the old row first, which would
      // fire the ON DELETE CASCADE and silently drop the picture's derivatives.
      db.insert(pictures)
        .values(row)
        .onConflictDoUpdate({ target: [pictures.type, pictures.publicId], set: excludedColumns(PICTURE_UPDATE) })
        .run()
    },

    async deletePicture(type, publicId) {
      // RETURNING rather than run().changes: drizzle types bun-sqlite's run() result as void.
      const deleted = db
        .delete(pictures)
        .where(and(eq(pictures.type, type), eq(pictures.publicId, publicId)))
        .returning({ type: pictures.type })
        .all()
      return deleted.length > 0
    },

    async listPictures(options) {
      const { scope, limit, after } = readListRequest(options)
      const sortColumn = scope.sortBy === 'checked_at' ? pictures.checkedAt : pictures.createdAt
      // Keyset paging on (sort column, type, public_id), unique across the table: stable under
      // concurrent inserts and deletes (no duplicates, no skipped rows that existed throughout),
      // and the row-value comparison is a range scan on the matching index, so page N costs the
      // same as page 1.
      const afterCondition =
        after === undefined
          ? undefined
          : scope.direction === 'desc'
            ? sql`(${sortColumn}, ${pictures.type}, ${pictures.publicId}) < (${after.sortValue}, ${after.type}, ${after.publicId})`
            : sql`(${sortColumn}, ${pictures.type}, ${pictures.publicId}) > (${after.sortValue}, ${after.type}, ${after.publicId})`
      // substr rather than LIKE: LIKE is case-insensitive for ASCII and gives `%`/`_` a meaning.
      const prefixCondition =
        scope.prefix === '' ? undefined : sql`substr(${pictures.publicId}, 1, ${scope.prefix.length}) = ${scope.prefix}`
      const typeCondition = scope.type === undefined ? undefined : eq(pictures.type, scope.type)
      const statusCondition = options.status === undefined ? undefined : eq(pictures.status, options.status)
      const order = scope.direction === 'desc' ? desc : asc
      const rows = db
        .select()
        .from(pictures)
        .where(and(typeCondition, statusCondition, prefixCondition, afterCondition))
        .orderBy(order(sortColumn), order(pictures.type), order(pictures.publicId))
        .limit(limit + 1) // one extra row tells whether another page exists
        .all()
      return pageOf(rows.map(toPicture), limit, scope)
    },

    async countPictures() {
      const rows = db
        .select({ type: pictures.type, status: pictures.status, count: sql<number>`count(*)` })
        .from(pictures)
        .groupBy(pictures.type, pictures.status)
        .orderBy(pictures.type, pictures.status)
        .all()
      return rows.map((r) => ({
        type: r.type,
        status: oneOf(PICTURE_STATUSES, r.status, 'pictures.status'),
        count: Number(r.count),
      }))
    },

    async countDueForRefresh(type, checkedBefore) {
      const [row] = db
        .select({ count: sql<number>`count(*)` })
        .from(pictures)
        .where(and(eq(pictures.type, type), eq(pictures.status, 'ok'), sql`${pictures.checkedAt} < ${checkedBefore}`))
        .all()
      return Number(row?.count ?? 0)
    },

    async listDueForRefresh(type, checkedBefore, limit) {
      const rows = db
        .select()
        .from(pictures)
        .where(and(eq(pictures.type, type), eq(pictures.status, 'ok'), sql`${pictures.checkedAt} < ${checkedBefore}`))
        .orderBy(asc(pictures.checkedAt), asc(pictures.publicId))
        .limit(Math.max(0, Math.floor(limit)))
        .all()
      return rows.map(toPicture)
    },

    async getDerivative(type, publicId, version, key) {
      const row = selectDerivative.get({ type, publicId, version, key })
      return row === undefined ? undefined : toDerivative(row)
    },

    async putDerivative(derivative) {
      // Throws a FOREIGN KEY constraint error when the picture row does not exist (e.g. it was
      // deleted meanwhile): storing it would orphan the derivative and leak its blob.
      db.insert(derivatives)
        .values(fromDerivative(derivative))
        .onConflictDoUpdate({
          target: [derivatives.type, derivatives.publicId, derivatives.version, derivatives.key],
          set: excludedColumns(DERIVATIVE_UPDATE),
        })
        .run()
    },

    async recordServed(batch) {
      if (batch.derivatives.length + batch.pictures.length > 0) recordServed(batch)
    },

    async listDerivatives(type, publicId) {
      const rows = db
        .select()
        .from(derivatives)
        .where(and(eq(derivatives.type, type), eq(derivatives.publicId, publicId)))
        .orderBy(desc(derivatives.version), desc(derivatives.createdAt), asc(derivatives.key))
        .all()
      return rows.map(toDerivative)
    },

    async deleteDerivatives(type, publicId) {
      const rows = db
        .delete(derivatives)
        .where(and(eq(derivatives.type, type), eq(derivatives.publicId, publicId)))
        .returning({ contentHash: derivatives.contentHash })
        .all()
      // Several derivatives may share bytes; callers check and delete each blob once.
      return [...new Set(rows.map((r) => r.contentHash))]
    },

    async deleteExpiredAbsent(checkedBefore, limit) {
      const rows = client
        .query(
          `DELETE FROM pictures WHERE rowid IN (
             SELECT rowid FROM pictures WHERE status != 'ok' AND checked_at < ?1 LIMIT ?2
           ) RETURNING 1`,
        )
        .all(checkedBefore, Math.max(0, Math.floor(limit)))
      return rows.length
    },

    async ping() {
      // BEGIN IMMEDIATE takes the write lock without writing: a read-only file, a full disk's
      // journal trouble or a stuck writer all show here.
      client.run('BEGIN IMMEDIATE')
      client.run('ROLLBACK')
    },

    async isBlobReferenced(contentHash) {
      const row = referencedBlob.get(contentHash) as { referenced: number } | null
      return row?.referenced === 1
    },

    async storeUsage() {
      const row = usage.get()
      return { bytes: Number(row?.bytes ?? 0), blobs: Number(row?.blobs ?? 0) }
    },

    async listColdDerivatives(servedBefore, limit, offset = 0) {
      const rows = db
        .select()
        .from(derivatives)
        .where(and(eq(derivatives.eager, false), sql`${derivatives.lastServedAt} < ${servedBefore}`))
        .orderBy(asc(derivatives.lastServedAt))
        .limit(Math.max(0, Math.floor(limit)))
        .offset(Math.max(0, Math.floor(offset)))
        .all()
      return rows.map(toDerivative)
    },

    async evictDerivatives(ids, servedBefore) {
      return evictDerivatives(ids, servedBefore)
    },

    async listColdPictures(servedBefore, limit, offset = 0) {
      const rows = db
        .select({
          type: pictures.type,
          publicId: pictures.publicId,
          contentHash: pictures.contentHash,
          bytes: pictures.bytes,
          lastServedAt: pictures.lastServedAt,
        })
        .from(pictures)
        .where(and(eq(pictures.status, 'ok'), sql`${pictures.lastServedAt} < ${servedBefore}`, sql`NOT ${hasEager}`))
        .orderBy(asc(pictures.lastServedAt))
        .limit(Math.max(0, Math.floor(limit)))
        .offset(Math.max(0, Math.floor(offset)))
        .all()
      return rows.flatMap((r) =>
        r.contentHash === null ? [] : [{ ...r, contentHash: r.contentHash, bytes: r.bytes ?? 0 }],
      )
    },

    async evictPicture(type, publicId, servedBefore, inUse = () => false) {
      return evictPicture(type, publicId, servedBefore, inUse)
    },

    async listReferencedBlobs(kind, after, limit) {
      const column = kind === 'original' ? pictures.contentHash : derivatives.contentHash
      // DISTINCT over the content_hash index in order: a range scan, whatever the table's size.
      const rows = db
        .selectDistinct({ hash: column })
        .from(kind === 'original' ? pictures : derivatives)
        .where(sql`${column} > ${after}`)
        .orderBy(asc(column))
        .limit(Math.max(0, Math.floor(limit)))
        .all()
      return rows.flatMap((r) => (r.hash === null ? [] : [r.hash]))
    },

    async deleteDerivativesOfBlob(contentHash) {
      return db
        .delete(derivatives)
        .where(eq(derivatives.contentHash, contentHash))
        .returning({ key: derivatives.key })
        .all().length
    },

    async countExpiredAbsent(checkedBefore) {
      const row = client
        .query(`SELECT count(*) AS n FROM pictures WHERE status != 'ok' AND checked_at < ?1`)
        .get(checkedBefore) as { n: number } | null
      return Number(row?.n ?? 0)
    },

    close() {
      if (closed) return
      closed = true
      try {
        client.run('PRAGMA optimize') // refreshes planner statistics if they are stale; cheap
      } finally {
        client.close()
      }
    },
  }
}

// ---- upsert helpers ---------------------------------------------------------------------------

// Every non-key column is replaced on conflict ("insert or replace" semantics, keeping the row).
const PICTURE_UPDATE = [
  pictures.version,
  pictures.status,
  pictures.upstreamUrl,
  pictures.changeKey,
  pictures.etag,
  pictures.lastModified,
  pictures.contentHash,
  pictures.format,
  pictures.width,
  pictures.height,
  pictures.bytes,
  pictures.faces,
  pictures.createdAt,
  pictures.fetchedAt,
  pictures.checkedAt,
] as const
const DERIVATIVE_UPDATE = [
  derivatives.format,
  derivatives.contentHash,
  derivatives.bytes,
  derivatives.width,
  derivatives.height,
  derivatives.createdAt,
  derivatives.lastServedAt,
  derivatives.eager,
] as const

/** `{ column: excluded.column }` for an ON CONFLICT DO UPDATE SET clause. */
function excludedColumns(columns: ReadonlyArray<{ name: string }>): Record<string, ReturnType<typeof sql>> {
  const set: Record<string, ReturnType<typeof sql>> = {}
  for (const column of columns) set[camel(column.name)] = sql.raw(`excluded."${column.name}"`)
  return set
}

function camel(snake: string): string {
  return snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
}
