/**
 * Drizzle schema for the embedded SQLite backend. `bun run db:generate` turns changes here into
 * a new SQL migration under src/store/migrations/ and refreshes migrations.gen.ts (see scripts/gen-migrations.ts).
 *
 * Column names are snake_case in SQL and camelCase in TypeScript; timestamps are integer
 * milliseconds (not drizzle's `timestamp` mode) because the store types carry plain numbers.
 */
import { IMAGE_FORMATS } from '../url/types.ts'
import { foreignKey, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'

// Kept as tuples so the column enums track the TypeScript unions (statuses here, formats in url/types.ts).
// No SQL CHECK constraints on purpose: SQLite cannot alter a CHECK without rebuilding the table,
// so adding a format (e.g. avif) later would cost a full table copy. The repository validates instead.
export const PICTURE_STATUSES = ['ok', 'none', 'not_found'] as const

export const pictures = sqliteTable(
  'pictures',
  {
    type: text('type').notNull(),
    publicId: text('public_id').notNull(),
    version: integer('version').notNull(),
    status: text('status', { enum: PICTURE_STATUSES }).notNull(),
    upstreamUrl: text('upstream_url'),
    changeKey: text('change_key'),
    etag: text('etag'),
    lastModified: text('last_modified'),
    contentHash: text('content_hash'),
    format: text('format', { enum: IMAGE_FORMATS }),
    width: integer('width'),
    height: integer('height'),
    bytes: integer('bytes'),
    /** JSON array of [x, y, w, h]; SQL NULL = faces not yet detected (distinct from `[]` = none found). */
    faces: text('faces'),
    createdAt: integer('created_at').notNull(),
    fetchedAt: integer('fetched_at').notNull(),
    checkedAt: integer('checked_at').notNull(),
    /**
     * Last delivery of the picture in any form (ms), written in batches by the served log
     * (src/store/served.ts) and never by putPicture: the store bound forgets the pictures served
     * least recently when dropping derived images is not enough.
     */
    lastServedAt: integer('last_served_at').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.type, t.publicId] }),
    // Keyset paging of the Admin API list: WHERE type = ? AND (created_at, public_id) < (?, ?)
    // ORDER BY created_at, public_id — fully served by this index in either direction.
    index('pictures_type_created_idx').on(t.type, t.createdAt, t.publicId),
    // The same list across every network (Admin API without a type, the Media Library's "all").
    index('pictures_created_idx').on(t.createdAt, t.type, t.publicId),
    // Refresh sweeper ("checked before T, oldest first", per network) and the Media Library's
    // "sort by last checked".
    index('pictures_type_checked_idx').on(t.type, t.checkedAt, t.publicId),
    index('pictures_checked_idx').on(t.checkedAt, t.type, t.publicId),
    // isBlobReferenced() must not scan the table before a blob is deleted.
    index('pictures_content_hash_idx').on(t.contentHash),
    // Store bound: held pictures served least recently first.
    index('pictures_served_idx').on(t.status, t.lastServedAt),
  ],
)

export const derivatives = sqliteTable(
  'derivatives',
  {
    type: text('type').notNull(),
    publicId: text('public_id').notNull(),
    version: integer('version').notNull(),
    key: text('key').notNull(),
    format: text('format', { enum: IMAGE_FORMATS }).notNull(),
    contentHash: text('content_hash').notNull(),
    bytes: integer('bytes').notNull(),
    width: integer('width').notNull(),
    height: integer('height').notNull(),
    createdAt: integer('created_at').notNull(),
    lastServedAt: integer('last_served_at').notNull(),
    /** Made ahead of any request by `explicit` with `eager`: deliverable unsigned even for restricted types. */
    eager: integer('eager', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [
    // The leading (type, public_id) prefix also serves the foreign key's child lookups and
    // deleteDerivatives(type, publicId), so no separate index is needed for those.
    primaryKey({ columns: [t.type, t.publicId, t.version, t.key] }),
    // A derivative never outlives its picture. Callers that need the blob hashes call
    // deleteDerivatives() first; the cascade is the safety net.
    foreignKey({
      name: 'derivatives_picture_fk',
      columns: [t.type, t.publicId],
      foreignColumns: [pictures.type, pictures.publicId],
    })
      .onDelete('cascade')
      .onUpdate('cascade'),
    index('derivatives_content_hash_idx').on(t.contentHash),
    // Store bound: derived images (not eager ones) served least recently first.
    index('derivatives_served_idx').on(t.eager, t.lastServedAt),
  ],
)

/**
 * Store accounting, kept by triggers (migration 0004_store_accounting) so that every writer, in any
 * process, keeps it exact without a scan: `blob_refs` has one row per blob some picture or
 * derivative row names, with how many rows name it; `store_totals` (one row, id 1) sums their bytes.
 * Only sizes come from here: whether a blob may be deleted is still asked of the rows themselves
 * (Repository.isBlobReferenced). A migration that rebuilds `pictures` or `derivatives` drops their
 * triggers with the table and must create them again (openSqliteRepository refuses a database
 * without them).
 */
export const blobRefs = sqliteTable('blob_refs', {
  contentHash: text('content_hash').primaryKey(),
  bytes: integer('bytes').notNull(),
  refs: integer('refs').notNull(),
})

export const storeTotals = sqliteTable('store_totals', {
  id: integer('id').primaryKey(),
  bytes: integer('bytes').notNull(),
  blobs: integer('blobs').notNull(),
})

export type PictureRow = typeof pictures.$inferSelect
export type DerivativeRow = typeof derivatives.$inferSelect
