/**
 * SQLite's store-bound migrations (0003, 0004): an existing store is counted when upgraded, and a
 * database that lost its accounting triggers is refused. The repository's side of the bound itself
 * (usage, least recently served, conditional deletes) is part of the contract that every backend
 * passes: test/store/repository-contract.ts.
 */
import { Database } from 'bun:sqlite'
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { applyMigrations, embeddedMigrations } from '../../src/store/migrate.ts'
import { openSqliteRepository } from '../../src/store/sqlite.ts'
import { HASH_A, HASH_B, tempDir } from '../support/store-fixtures.ts'

describe('the store-bound migration', () => {
  let dir: ReturnType<typeof tempDir>
  beforeEach(() => {
    dir = tempDir()
  })
  afterEach(() => dir.cleanup())

  test('an existing store is counted, and its pictures get a last delivery, when it is upgraded', () => {
    const path = join(dir.path, 'old.db')
    const db = new Database(path)
    const before = embeddedMigrations().filter((m) => m.tag < '0003')
    applyMigrations(db, before)
    const insertPicture = db.prepare(
      `INSERT INTO pictures (type, public_id, version, status, content_hash, format, width, height, bytes,
         created_at, fetched_at, checked_at) VALUES ('facebook', ?, 1, 'ok', ?, 'jpg', 1, 1, ?, 1, ?, 1)`,
    )
    const insertDerivative = db.prepare(
      `INSERT INTO derivatives (type, public_id, version, key, format, content_hash, bytes, width, height,
         created_at, last_served_at) VALUES ('facebook', ?, 1, ?, 'jpg', ?, ?, 1, 1, 1, ?)`,
    )
    insertPicture.run('a', HASH_A, 1000, 50)
    insertPicture.run('b', HASH_A, 1000, 60) // same bytes as a
    insertDerivative.run('a', 'x/jpg', HASH_B, 10, 500)
    insertDerivative.run('a', 'y/jpg', HASH_B, 10, 400)
    applyMigrations(db, embeddedMigrations())
    expect(db.query('SELECT bytes, blobs FROM store_totals').all()).toEqual([{ bytes: 1010, blobs: 2 }])
    expect(db.query('SELECT public_id, last_served_at FROM pictures ORDER BY public_id').all()).toEqual([
      { public_id: 'a', last_served_at: 500 },
      { public_id: 'b', last_served_at: 60 },
    ])
    db.close()
  })

  test('a database whose accounting triggers a later migration dropped is refused at open, by name', async () => {
    const path = join(dir.path, 'rebuilt.db')
    openSqliteRepository(path).close()
    const db = new Database(path)
    db.run('DROP TRIGGER derivatives_blob_named') // what rebuilding the table drops with it
    db.close()
    expect(() => openSqliteRepository(path)).toThrow(/store accounting triggers derivatives_blob_named/)
  })
})
