/**
 * The PostgreSQL twin of migrate.ts: applies the migrations embedded by migrations-pg.gen.ts, with
 * drizzle's own bookkeeping for this dialect (`drizzle.__drizzle_migrations`: the sha256 of each
 * .sql file and the journal's `when` as created_at), so drizzle's folder migrator agrees with it.
 *
 * Several instances starting together on a fresh database must not all run the DDL: the loop runs
 * in one transaction that first takes a transaction-scoped advisory lock (`pg_advisory_xact_lock`)
 * and re-reads the last applied migration under it. The first instance applies and commits; the
 * others wait on the lock, then find nothing left to do. PostgreSQL's DDL is transactional, so a
 * failing migration leaves nothing behind, not even its bookkeeping row.
 */
import type { SQL } from 'bun'
import { type EmbeddedMigration, embeddedMigrations } from './migrate.ts'
import * as pgMigrations from './migrations-pg.gen.ts'

export const PG_MIGRATIONS_SCHEMA = 'drizzle'
export const PG_MIGRATIONS_TABLE = '__drizzle_migrations'
/** The advisory lock's key: any fixed 64-bit number; this one spells "headshot" in ASCII. */
export const MIGRATION_LOCK_KEY = 0x6865616473686f74n

export function embeddedPgMigrations(): EmbeddedMigration[] {
  return embeddedMigrations(pgMigrations)
}

/** Brings the database up to date; returns the tags applied (empty when already current). */
export async function migratePostgres(client: SQL, migrations = embeddedPgMigrations()): Promise<string[]> {
  const latest = migrations.reduce((max, m) => Math.max(max, m.folderMillis), -Infinity)
  // Fast path without the lock: every start of every instance runs this.
  if ((await lastAppliedMillis(client)) >= latest) return []
  return client.begin(async (tx) => {
    await tx.unsafe(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`)
    await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS "${PG_MIGRATIONS_SCHEMA}"`)
    await tx.unsafe(
      `CREATE TABLE IF NOT EXISTS "${PG_MIGRATIONS_SCHEMA}"."${PG_MIGRATIONS_TABLE}" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`,
    )
    // Re-read under the lock: another instance may have migrated while this one waited.
    const last = await lastAppliedMillis(tx as unknown as SQL)
    const applied: string[] = []
    for (const migration of migrations) {
      // Same rule as drizzle: apply what is newer than the newest recorded migration.
      if (migration.folderMillis <= last) continue
      for (const statement of migration.sql) {
        if (statement.trim() !== '') await tx.unsafe(statement)
      }
      await tx.unsafe(
        `INSERT INTO "${PG_MIGRATIONS_SCHEMA}"."${PG_MIGRATIONS_TABLE}" ("hash", "created_at") VALUES ($1, $2)`,
        [migration.hash, migration.folderMillis],
      )
      applied.push(migration.tag)
    }
    return applied
  })
}

async function lastAppliedMillis(client: SQL): Promise<number> {
  const [exists] = await client.unsafe(`SELECT to_regclass($1) IS NOT NULL AS present`, [
    `"${PG_MIGRATIONS_SCHEMA}"."${PG_MIGRATIONS_TABLE}"`,
  ])
  if (!exists?.present) return -Infinity
  const [row] = await client.unsafe(
    `SELECT created_at FROM "${PG_MIGRATIONS_SCHEMA}"."${PG_MIGRATIONS_TABLE}" ORDER BY created_at DESC LIMIT 1`,
  )
  return row === undefined ? -Infinity : Number(row.created_at)
}
