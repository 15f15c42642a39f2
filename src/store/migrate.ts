/**
 * Applies the migrations embedded by migrations.gen.ts (the SQL imported as text; see
 * scripts/gen-migrations.ts for why), so the
 * compiled binary migrates on start from any working directory with no migrations folder on disk.
 *
 * Bookkeeping is drizzle's own: the `__drizzle_migrations` table, the sha256 of each .sql file
 * and the journal's `when` as created_at, exactly as drizzle's readMigrationFiles() +
 * dialect.migrate() record them. A database migrated here is therefore "up to date" for
 * drizzle's folder migrator too, and vice versa.
 *
 * We run the loop ourselves instead of calling dialect.migrate() for two reasons:
 * - drizzle reads the last applied migration *before* a deferred BEGIN, so two processes starting
 *   together on a fresh file both try to CREATE the tables and one crashes. Here the check is
 *   repeated inside BEGIN IMMEDIATE (the write lock; busy_timeout makes the loser wait).
 * - drizzle-kit's table-rebuild migrations (DROP + rename) say `PRAGMA foreign_keys=OFF`, which
 *   SQLite ignores inside a transaction. With foreign keys on, dropping `pictures` would
 *   cascade-delete every derivative. We switch enforcement off around the transaction and run
 *   `PRAGMA foreign_key_check` before committing instead (SQLite's documented procedure).
 */
import { createHash } from 'node:crypto'
import type { Database } from 'bun:sqlite'
import type { MigrationMeta } from 'drizzle-orm/migrator'
import * as sqliteMigrations from './migrations.gen.ts'

/** drizzle's default bookkeeping table (sqlite dialect). */
export const MIGRATIONS_TABLE = '__drizzle_migrations'

const BREAKPOINT = '--> statement-breakpoint'

export interface EmbeddedMigration extends MigrationMeta {
  /** Journal tag, e.g. `0000_init` (for logs; drizzle does not store it). */
  tag: string
}

/** What a generated migrations file exports (migrations.gen.ts, migrations-pg.gen.ts). */
export interface MigrationSet {
  journal: { entries: ReadonlyArray<{ tag: string; when: number; breakpoints: boolean }> }
  sqlFiles: Record<string, string>
}

/**
 * The embedded migrations (SQLite's unless another set is given), in journal order, shaped
 * exactly like drizzle's readMigrationFiles().
 */
export function embeddedMigrations(set: MigrationSet = sqliteMigrations): EmbeddedMigration[] {
  const { journal, sqlFiles } = set
  return journal.entries.map((entry) => {
    const text = sqlFiles[entry.tag]
    if (text === undefined)
      throw new Error(`migration ${entry.tag} is in the journal but not embedded: run npm run db:generate`)
    return {
      tag: entry.tag,
      sql: text.split(BREAKPOINT),
      bps: entry.breakpoints,
      folderMillis: entry.when,
      hash: createHash('sha256').update(text).digest('hex'),
    }
  })
}

/** Anything that exposes the bun:sqlite handle: a Database itself or a drizzle BunSQLiteDatabase. */
export type SqliteHandle = Database | { $client: Database }

/**
 * Brings the database up to date with the embedded migrations. Idempotent; safe to run from
 * several processes at once. Returns the tags it applied (empty when already current).
 */
export function migrateEmbedded(db: SqliteHandle): string[] {
  return applyMigrations('$client' in db ? db.$client : db, embeddedMigrations())
}

/** The migration loop behind migrateEmbedded(); exported so tests can feed it future migrations. */
export function applyMigrations(client: Database, migrations: EmbeddedMigration[]): string[] {
  const latest = migrations.reduce((max, m) => Math.max(max, m.folderMillis), -Infinity)
  // Fast path without the write lock: every start of every process runs this.
  if (tableExists(client) && lastAppliedMillis(client) >= latest) return []

  const fkWasOn = (client.query('PRAGMA foreign_keys').get() as { foreign_keys: number } | null)?.foreign_keys === 1
  if (fkWasOn) client.run('PRAGMA foreign_keys = OFF') // only effective outside a transaction
  const applied: string[] = []
  try {
    client.run('BEGIN IMMEDIATE')
    try {
      client.run(
        `CREATE TABLE IF NOT EXISTS "${MIGRATIONS_TABLE}" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`,
      )
      // Re-read under the lock: another process may have migrated while we waited.
      const last = lastAppliedMillis(client)
      const record = client.prepare(`INSERT INTO "${MIGRATIONS_TABLE}" ("hash", "created_at") VALUES (?, ?)`)
      for (const migration of migrations) {
        // Same rule as drizzle: apply what is newer than the newest recorded migration.
        if (migration.folderMillis <= last) continue
        for (const statement of migration.sql) {
          if (statement.trim() !== '') client.run(statement)
        }
        record.run(migration.hash, migration.folderMillis)
        applied.push(migration.tag)
      }
      if (applied.length > 0) {
        const violations = client.query('PRAGMA foreign_key_check').all()
        if (violations.length > 0) {
          throw new Error(
            `migration ${applied.join(', ')} left ${violations.length} foreign key violation(s), e.g. ${JSON.stringify(violations[0])}`,
          )
        }
      }
      client.run('COMMIT')
    } catch (error) {
      if (client.inTransaction) client.run('ROLLBACK')
      throw error
    }
  } finally {
    if (fkWasOn) client.run('PRAGMA foreign_keys = ON')
  }
  return applied
}

function tableExists(client: Database): boolean {
  return client.query(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(MIGRATIONS_TABLE) !== null
}

function lastAppliedMillis(client: Database): number {
  if (!tableExists(client)) return -Infinity
  const row = client.query(`SELECT created_at FROM "${MIGRATIONS_TABLE}" ORDER BY created_at DESC LIMIT 1`).get() as {
    created_at: number | string
  } | null
  return row === null ? -Infinity : Number(row.created_at)
}

/** The embedded migrations this database has not had yet (empty: it is current); never writes. */
export function pendingMigrations(client: Database): string[] {
  const last = lastAppliedMillis(client)
  return embeddedMigrations()
    .filter((migration) => migration.folderMillis > last)
    .map((migration) => migration.tag)
}
