import { describe, expect, test } from 'bun:test'
import { deferredRepository, openRepository } from '../../src/store/open.ts'
import { openSqliteRepository } from '../../src/store/sqlite.ts'
import { picture, tempDir } from '../support/store-fixtures.ts'

describe('choosing the metadata backend', () => {
  test('without HEADSHOT_DATABASE_URL: SQLite in the data directory, ready at once', async () => {
    const dir = tempDir()
    const opened = openRepository({ dataDir: dir.path })
    try {
      expect(opened.engine).toBe('sqlite')
      // One process per SQLite database: no work leases, no listening channel.
      expect(opened.leases).toBeUndefined()
      expect(opened.channel).toBeUndefined()
      await opened.ready
      await opened.repo.putPicture(picture())
      expect(await Bun.file(`${dir.path}/headshot.db`).exists()).toBe(true)
    } finally {
      await opened.repo.close()
      dir.cleanup()
    }
  })

  test('a deferred repository waits for the real one, is no promise itself, and fails like it', async () => {
    let resolve!: (repo: ReturnType<typeof openSqliteRepository>) => void
    const repo = deferredRepository(new Promise((r) => (resolve = r)))
    expect((repo as unknown as { then?: unknown }).then).toBeUndefined()
    expect(await Promise.resolve(repo)).toBe(repo) // awaiting it does not wait for anything
    const pending = repo.getPicture('facebook', '65646572251')
    const real = openSqliteRepository(':memory:')
    await real.putPicture(picture())
    resolve(real)
    expect(await pending).toEqual(picture())
    await repo.close()

    const failed = deferredRepository(Promise.reject(new Error('no database')))
    await expect(failed.ping()).rejects.toThrow('no database')
    await failed.close() // closing what never opened is harmless
  })
})
