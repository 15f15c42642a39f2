/**
 * PostgreSQL's own behaviour, beside the shared contract (repository.test.ts): the embedded
 * migrations, applied once when instances start together, drizzle's bookkeeping, the accounting
 * triggers, readiness on a read-only server. Needs HEADSHOT_TEST_DATABASE_URL (see
 * test/support/postgres.ts); skipped without it, failing under CI=true.
 */
import { SQL } from 'bun'
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { drizzle } from 'drizzle-orm/bun-sql'
import { migrate as drizzleFolderMigrate } from 'drizzle-orm/bun-sql/migrator'
import {
  embeddedPgMigrations,
  migratePostgres,
  PG_MIGRATIONS_SCHEMA,
  PG_MIGRATIONS_TABLE,
} from '../../src/store/migrate-pg.ts'
import { specifyEmbeddedMigrations } from '../support/embedded-migrations.ts'
import { sqlFiles } from '../../src/store/migrations-pg.gen.ts'
import { openPostgresRepository } from '../../src/store/postgres.ts'
import { derivative, picture } from '../support/store-fixtures.ts'
import { createTestDatabase, havePostgres, type TestDatabase } from '../support/postgres.ts'

const MIGRATIONS_FOLDER = join(import.meta.dir, '..', '..', 'src', 'store', 'migrations-pg')

describe('embedded PostgreSQL migrations', () => {
  specifyEmbeddedMigrations(MIGRATIONS_FOLDER, sqlFiles, embeddedPgMigrations)
})

describe.skipIf(!havePostgres())('PostgreSQL backend', () => {
  let db: TestDatabase
  const clients: SQL[] = []
  const connect = (url = db.url) => {
    const client = new SQL({ url, max: 1 })
    clients.push(client)
    return client
  }
  const recorded = async (client: SQL) =>
    (await client.unsafe(
      `SELECT hash, created_at FROM "${PG_MIGRATIONS_SCHEMA}"."${PG_MIGRATIONS_TABLE}" ORDER BY created_at`,
    )) as Array<{ hash: string; created_at: string }>
  beforeEach(async () => {
    db = await createTestDatabase()
  })
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close()
    await db.drop()
  })

  test('several instances migrating a fresh database together: one applies, every one succeeds', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => migratePostgres(connect())))
    const tags = embeddedPgMigrations().map((m) => m.tag)
    expect(results.filter((applied) => applied.length > 0)).toEqual([tags])
    expect(results.filter((applied) => applied.length === 0)).toHaveLength(5)
    expect(await recorded(connect())).toHaveLength(tags.length)
    expect(await migratePostgres(connect())).toEqual([]) // and later starts find nothing to do
  })

  test('repositories opened together on a fresh database all work on one schema', async () => {
    const repos = await Promise.all(
      Array.from({ length: 4 }, () => openPostgresRepository(db.url, { maxConnections: 2 })),
    )
    try {
      await repos[0]!.putPicture(picture())
      await repos[1]!.putDerivative(derivative())
      expect(await repos[3]!.getDerivative('facebook', '65646572251', 1_700_000_000, derivative().key)).toEqual(
        derivative(),
      )
      expect(await repos[2]!.storeUsage()).toEqual({ bytes: 12_345 + 2_048, blobs: 2 })
    } finally {
      for (const repo of repos) await repo.close()
    }
  })

  test("leaves the bookkeeping drizzle's own folder migrator expects, and accepts a database it migrated", async () => {
    await migratePostgres(connect())
    const ours = await recorded(connect())
    const other = await createTestDatabase()
    try {
      const client = connect(other.url)
      await drizzleFolderMigrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER })
      expect(await recorded(client)).toEqual(ours)
      expect(await migratePostgres(client)).toEqual([])
    } finally {
      for (const client of clients.splice(0)) await client.close()
      await other.drop()
    }
  })

  test('a failing migration rolls back completely and is not recorded', async () => {
    const good = embeddedPgMigrations()
    const bad = {
      ...good[0]!,
      tag: '9999_bad',
      folderMillis: Date.now() * 2,
      sql: ['CREATE TABLE t_ok (x int)', 'SELECT nope'],
    }
    await expect(migratePostgres(connect(), [...good, bad])).rejects.toThrow(/nope/)
    // The good ones went back with it (one transaction), bookkeeping included.
    const [row] = await connect().unsafe(
      `SELECT to_regclass('t_ok') IS NULL AND to_regclass('pictures') IS NULL
         AND to_regclass('"${PG_MIGRATIONS_SCHEMA}"."${PG_MIGRATIONS_TABLE}"') IS NULL AS clean`,
    )
    expect(row.clean).toBe(true)
  })

  test('a database without the accounting triggers is refused at open, by name', async () => {
    await migratePostgres(connect())
    await connect().unsafe('DROP TRIGGER derivatives_blob_named ON derivatives')
    await expect(openPostgresRepository(db.url)).rejects.toThrow(/store accounting triggers derivatives_blob_named/)
  })

  test('a read-only server is not ready', async () => {
    const repo = await openPostgresRepository(db.url)
    try {
      await repo.ping()
      await connect().unsafe(`ALTER DATABASE "${db.name}" SET default_transaction_read_only = on`)
      const later = await openPostgresRepository(db.url) // new connections take the setting
      try {
        await expect(later.ping()).rejects.toThrow(/read-only/)
      } finally {
        await later.close()
      }
    } finally {
      await repo.close()
    }
  })

  test('keys order byte-wise whatever the server locale (as in SQLite)', async () => {
    const repo = await openPostgresRepository(db.url)
    try {
      for (const id of ['b', 'B', 'a', 'A', '_x', 'é']) await repo.putPicture(picture({ publicId: id }))
      const page = await repo.listPictures({ type: 'facebook', maxResults: 10, direction: 'asc' })
      expect(page.pictures.map((p) => p.publicId)).toEqual(['A', 'B', '_x', 'a', 'b', 'é'])
    } finally {
      await repo.close()
    }
  })

  test('a connection failure names neither the password nor fails silently', async () => {
    const url = `postgres://headshot:pw-${'s3cret'}@127.0.0.1:1/none`
    const failure = await openPostgresRepository(url).then(
      () => undefined,
      (error: Error) => error,
    )
    expect(failure).toBeInstanceOf(Error)
    expect(`${failure?.message} ${failure?.stack}`).not.toContain('s3cret')
  })
})
