/**
 * The repository contract against each backend: SQLite in memory, and PostgreSQL in a fresh
 * database of HEADSHOT_TEST_DATABASE_URL's server (emptied between tests, dropped after the file).
 * Without that variable the PostgreSQL run is skipped with a warning, and fails under CI=true.
 */
import { afterAll, beforeAll, describe } from 'bun:test'
import { openPostgresRepository } from '../../src/store/postgres.ts'
import { openSqliteRepository } from '../../src/store/sqlite.ts'
import { createTestDatabase, emptyDatabase, havePostgres, type TestDatabase } from '../support/postgres.ts'
import { repositoryContract } from './repository-contract.ts'

describe('SQLite', () => {
  repositoryContract({ name: 'SQLite', open: async () => openSqliteRepository(':memory:') })
})

describe.skipIf(!havePostgres())('PostgreSQL', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase()
  })
  afterAll(async () => {
    await db?.drop()
  })
  repositoryContract({
    name: 'PostgreSQL',
    async open() {
      const repo = await openPostgresRepository(db.url, { maxConnections: 4 })
      await emptyDatabase(db.url)
      return repo
    },
  })
})
