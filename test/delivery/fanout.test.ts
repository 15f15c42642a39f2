/**
 * Invalidation fan-out on PostgreSQL (issue 12): two instances on one database (and one data
 * directory, so both read the blobs either stores), both serving a picture from their hot and row
 * caches; the upstream picture changes and instance A is told (explicit refresh): instance B serves
 * the new version within 2 s, before its row cache's 5 s bound could, because A's NOTIFY reached
 * B's LISTEN; the CDN purge hook was called once, by A. Needs HEADSHOT_TEST_DATABASE_URL (skipped
 * without it, failing under CI=true).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { startHeadshot, type Headshot } from '../support/headshot.ts'
import { createTestDatabase, havePostgres, type TestDatabase } from '../support/postgres.ts'

/** Less than the row cache's 5 s bound: without the fan-out, B still serves the old row then. */
const DEADLINE_MS = 2_000

const digest = async (response: Response) => {
  expect(response.status).toBe(200)
  return createHash('sha256')
    .update(new Uint8Array(await response.arrayBuffer()))
    .digest('hex')
}

describe.skipIf(!havePostgres())('invalidation fan-out between instances on PostgreSQL', () => {
  let db: TestDatabase
  let gravatar: FakeGravatar
  let a: Headshot
  let b: Headshot
  let hash: string
  const purges = { a: 0, b: 0 }
  const purgeFetch = (who: 'a' | 'b') =>
    (async () => {
      purges[who]++
      return new Response(null, { status: 204 })
    }) as unknown as typeof fetch

  beforeAll(async () => {
    db = await createTestDatabase()
    gravatar = startFakeGravatar()
    hash = gravatar.addEmail('fanout@example.com').md5
    const env = { ...gravatar.env, HEADSHOT_DATABASE_URL: db.url, HEADSHOT_PURGE_URL: 'http://127.0.0.1:9/purge' }
    a = await startHeadshot(env, { purgeFetch: purgeFetch('a') })
    b = await startHeadshot({ ...env, HEADSHOT_DATA_DIR: a.dataDir }, { purgeFetch: purgeFetch('b') })
  })
  afterAll(async () => {
    await b?.close() // first: it shares A's data directory, which A's close removes
    await a?.close()
    gravatar?.stop()
    await db?.drop()
  })

  test('a change told to A reaches B at once; the purge hook is called once', async () => {
    const paths = [`/image/gravatar/${hash}.png`, `/image/gravatar/c_fill,h_40,w_40/${hash}.png`]
    const before: string[] = []
    for (const path of paths) {
      before.push(await digest(await a.get(path)))
      // Twice on B: the second is answered from its caches (warm row, hot response).
      expect(await digest(await b.get(path))).toBe(before.at(-1)!)
      expect(await digest(await b.get(path))).toBe(before.at(-1)!)
    }

    // The upstream picture changes; A hears of it (as the explicit API or A's sweeper would).
    gravatar.users.get(hash)!.seed = 'someone else entirely'
    gravatar.users.get(hash)!.lastModified = new Date(Math.floor(Date.now() / 1000) * 1000)
    const outcome = await a.app.manage.refresh('gravatar', hash)
    expect(outcome.changed).toBe(true)
    const after: string[] = []
    for (const path of paths) after.push(await digest(await a.get(path)))
    expect(after[0]).not.toBe(before[0])
    expect(after[1]).not.toBe(before[1])

    // B, whose rows of the old version are trusted for 5 s more, serves the new one within 2 s.
    const deadline = Date.now() + DEADLINE_MS
    for (const [i, path] of paths.entries()) {
      let served = await digest(await b.get(path))
      while (served !== after[i] && Date.now() < deadline) {
        await Bun.sleep(25)
        served = await digest(await b.get(path))
      }
      expect(served).toBe(after[i]!)
    }

    // The purge hook: once, by the instance that made the change (the listener never calls it).
    await Bun.sleep(200)
    expect(purges).toEqual({ a: 1, b: 0 })
  })

  test('B deletes the picture: A forgets it at once and asks the network again', async () => {
    const path = `/image/gravatar/${hash}.png`
    expect((await a.get(path)).status).toBe(200)
    expect((await a.get(path)).status).toBe(200) // warm in A's caches
    const calls = gravatar.requests.count()
    const outcome = await b.app.manage.delete('gravatar', [hash])
    expect(outcome[hash]).toBe('deleted')
    // A's cached row names the deleted picture: told, A asks the network again within 2 s.
    const deadline = Date.now() + DEADLINE_MS
    while (gravatar.requests.count() === calls && Date.now() < deadline) {
      expect((await a.get(path)).status).toBe(200)
      await Bun.sleep(25)
    }
    expect(gravatar.requests.count()).toBeGreaterThan(calls)
    await Bun.sleep(200)
    expect(purges).toEqual({ a: 1, b: 1 })
  })
})
