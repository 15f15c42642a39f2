/**
 * Delivery with the metadata in PostgreSQL (HEADSHOT_DATABASE_URL): a picture fetched from a fake
 * upstream, transformed, stored and served again, its rows in the database; /readyz names the
 * engine; a database that cannot be reached fails the start without naming the password. Needs
 * HEADSHOT_TEST_DATABASE_URL (skipped without it, failing under CI=true).
 */
import { SQL } from 'bun'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { probeImage } from '../../src/lib/image-header.ts'
import { createLogger } from '../../src/ops/log.ts'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { startHeadshot, TEST_SECRET, type Headshot } from '../support/headshot.ts'
import { createTestDatabase, havePostgres, type TestDatabase } from '../support/postgres.ts'
import { tempDir } from '../support/store-fixtures.ts'

// The test server trusts loopback, so any password is accepted: this one must never be written out.
const PASSWORD = 'pw-Never-In-Logs-42'

describe.skipIf(!havePostgres())('delivery on PostgreSQL', () => {
  let db: TestDatabase
  let gravatar: FakeGravatar
  let headshot: Headshot
  let hash: string
  beforeAll(async () => {
    db = await createTestDatabase()
    gravatar = startFakeGravatar()
    hash = gravatar.addEmail('pg@example.com').md5
    const url = new URL(db.url)
    url.password = PASSWORD
    headshot = await startHeadshot({ ...gravatar.env, HEADSHOT_DATABASE_URL: url.toString() })
  })
  afterAll(async () => {
    await headshot?.close()
    gravatar?.stop()
    await db?.drop()
  })

  test('serves a transformed picture end to end, and again from what it stored', async () => {
    const path = `/image/gravatar/c_fill,h_60,w_50/${hash}.png`
    const first = await headshot.get(path)
    expect(first.status).toBe(200)
    const probe = probeImage(new Uint8Array(await first.arrayBuffer()))
    expect(probe.ok && probe.value).toMatchObject({ format: 'png', width: 50, height: 60 })
    expect(gravatar.requests.count()).toBeGreaterThan(0)

    const sql = new SQL({ url: db.url, max: 1 })
    try {
      const [pictures] = await sql.unsafe(`SELECT count(*)::int AS n FROM pictures WHERE type = 'gravatar'`)
      const [derived] = await sql.unsafe(
        `SELECT count(*)::int AS n FROM derivatives WHERE key LIKE 'c_fill,h_60,w_50/%'`,
      )
      const [totals] = await sql.unsafe('SELECT bytes::int AS bytes, blobs::int AS blobs FROM store_totals')
      expect([pictures.n, derived.n, totals.blobs]).toEqual([1, 1, 2])
      expect(totals.bytes).toBeGreaterThan(0)
    } finally {
      await sql.close()
    }
    const calls = gravatar.requests.count()
    const again = await headshot.get(path)
    expect(again.status).toBe(200)
    expect(gravatar.requests.count()).toBe(calls) // stored: no upstream call
  })

  test('/readyz checks the PostgreSQL connection', async () => {
    const ready = await headshot.get('/readyz')
    expect(ready.status).toBe(200)
    const body = (await ready.json()) as { checks: Record<string, unknown> }
    expect(body.checks.database).toEqual({ ok: true, detail: 'postgresql' })
  })

  test('an unreachable database fails the start and /readyz, never naming the password', async () => {
    const dir = tempDir()
    const lines: string[] = []
    const config = await loadConfig({
      HEADSHOT_DATA_DIR: dir.path,
      HEADSHOT_API_KEY: '123456',
      HEADSHOT_API_SECRET: TEST_SECRET,
      HEADSHOT_DATABASE_URL: `postgres://headshot:${PASSWORD}@127.0.0.1:1/none`,
    })
    const log = createLogger({ level: 'debug', write: (line) => void lines.push(line) })
    const app = createApp(config, { inlineDerive: true, sweep: false, log })
    try {
      const failure = await app.ready.then(
        () => undefined,
        (error: Error) => error,
      )
      expect(failure).toBeInstanceOf(Error)
      app.log.error(`database unavailable: ${failure?.message}`, { url: config.databaseUrl })
      // A driver that repeats the password in a message: the app's logger knows it as a secret.
      app.log.warn(`authentication with "${PASSWORD}" failed`)
      const ready = await app.handle(new Request('http://localhost/readyz'))
      expect(ready.status).toBe(503)
      const text = JSON.stringify(await ready.json())
      expect(text).toContain('postgresql')
      for (const written of [text, failure?.message ?? '', failure?.stack ?? '', ...lines])
        expect(written).not.toContain(PASSWORD)
      expect(lines.join('\n')).toContain('database unavailable')
    } finally {
      await app.close()
      dir.cleanup()
    }
  })
})
