/**
 * The invalidation fan-out (src/store/fanout.ts) on a real PostgreSQL: what one instance publishes
 * reaches the others and not itself; a dropped LISTEN connection is re-established with a warning
 * and everything dropped; without a database channel (SQLite) it does nothing. Needs
 * HEADSHOT_TEST_DATABASE_URL (skipped without it, failing under CI=true).
 */
import { SQL } from 'bun'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createInvalidationFanout, type InvalidationEvent } from '../../src/store/fanout.ts'
import { createTestDatabase, havePostgres, type TestDatabase } from '../support/postgres.ts'

async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition() && Date.now() < deadline) await Bun.sleep(10)
}

test('without a database channel (SQLite) publishing does nothing', async () => {
  const heard: InvalidationEvent[] = []
  const fanout = createInvalidationFanout({ channel: undefined, onEvent: (e) => void heard.push(e), warn: () => {} })
  fanout.publish({ all: true })
  await fanout.listening
  await fanout.close()
  expect(heard).toEqual([])
})

describe.skipIf(!havePostgres())('invalidation fan-out on PostgreSQL', () => {
  let db: TestDatabase
  const clients: SQL[] = []
  const client = () => {
    const sql = new SQL({ url: db.url, max: 2 })
    clients.push(sql)
    return sql
  }
  beforeAll(async () => {
    db = await createTestDatabase()
  })
  afterAll(async () => {
    for (const sql of clients) await sql.close()
    await db?.drop()
  })

  test('what one instance publishes reaches the others, never itself', async () => {
    const heard = { a: [] as InvalidationEvent[], b: [] as InvalidationEvent[] }
    const make = (who: 'a' | 'b') =>
      createInvalidationFanout({
        channel: Promise.resolve(client()),
        onEvent: (e) => void heard[who].push(e),
        warn: () => {},
      })
    const a = make('a')
    const b = make('b')
    await Promise.all([a.listening, b.listening])
    a.publish({ type: 'gravatar', publicId: 'x/y"z' })
    b.publish({ all: true })
    await until(() => heard.a.length > 0 && heard.b.length > 0)
    await Bun.sleep(100)
    expect(heard).toEqual({ a: [{ all: true }], b: [{ type: 'gravatar', publicId: 'x/y"z' }] })
    await Promise.all([a.close(), b.close()])
  })

  test('a dropped LISTEN connection comes back with a warning, and everything is dropped', async () => {
    const heard: InvalidationEvent[] = []
    const warnings: string[] = []
    const fanout = createInvalidationFanout({
      channel: Promise.resolve(client()),
      onEvent: (e) => void heard.push(e),
      warn: (message) => void warnings.push(message),
    })
    await fanout.listening
    const admin = client()
    await admin.unsafe(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query ILIKE 'LISTEN%' AND datname = current_database()`,
    )
    await until(() => heard.length > 0)
    expect(heard).toEqual([{ all: true }])
    expect(warnings.join('\n')).toContain('reconnected')
    // And it hears again.
    await admin.notify('headshot_invalidate', JSON.stringify({ type: 't', publicId: 'p', from: 'elsewhere' }))
    await until(() => heard.length > 1)
    expect(heard[1]).toEqual({ type: 't', publicId: 'p' })
    await fanout.close()
  })
})
