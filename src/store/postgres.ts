/**
 * The PostgreSQL metadata backend: drizzle-orm on Bun's built-in SQL client (`drizzle-orm/bun-sql`),
 * selected by `HEADSHOT_DATABASE_URL=postgres://…` (docs/operations.md). Why Bun's client and not
 * postgres-js: docs/architecture.md (The store).
 *
 * Same behaviour as sqlite.ts, method for method, with what a shared server changes:
 * - every write that SQLite does in one transaction is one statement or one transaction here, and a
 *   batch (recordServed, evictDerivatives) is one statement over a JSON array: one round trip;
 * - the store accounting (blob_refs, store_totals) is kept by plpgsql triggers (migration
 *   0001_store_accounting), so instances sharing the database keep one exact total;
 * - writers of several instances can meet on the same rows; PostgreSQL then aborts one of them with
 *   a deadlock or serialization failure, which is retried here a few times.
 */
import { SQL } from 'bun'
import { and, asc, DrizzleQueryError, desc, eq, sql } from 'drizzle-orm'
import { type BunSQLDatabase, drizzle } from 'drizzle-orm/bun-sql'
import { pageOf, readListRequest } from './cursor.ts'
import { migratePostgres } from './migrate-pg.ts'
import { fromDerivative, fromPicture, oneOf, toDerivative, toPicture } from './rows.ts'
import { PICTURE_STATUSES } from './schema.ts'
import { derivatives, pictures } from './schema-pg.ts'
import type { Repository } from './types.ts'

/** The triggers of migration 0001_store_accounting (the same names as SQLite's). */
export const PG_ACCOUNTING_TRIGGERS = [
  'blob_refs_added',
  'blob_refs_removed',
  'pictures_blob_named',
  'pictures_blob_unnamed',
  'pictures_blob_renamed',
  'derivatives_blob_named',
  'derivatives_blob_unnamed',
  'derivatives_blob_renamed',
] as const

export interface PostgresOptions {
  /** Connections in this instance's pool (default 10). */
  maxConnections?: number
  /** How long ping() (readiness) may wait for the server (default 2 s). */
  pingTimeoutMs?: number
}

/** Is this a URL that selects PostgreSQL (`postgres://` or `postgresql://`)? */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url)
}

/**
 * Connects, brings the schema up to date (once across instances, under an advisory lock) and checks
 * the accounting triggers. Errors never carry the URL's password.
 */
export async function openPostgresRepository(url: string, options: PostgresOptions = {}): Promise<Repository> {
  return (await openPostgresDatabase(url, options)).repo
}

/** As openPostgresRepository, with the client too (LISTEN/NOTIFY for the invalidation fan-out). */
export async function openPostgresDatabase(
  url: string,
  options: PostgresOptions = {},
): Promise<{ repo: Repository; client: SQL }> {
  const client = new SQL({
    url,
    max: options.maxConnections ?? 10,
    idleTimeout: 60,
    connectionTimeout: 10,
  })
  try {
    await migratePostgres(client)
    await assertAccountingTriggers(client)
  } catch (error) {
    await client.close().catch(() => {})
    throw withoutPassword(error, url)
  }
  return { repo: createRepository(drizzle({ client }), client, options.pingTimeoutMs ?? 2_000), client }
}

async function assertAccountingTriggers(client: SQL): Promise<void> {
  const rows: Array<{ name: string }> = await client.unsafe(
    `SELECT tgname AS name FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = ANY (ARRAY['pictures'::regclass, 'derivatives'::regclass, 'blob_refs'::regclass])`,
  )
  const present = new Set(rows.map((r) => r.name))
  const missing = PG_ACCOUNTING_TRIGGERS.filter((name) => !present.has(name))
  if (missing.length > 0) {
    throw new Error(
      `database lacks the store accounting triggers ${missing.join(', ')} ` +
        '(see src/store/migrations-pg/0001_store_accounting.sql)',
    )
  }
}

/** Replaces the URL's password, wherever a driver error may have copied it. */
function withoutPassword(error: unknown, url: string): unknown {
  let password = ''
  try {
    password = decodeURIComponent(new URL(url).password)
  } catch {}
  if (!(error instanceof Error) || password === '') return error
  for (const secret of new Set([password, encodeURIComponent(password)])) {
    error.message = error.message.replaceAll(secret, '<redacted>')
    if (error.stack) error.stack = error.stack.replaceAll(secret, '<redacted>')
  }
  return error
}

/** SQLSTATEs after which the same statement may simply be run again. */
const RETRYABLE = new Set(['40P01', '40001']) // deadlock_detected, serialization_failure

async function retrying<T>(run: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run()
    } catch (error) {
      const state = sqlState(error)
      if (state === undefined || !RETRYABLE.has(state) || attempt >= attempts) throw driverError(error)
      await Bun.sleep(5 * attempt + Math.random() * 20)
    }
  }
}

/** The SQLSTATE of a driver error (Bun's PostgresError keeps it in `errno`), also under drizzle's wrapper. */
function sqlState(error: unknown): string | undefined {
  const e = driverError(error) as { errno?: unknown; code?: unknown } | undefined
  for (const value of [e?.errno, e?.code]) {
    if (typeof value === 'string' && /^[0-9A-Z]{5}$/.test(value)) return value
  }
  return undefined
}

/**
 * drizzle wraps driver errors in one whose message repeats the query and every parameter; the
 * driver's own error (PostgreSQL's message, e.g. the foreign key violated) is what callers and logs need.
 */
function driverError(error: unknown): unknown {
  return error instanceof DrizzleQueryError && error.cause instanceof Error ? error.cause : error
}

const limitOf = (n: number) => Math.max(0, Math.floor(n))

function createRepository(db: BunSQLDatabase, client: SQL, pingTimeoutMs: number): Repository {
  const pictureKey = (type: string, publicId: string) => and(eq(pictures.type, type), eq(pictures.publicId, publicId))
  const hasEager = sql`EXISTS (SELECT 1 FROM ${derivatives} WHERE ${derivatives.type} = ${pictures.type}
    AND ${derivatives.publicId} = ${pictures.publicId} AND ${derivatives.eager})`
  let closed: Promise<void> | undefined

  return {
    async getPicture(type, publicId) {
      const [row] = await db.select().from(pictures).where(pictureKey(type, publicId))
      return row === undefined ? undefined : toPicture(row)
    },

    async putPicture(picture) {
      const { lastServedAt: _, type: __, publicId: ___, ...update } = fromPicture(picture)
      // An upsert keeps the row, so its derivatives stay; last_served_at is only set on a new row.
      await retrying(() =>
        db
          .insert(pictures)
          .values(fromPicture(picture))
          .onConflictDoUpdate({ target: [pictures.type, pictures.publicId], set: update }),
      )
    },

    async deletePicture(type, publicId) {
      const deleted = await retrying(() =>
        db.delete(pictures).where(pictureKey(type, publicId)).returning({ type: pictures.type }),
      )
      return deleted.length > 0
    },

    async listPictures(options) {
      const { scope, limit, after } = readListRequest(options)
      const sortColumn = scope.sortBy === 'checked_at' ? pictures.checkedAt : pictures.createdAt
      // Keyset paging on (sort column, type, public_id), as in sqlite.ts: a range scan on the
      // matching index; the keys compare byte-wise (COLLATE "C") like SQLite's.
      const position =
        after === undefined
          ? undefined
          : sql`(${after.sortValue}::bigint, ${after.type}::text COLLATE "C", ${after.publicId}::text COLLATE "C")`
      const afterCondition =
        position === undefined
          ? undefined
          : scope.direction === 'desc'
            ? sql`(${sortColumn}, ${pictures.type}, ${pictures.publicId}) < ${position}`
            : sql`(${sortColumn}, ${pictures.type}, ${pictures.publicId}) > ${position}`
      // left() rather than LIKE: exact and case-sensitive, `%` and `_` literal.
      const prefixCondition =
        scope.prefix === ''
          ? undefined
          : sql`left(${pictures.publicId}, ${scope.prefix.length}::int) = ${scope.prefix}::text`
      const typeCondition = scope.type === undefined ? undefined : eq(pictures.type, scope.type)
      const statusCondition = options.status === undefined ? undefined : eq(pictures.status, options.status)
      const order = scope.direction === 'desc' ? desc : asc
      const rows = await db
        .select()
        .from(pictures)
        .where(and(typeCondition, statusCondition, prefixCondition, afterCondition))
        .orderBy(order(sortColumn), order(pictures.type), order(pictures.publicId))
        .limit(limit + 1)
      return pageOf(rows.map(toPicture), limit, scope)
    },

    async countPictures() {
      const rows = await db
        .select({ type: pictures.type, status: pictures.status, count: sql<string>`count(*)` })
        .from(pictures)
        .groupBy(pictures.type, pictures.status)
        .orderBy(pictures.type, pictures.status)
      return rows.map((r) => ({
        type: r.type,
        status: oneOf(PICTURE_STATUSES, r.status, 'pictures.status'),
        count: Number(r.count),
      }))
    },

    async countDueForRefresh(type, checkedBefore) {
      const [row] = await db
        .select({ count: sql<string>`count(*)` })
        .from(pictures)
        .where(and(eq(pictures.type, type), eq(pictures.status, 'ok'), sql`${pictures.checkedAt} < ${checkedBefore}`))
      return Number(row?.count ?? 0)
    },

    async listDueForRefresh(type, checkedBefore, limit) {
      const rows = await db
        .select()
        .from(pictures)
        .where(and(eq(pictures.type, type), eq(pictures.status, 'ok'), sql`${pictures.checkedAt} < ${checkedBefore}`))
        .orderBy(asc(pictures.checkedAt), asc(pictures.publicId))
        .limit(limitOf(limit))
      return rows.map(toPicture)
    },

    async getDerivative(type, publicId, version, key) {
      const [row] = await db
        .select()
        .from(derivatives)
        .where(
          and(
            eq(derivatives.type, type),
            eq(derivatives.publicId, publicId),
            eq(derivatives.version, version),
            eq(derivatives.key, key),
          ),
        )
      return row === undefined ? undefined : toDerivative(row)
    },

    async putDerivative(derivative) {
      const row = fromDerivative(derivative)
      const { type: _, publicId: __, version: ___, key: ____, ...update } = row
      // A missing picture row fails the foreign key (derivatives_picture_fk): storing the
      // derivative would orphan it and leak its blob.
      await retrying(() =>
        db
          .insert(derivatives)
          .values(row)
          .onConflictDoUpdate({
            target: [derivatives.type, derivatives.publicId, derivatives.version, derivatives.key],
            set: update,
          }),
      )
    },

    async recordServed(batch) {
      // One statement per table over the whole batch; dates only move forward (a late batch, or
      // another instance's, never rewinds one), and a row already as recent is not written.
      if (batch.derivatives.length > 0) {
        const items = JSON.stringify(batch.derivatives)
        await retrying(() =>
          client.unsafe(
            `UPDATE derivatives d SET last_served_at = v.at
             FROM (SELECT type, "publicId", version, key, max(at) AS at
                   FROM jsonb_to_recordset($1::text::jsonb) AS x(type text, "publicId" text, version bigint, key text, at bigint)
                   GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4) v
             WHERE d.type = v.type AND d.public_id = v."publicId" AND d.version = v.version AND d.key = v.key
               AND d.last_served_at < v.at`,
            [items],
          ),
        )
      }
      if (batch.pictures.length > 0) {
        const items = JSON.stringify(batch.pictures)
        await retrying(() =>
          client.unsafe(
            `UPDATE pictures p SET last_served_at = v.at
             FROM (SELECT type, "publicId", max(at) AS at
                   FROM jsonb_to_recordset($1::text::jsonb) AS x(type text, "publicId" text, at bigint)
                   GROUP BY 1, 2 ORDER BY 1, 2) v
             WHERE p.type = v.type AND p.public_id = v."publicId" AND p.last_served_at < v.at`,
            [items],
          ),
        )
      }
    },

    async listDerivatives(type, publicId) {
      const rows = await db
        .select()
        .from(derivatives)
        .where(and(eq(derivatives.type, type), eq(derivatives.publicId, publicId)))
        .orderBy(desc(derivatives.version), desc(derivatives.createdAt), asc(derivatives.key))
      return rows.map(toDerivative)
    },

    async deleteDerivatives(type, publicId) {
      const rows = await retrying(() =>
        db
          .delete(derivatives)
          .where(and(eq(derivatives.type, type), eq(derivatives.publicId, publicId)))
          .returning({ contentHash: derivatives.contentHash }),
      )
      return [...new Set(rows.map((r) => r.contentHash))]
    },

    async deleteExpiredAbsent(checkedBefore, limit) {
      const rows = await retrying(() =>
        client.unsafe(
          `DELETE FROM pictures WHERE (type, public_id) IN (
             SELECT type, public_id FROM pictures WHERE status <> 'ok' AND checked_at < $1 LIMIT $2
           ) RETURNING 1`,
          [checkedBefore, limitOf(limit)],
        ),
      )
      return rows.length
    },

    async ping() {
      // A connection that answers within the timeout, on a server that takes writes (a replica
      // promoted away from, or a read-only server, is not ready).
      let timer: ReturnType<typeof setTimeout> | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${pingTimeoutMs} ms`)), pingTimeoutMs)
      })
      try {
        const [row] = await Promise.race([
          client.unsafe(`SELECT current_setting('transaction_read_only') AS read_only`),
          timeout,
        ])
        if (row?.read_only !== 'off') throw new Error('the database is read-only')
      } finally {
        clearTimeout(timer)
      }
    },

    async isBlobReferenced(contentHash) {
      const [row] = await client.unsafe(
        `SELECT EXISTS (SELECT 1 FROM pictures WHERE content_hash = $1)
             OR EXISTS (SELECT 1 FROM derivatives WHERE content_hash = $1) AS referenced`,
        [contentHash],
      )
      return row?.referenced === true
    },

    async storeUsage() {
      const [row] = await client.unsafe('SELECT bytes, blobs FROM store_totals WHERE id = 1')
      return { bytes: Number(row?.bytes ?? 0), blobs: Number(row?.blobs ?? 0) }
    },

    async listColdDerivatives(servedBefore, limit, offset = 0) {
      const rows = await db
        .select()
        .from(derivatives)
        .where(and(eq(derivatives.eager, false), sql`${derivatives.lastServedAt} < ${servedBefore}`))
        .orderBy(asc(derivatives.lastServedAt))
        .limit(limitOf(limit))
        .offset(limitOf(offset))
      return rows.map(toDerivative)
    },

    async evictDerivatives(ids, servedBefore) {
      if (ids.length === 0) return []
      // One statement: each row goes only while still cold and not eager (a delivery recorded in
      // between keeps it); the rows deleted come back with their keys, matched to the ids below.
      const items = JSON.stringify(ids.map(({ type, publicId, version, key }) => ({ type, publicId, version, key })))
      const rows: Array<{
        type: string
        public_id: string
        version: string | number
        key: string
        content_hash: string
      }> = await retrying(() =>
        client.unsafe(
          `DELETE FROM derivatives d
             USING jsonb_to_recordset($1::text::jsonb) AS v(type text, "publicId" text, version bigint, key text)
             WHERE d.type = v.type AND d.public_id = v."publicId" AND d.version = v.version AND d.key = v.key
               AND NOT d.eager AND d.last_served_at < $2
             RETURNING d.type, d.public_id, d.version, d.key, d.content_hash`,
          [items, servedBefore],
        ),
      )
      const deleted = new Map(rows.map((r) => [idText(r.type, r.public_id, Number(r.version), r.key), r.content_hash]))
      return ids.map((id) => deleted.get(idText(id.type, id.publicId, id.version, id.key)))
    },

    async listColdPictures(servedBefore, limit, offset = 0) {
      const rows = await db
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
        .limit(limitOf(limit))
        .offset(limitOf(offset))
      return rows.flatMap((r) =>
        r.contentHash === null ? [] : [{ ...r, contentHash: r.contentHash, bytes: r.bytes ?? 0 }],
      )
    },

    async evictPicture(type, publicId, servedBefore, inUse = () => false) {
      return retrying(() =>
        db.transaction(async (tx) => {
          // FOR UPDATE: a derivative being stored for this picture (its foreign key check locks the
          // row too) or a delivery being recorded waits for this decision, and the conditions are
          // re-checked on the row as it is when the lock is granted.
          const [picture] = await tx
            .select({ contentHash: pictures.contentHash })
            .from(pictures)
            .where(
              and(
                pictureKey(type, publicId),
                eq(pictures.status, 'ok'),
                sql`${pictures.lastServedAt} < ${servedBefore}`,
                sql`NOT ${hasEager}`,
              ),
            )
            .for('update', { of: pictures })
          if (picture?.contentHash == null) return undefined
          const derived = await tx
            .select({ contentHash: derivatives.contentHash })
            .from(derivatives)
            .where(and(eq(derivatives.type, type), eq(derivatives.publicId, publicId)))
          const hashes = [...new Set([picture.contentHash, ...derived.map((d) => d.contentHash)])]
          if (hashes.some(inUse)) return undefined
          await tx.delete(derivatives).where(and(eq(derivatives.type, type), eq(derivatives.publicId, publicId)))
          await tx.delete(pictures).where(pictureKey(type, publicId))
          return hashes
        }),
      )
    },

    async listReferencedBlobs(kind, after, limit) {
      const column = kind === 'original' ? pictures.contentHash : derivatives.contentHash
      const rows = await db
        .selectDistinct({ hash: column })
        .from(kind === 'original' ? pictures : derivatives)
        .where(sql`${column} > ${after}::text COLLATE "C"`)
        .orderBy(asc(column))
        .limit(limitOf(limit))
      return rows.flatMap((r) => (r.hash === null ? [] : [r.hash]))
    },

    async deleteDerivativesOfBlob(contentHash) {
      const rows = await retrying(() =>
        db.delete(derivatives).where(eq(derivatives.contentHash, contentHash)).returning({ key: derivatives.key }),
      )
      return rows.length
    },

    async countExpiredAbsent(checkedBefore) {
      const [row] = await client.unsafe(`SELECT count(*) AS n FROM pictures WHERE status <> 'ok' AND checked_at < $1`, [
        checkedBefore,
      ])
      return Number(row?.n ?? 0)
    },

    close() {
      closed ??= client.close().catch(() => {})
      return closed
    },
  }
}

const idText = (type: string, publicId: string, version: number, key: string) =>
  JSON.stringify([type, publicId, version, key])
