/**
 * The PostgreSQL of the tests: `HEADSHOT_TEST_DATABASE_URL` names a server where the tests may create
 * and drop databases (`eval "$(scripts/ci/start-postgres.sh)"` starts a private one; `.ci/run`
 * does). Each test file gets its own fresh database, dropped afterwards. Without the variable the
 * PostgreSQL tests are skipped, saying so once, except under `CI=true`, where they fail.
 */
import { SQL } from 'bun'
import { randomBytes } from 'node:crypto'
import { migratePostgres } from '../../src/store/migrate-pg.ts'

export const PG_TEST_URL = process.env.HEADSHOT_TEST_DATABASE_URL

const SKIP_MESSAGE =
  'HEADSHOT_TEST_DATABASE_URL is unset: skipping the PostgreSQL tests (start one with ' +
  '`eval "$(scripts/ci/start-postgres.sh)"`, see CONTRIBUTING.md)'

let warned = false

/**
 * Whether this file can run its PostgreSQL tests. Unset outside CI: false, with one warning per
 * process. Unset under CI=true: throws, failing the file (`.ci/run` must run them).
 */
export function havePostgres(): boolean {
  if (PG_TEST_URL) return true
  if (process.env.CI === 'true') {
    throw new Error('HEADSHOT_TEST_DATABASE_URL is unset under CI=true: the PostgreSQL tests must run')
  }
  if (!warned) console.warn(SKIP_MESSAGE)
  warned = true
  return false
}

export interface TestDatabase {
  url: string
  name: string
  drop(): Promise<void>
}

/** A new, empty database on the test server, with a random name. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (!PG_TEST_URL) throw new Error('HEADSHOT_TEST_DATABASE_URL is unset')
  const name = `headshot_test_${randomBytes(6).toString('hex')}`
  const admin = new SQL({ url: PG_TEST_URL, max: 1 })
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`)
  } finally {
    await admin.close()
  }
  const url = new URL(PG_TEST_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    name,
    async drop() {
      const sql = new SQL({ url: PG_TEST_URL, max: 1 })
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      } finally {
        await sql.close()
      }
    },
  }
}

/** A client on a new database of the test server, migrated to the current schema. */
export interface MigratedTestDatabase {
  sql: SQL
  /** Closes the client and drops the database. */
  drop(): Promise<void>
}

/** A new database migrated to the current schema, with a client of `max` connections on it. */
export async function createMigratedTestDatabase(max = 4): Promise<MigratedTestDatabase> {
  const db = await createTestDatabase()
  const sql = new SQL({ url: db.url, max })
  const drop = async () => {
    await sql.close()
    await db.drop()
  }
  try {
    await migratePostgres(sql)
  } catch (error) {
    await drop()
    throw error
  }
  return { sql, drop }
}

/** Empties a migrated database between tests (much faster than a new database each time). */
export async function emptyDatabase(url: string): Promise<void> {
  const sql = new SQL({ url, max: 1 })
  try {
    await sql.unsafe('TRUNCATE pictures, derivatives, blob_refs')
    await sql.unsafe('UPDATE store_totals SET bytes = 0, blobs = 0 WHERE id = 1')
  } finally {
    await sql.close()
  }
}
