/**
 * Drizzle schema for the PostgreSQL backend: the same tables, columns and indexes as the SQLite
 * schema (schema.ts), which stays the reference. `bun run db:generate` turns changes here into a
 * new migration under src/store/migrations-pg/ (drizzle.config.pg.ts) and embeds it
 * (scripts/gen-migrations.ts); change both schemas together.
 *
 * Types: millisecond timestamps (and versions, unix seconds) are `bigint` read as JavaScript numbers
 * (exact up to 2^53, far beyond any date); sizes are `integer` as in SQLite; `eager` is a real
 * `boolean`; faces stay the same compact JSON text as in SQLite, so both backends share one mapping
 * and `null` (not detected) stays distinct from `[]`.
 *
 * Keys compare byte-wise (`COLLATE "C"`), as SQLite's do: the keyset cursors, the prefix filter and
 * the blob listing then order rows the same way on any server whatever its default locale, and the
 * indexes serve those orders.
 */
import { bigint, boolean, customType, foreignKey, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core'
import { PICTURE_STATUSES } from './schema.ts'

/** `text COLLATE "C"`: byte order, independent of the server's locale. */
const key = customType<{ data: string; driverData: string }>({
  dataType: () => 'text COLLATE "C"',
})
const ms = (name: string) => bigint(name, { mode: 'number' })

export const pictures = pgTable(
  'pictures',
  {
    type: key('type').notNull(),
    publicId: key('public_id').notNull(),
    version: ms('version').notNull(),
    status: text('status', { enum: PICTURE_STATUSES }).notNull(),
    upstreamUrl: text('upstream_url'),
    changeKey: text('change_key'),
    etag: text('etag'),
    lastModified: text('last_modified'),
    contentHash: key('content_hash'),
    format: text('format'),
    width: integer('width'),
    height: integer('height'),
    bytes: integer('bytes'),
    /** JSON array of [x, y, w, h]; SQL NULL = faces not yet detected (distinct from `[]` = none found). */
    faces: text('faces'),
    createdAt: ms('created_at').notNull(),
    fetchedAt: ms('fetched_at').notNull(),
    checkedAt: ms('checked_at').notNull(),
    /** Last delivery in any form (ms), written in batches by the served log, never by putPicture. */
    lastServedAt: ms('last_served_at').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.type, t.publicId] }),
    // The same indexes as schema.ts, for the same queries (see the comments there).
    index('pictures_type_created_idx').on(t.type, t.createdAt, t.publicId),
    index('pictures_created_idx').on(t.createdAt, t.type, t.publicId),
    index('pictures_type_checked_idx').on(t.type, t.checkedAt, t.publicId),
    index('pictures_checked_idx').on(t.checkedAt, t.type, t.publicId),
    index('pictures_content_hash_idx').on(t.contentHash),
    index('pictures_served_idx').on(t.status, t.lastServedAt),
  ],
)

export const derivatives = pgTable(
  'derivatives',
  {
    type: key('type').notNull(),
    publicId: key('public_id').notNull(),
    version: ms('version').notNull(),
    key: key('key').notNull(),
    format: text('format').notNull(),
    contentHash: key('content_hash').notNull(),
    bytes: integer('bytes').notNull(),
    width: integer('width').notNull(),
    height: integer('height').notNull(),
    createdAt: ms('created_at').notNull(),
    lastServedAt: ms('last_served_at').notNull(),
    eager: boolean('eager').notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.type, t.publicId, t.version, t.key] }),
    foreignKey({
      name: 'derivatives_picture_fk',
      columns: [t.type, t.publicId],
      foreignColumns: [pictures.type, pictures.publicId],
    })
      .onDelete('cascade')
      .onUpdate('cascade'),
    index('derivatives_content_hash_idx').on(t.contentHash),
    index('derivatives_served_idx').on(t.eager, t.lastServedAt),
  ],
)

/**
 * Store accounting, kept exact by the triggers of migration 0001_store_accounting (plpgsql, the
 * same rules as SQLite's 0004_store_accounting): one `blob_refs` row per blob some row names, with
 * how many rows name it, and their sum in `store_totals` (one row, id 1).
 */
export const blobRefs = pgTable('blob_refs', {
  contentHash: key('content_hash').primaryKey(),
  bytes: bigint('bytes', { mode: 'number' }).notNull(),
  refs: integer('refs').notNull(),
})

export const storeTotals = pgTable('store_totals', {
  id: integer('id').primaryKey(),
  bytes: bigint('bytes', { mode: 'number' }).notNull(),
  blobs: bigint('blobs', { mode: 'number' }).notNull(),
})

/**
 * Networks that told us to stop (a rate limit, refused credentials), shared by every instance on
 * this database (migration 0003_upstream_pauses; src/refresh/upstream-pauses.ts): no upstream call
 * to `network` before `until` (ms since epoch); `next_backoff_ms` is the wait after the next refusal
 * that gives no reset time; `reason` decides how a delivery that needs the network is answered.
 * PostgreSQL only: on SQLite there is one process, which keeps this in memory.
 */
export const upstreamPauses = pgTable('upstream_pauses', {
  network: key('network').primaryKey(),
  until: ms('until').notNull(),
  nextBackoffMs: integer('next_backoff_ms').notNull(),
  reason: text('reason', { enum: ['rate_limited', 'auth'] }).notNull(),
})
