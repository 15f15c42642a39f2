import { Database } from 'bun:sqlite'
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { openSqliteRepository } from '../../src/store/sqlite.ts'
import { derivative, HASH_B, picture, tempDir } from '../support/store-fixtures.ts'

// The repository contract (test/store/repository-contract.ts) runs against SQLite in
// test/store/repository.test.ts; what follows is SQLite's own: the file, WAL, several connections.

describe('SQLite repository: on disk', () => {
  let dir: ReturnType<typeof tempDir>
  beforeEach(() => {
    dir = tempDir()
  })
  afterEach(() => dir.cleanup())

  test('the database file is readable by this user only', () => {
    const path = join(dir.path, 'private.db')
    openSqliteRepository(path).close()
    expect(statSync(path).mode & 0o777).toBe(0o600)
  })

  test('creates missing parent folders, uses WAL, and reopens an existing file', async () => {
    const path = join(dir.path, 'nested', 'headshot.db')
    const first = openSqliteRepository(path)
    await first.putPicture(picture())
    first.close()
    first.close() // closing twice is harmless

    const raw = new Database(path, { readonly: true })
    expect((raw.query('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode).toBe('wal')
    raw.close()

    const again = openSqliteRepository(path) // migrations already applied: must not fail or wipe data
    expect(await again.getPicture('facebook', '65646572251')).toEqual(picture())
    again.close()
  })

  test("two instances on one file (as two processes would) see each other's writes", async () => {
    const path = join(dir.path, 'shared.db')
    const a = openSqliteRepository(path)
    const b = openSqliteRepository(path)
    try {
      await a.putPicture(picture())
      expect(await b.getPicture('facebook', '65646572251')).toEqual(picture())
      await b.putDerivative(derivative())
      expect(await a.getDerivative('facebook', '65646572251', 1_700_000_000, 'c_fill,h_120,w_80/jpg')).toEqual(
        derivative(),
      )
      expect(await b.deletePicture('facebook', '65646572251')).toBe(true)
      expect(await a.getPicture('facebook', '65646572251')).toBeUndefined()
      expect(await a.isBlobReferenced(HASH_B)).toBe(false)
    } finally {
      a.close()
      b.close()
    }
  })

  test('a row this version cannot represent fails loudly instead of being mistyped', async () => {
    const path = join(dir.path, 'odd.db')
    const repo = openSqliteRepository(path)
    await repo.putPicture(picture())
    const raw = new Database(path)
    raw.run(`UPDATE pictures SET status = 'banned'`)
    raw.close()
    await expect(repo.getPicture('facebook', '65646572251')).rejects.toThrow(/pictures\.status.*banned/)
    repo.close()
  })
})
