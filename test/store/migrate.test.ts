import { Database } from 'bun:sqlite'
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { drizzle } from 'drizzle-orm/bun-sqlite'
import { migrate as drizzleFolderMigrate } from 'drizzle-orm/bun-sqlite/migrator'
import {
  applyMigrations,
  embeddedMigrations,
  type EmbeddedMigration,
  migrateEmbedded,
  MIGRATIONS_TABLE,
} from '../../src/store/migrate.ts'
import { specifyEmbeddedMigrations } from '../support/embedded-migrations.ts'
import { sqlFiles } from '../../src/store/migrations.gen.ts'
import { openSqliteRepository } from '../../src/store/sqlite.ts'
import { derivative, picture, tempDir } from '../support/store-fixtures.ts'

const MIGRATIONS_FOLDER = join(import.meta.dir, '..', '..', 'src', 'store', 'migrations')

const recorded = (db: Database) =>
  db.query(`SELECT hash, created_at FROM "${MIGRATIONS_TABLE}" ORDER BY created_at`).all()
const tables = (db: Database) =>
  (
    db
      .query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
      .all() as { name: string }[]
  ).map((r) => r.name)

describe('embedded migrations', () => {
  specifyEmbeddedMigrations(MIGRATIONS_FOLDER, sqlFiles, embeddedMigrations)
})

describe('migrateEmbedded', () => {
  let dir: ReturnType<typeof tempDir>
  beforeEach(() => {
    dir = tempDir()
  })
  afterEach(() => dir.cleanup())

  test('creates the schema once; rerunning, also after reopening the file, applies nothing', () => {
    const path = join(dir.path, 'm.db')
    const db = new Database(path)
    expect(migrateEmbedded(db)).toEqual(embeddedMigrations().map((m) => m.tag))
    expect(tables(db)).toEqual([MIGRATIONS_TABLE, 'blob_refs', 'derivatives', 'pictures', 'store_totals'])
    expect(migrateEmbedded(drizzle(db))).toEqual([]) // also accepts the drizzle wrapper
    db.close()

    const reopened = new Database(path)
    expect(migrateEmbedded(reopened)).toEqual([])
    expect(recorded(reopened)).toHaveLength(embeddedMigrations().length)
    reopened.close()
  })

  test("leaves the database up to date for drizzle's own folder migrator (same bookkeeping)", () => {
    const db = new Database(join(dir.path, 'm.db'))
    migrateEmbedded(db)
    const before = recorded(db)
    drizzleFolderMigrate(drizzle(db), { migrationsFolder: MIGRATIONS_FOLDER })
    expect(recorded(db)).toEqual(before)
    db.close()
  })

  test("accepts a database that drizzle's folder migrator created", () => {
    const db = new Database(join(dir.path, 'm.db'))
    drizzleFolderMigrate(drizzle(db), { migrationsFolder: MIGRATIONS_FOLDER })
    expect(migrateEmbedded(db)).toEqual([])
    db.close()
  })

  test('an upgrade applies only the new migration, keeping data', async () => {
    const path = join(dir.path, 'm.db')
    const repo = openSqliteRepository(path)
    await repo.putPicture(picture())
    repo.close()

    const db = new Database(path)
    const next: EmbeddedMigration = {
      tag: '9999_add_note',
      bps: true,
      folderMillis: Number.MAX_SAFE_INTEGER,
      hash: 'h',
      sql: ['ALTER TABLE `pictures` ADD `note` text;'],
    }
    expect(applyMigrations(db, [...embeddedMigrations(), next])).toEqual(['9999_add_note'])
    expect(applyMigrations(db, [...embeddedMigrations(), next])).toEqual([])
    expect(db.query('SELECT public_id, note FROM pictures').all()).toEqual([{ public_id: '65646572251', note: null }])
    db.close()
  })

  test('a drizzle-kit style table rebuild does not cascade-delete derivatives', async () => {
    const path = join(dir.path, 'm.db')
    const repo = openSqliteRepository(path)
    await repo.putPicture(picture())
    await repo.putDerivative(derivative())
    repo.close()

    // What drizzle-kit emits to change a column in SQLite. Its PRAGMA is a no-op inside the
    // migration transaction, so with foreign keys on, DROP TABLE pictures would empty derivatives.
    const rebuild: EmbeddedMigration = {
      tag: '9999_rebuild',
      bps: true,
      folderMillis: Number.MAX_SAFE_INTEGER,
      hash: 'h',
      sql: [
        'PRAGMA foreign_keys=OFF;',
        '\nCREATE TABLE `__new_pictures` AS SELECT * FROM `pictures`;',
        '\nDROP TABLE `pictures`;',
        '\nALTER TABLE `__new_pictures` RENAME TO `pictures`;',
        '\nCREATE UNIQUE INDEX `pictures_pk` ON `pictures` (`type`, `public_id`);',
        '\nPRAGMA foreign_keys=ON;',
      ],
    }
    const db = new Database(path)
    db.run('PRAGMA foreign_keys = ON') // as openSqliteRepository has it
    expect(applyMigrations(db, [...embeddedMigrations(), rebuild])).toEqual(['9999_rebuild'])
    expect(db.query('SELECT count(*) AS n FROM derivatives').get()).toEqual({ n: 1 })
    expect(db.query('PRAGMA foreign_keys').get()).toEqual({ foreign_keys: 1 }) // restored afterwards
    db.close()
  })

  test('a failing migration rolls back completely and is not recorded', () => {
    const db = new Database(join(dir.path, 'm.db'))
    migrateEmbedded(db)
    const broken: EmbeddedMigration = {
      tag: '9999_broken',
      bps: true,
      folderMillis: Number.MAX_SAFE_INTEGER,
      hash: 'h',
      sql: ['CREATE TABLE `half` (`a` integer);', 'THIS IS NOT SQL;'],
    }
    expect(() => applyMigrations(db, [...embeddedMigrations(), broken])).toThrow()
    expect(tables(db)).not.toContain('half')
    expect(recorded(db)).toHaveLength(embeddedMigrations().length)
    expect(db.inTransaction).toBe(false)
    db.close()
  })

  test('a migration that leaves dangling foreign keys is refused', async () => {
    const path = join(dir.path, 'm.db')
    const repo = openSqliteRepository(path)
    await repo.putPicture(picture())
    await repo.putDerivative(derivative())
    repo.close()
    const db = new Database(path)
    const dangling: EmbeddedMigration = {
      tag: '9999_dangling',
      bps: true,
      folderMillis: Number.MAX_SAFE_INTEGER,
      hash: 'h',
      sql: ['DELETE FROM `pictures`;'], // foreign keys are off during migration: nothing cascades
    }
    expect(() => applyMigrations(db, [...embeddedMigrations(), dangling])).toThrow(/foreign key violation/)
    expect(db.query('SELECT count(*) AS n FROM pictures').get()).toEqual({ n: 1 })
    db.close()
  })

  test('two processes opening a fresh database at the same moment both start', async () => {
    const path = join(dir.path, 'race.db')
    const script = `
      import { openSqliteRepository } from ${JSON.stringify(join(import.meta.dir, '..', '..', 'src', 'store', 'sqlite.ts'))}
      const repo = openSqliteRepository(${JSON.stringify(path)})
      const id = process.argv[2]
      for (let i = 0; i < 50; i++) {
        await repo.putPicture({ type: 't', publicId: id + '-' + i, version: 1, status: 'none', upstreamUrl: null,
          changeKey: null, etag: null, lastModified: null, contentHash: null, format: null, width: null,
          height: null, bytes: null, faces: null, createdAt: i, fetchedAt: i, checkedAt: i })
      }
      repo.close()
    `
    const file = join(dir.path, 'child.ts')
    await Bun.write(file, script)
    const children = ['a', 'b'].map((id) =>
      Bun.spawn([process.execPath, file, id], { stderr: 'pipe', stdout: 'ignore' }),
    )
    const results = await Promise.all(
      children.map(async (c) => ({ code: await c.exited, stderr: await new Response(c.stderr).text() })),
    )
    expect(results).toEqual([
      { code: 0, stderr: '' },
      { code: 0, stderr: '' },
    ])

    const db = new Database(path, { readonly: true })
    expect(db.query('SELECT count(*) AS n FROM pictures').get()).toEqual({ n: 100 })
    expect(recorded(db)).toHaveLength(embeddedMigrations().length)
    db.close()
  })
})
