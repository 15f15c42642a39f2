/**
 * A network that rate-limits one instance is left alone by every instance (issue 12): instance A's
 * delivery meets GitHub's rate limit with a reset 3 s away; the pause goes to PostgreSQL
 * (`upstream_pauses`), and instance B, asked for another GitHub picture, neither calls GitHub nor
 * charges anyone: a picture it holds (even one due for a re-check) is served as stored, one it does
 * not hold is a 503 with Retry-After until the reset, as A's own answer was. After the reset both
 * call GitHub again. On SQLite the same happens within the one process.
 *
 * GitHub (plugins/github/fake.ts) stops limiting right after A's refusal, so a call B made anyway
 * would succeed: only the pause can explain B's 503. The PostgreSQL part needs
 * HEADSHOT_TEST_DATABASE_URL (skipped without it, failing under CI=true).
 */
import { SQL } from 'bun'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { startFakeGitHub, type FakeGitHub } from '../../plugins/github/fake.ts'
import { PAUSE_CACHE_MS } from '../../src/refresh/upstream-pauses.ts'
import { startHeadshot, type Headshot } from '../support/headshot.ts'
import { createTestDatabase, havePostgres, type TestDatabase } from '../support/postgres.ts'

const RESET_S = 3

let github: FakeGitHub
beforeEach(() => {
  github = startFakeGitHub()
  for (let i = 0; i < 4; i++) github.addUser(`octo${i}`)
})
afterEach(() => github.stop())

/** GitHub API calls so far (downloads from its avatar CDN are not rate-limited). */
const apiCalls = () => github.requests.count('user')

/** A's delivery meets a secondary rate limit (403, retry-after 3 s); GitHub is fine again right after. */
async function rateLimitedOnce(instance: Headshot, path: string): Promise<number> {
  github.modes.secondaryRetryAfter = RESET_S
  const refused = await instance.get(path)
  const resetAt = Date.now() + RESET_S * 1000
  github.modes.secondaryRetryAfter = undefined
  expect(refused.status).toBe(503)
  expect(refused.headers.get('x-cld-error')).toContain('rate limit')
  return resetAt
}

/** A picture we do not hold, asked for while GitHub is paused: refused as GitHub's own refusal was, without a call. */
async function refusedWithoutACall(instance: Headshot, path: string): Promise<void> {
  const calls = apiCalls()
  const response = await instance.get(path)
  expect(response.status).toBe(503)
  expect(response.headers.get('x-cld-error')).toContain('rate limit')
  const retryAfter = Number(response.headers.get('retry-after'))
  expect(retryAfter).toBeGreaterThanOrEqual(1)
  expect(retryAfter).toBeLessThanOrEqual(RESET_S)
  expect(apiCalls()).toBe(calls)
}

describe.skipIf(!havePostgres())('a rate limit one instance meets pauses the network for all (PostgreSQL)', () => {
  let db: TestDatabase
  let admin: SQL
  let a: Headshot
  let b: Headshot

  beforeAll(async () => {
    db = await createTestDatabase()
    admin = new SQL({ url: db.url, max: 1 })
  })
  afterAll(async () => {
    await admin?.close()
    await db?.drop()
  })
  beforeEach(async () => {
    // A picture is due for a re-check a second after it was fetched.
    const env = { ...github.env, HEADSHOT_DATABASE_URL: db.url, HEADSHOT_REFRESH_TTL: '1s', HEADSHOT_SWEEP_RATE: '0' }
    a = await startHeadshot(env)
    b = await startHeadshot(env)
  })
  afterEach(async () => {
    await a.close()
    await b.close()
  })

  test('B neither calls nor fails a held picture until the reset; then both call again', async () => {
    expect((await b.get('/image/github/octo1.png')).status).toBe(200) // B holds octo1 (and read the pauses)
    const resetAt = await rateLimitedOnce(a, '/image/github/octo2.png')
    const [row] = await admin.unsafe('SELECT network, until, reason FROM upstream_pauses')
    expect(row).toEqual({ network: 'github', until: expect.any(String), reason: 'rate_limited' })
    expect(Math.abs(Number(row.until) - resetAt)).toBeLessThan(1_000)

    // B's copy of the pauses is at most PAUSE_CACHE_MS old.
    await Bun.sleep(PAUSE_CACHE_MS + 100)
    await refusedWithoutACall(b, '/image/github/octo3.png')
    // octo1 is due for a re-check: served as stored, and not re-checked while GitHub is paused.
    const calls = apiCalls()
    expect((await b.get('/image/github/octo1.png')).status).toBe(200)
    await Bun.sleep(100)
    expect(apiCalls()).toBe(calls)
    expect(Date.now()).toBeLessThan(resetAt) // all of it happened within the pause

    await Bun.sleep(resetAt - Date.now() + 50)
    expect((await b.get('/image/github/octo3.png')).status).toBe(200)
    expect((await a.get('/image/github/octo2.png')).status).toBe(200)
    expect(apiCalls()).toBe(calls + 2)
  })
})

describe('a rate limit a delivery meets pauses the network for the whole process (SQLite)', () => {
  test('another picture of the network is refused without a call until the reset', async () => {
    const only = await startHeadshot({ ...github.env, HEADSHOT_SWEEP_RATE: '0' })
    try {
      const resetAt = await rateLimitedOnce(only, '/image/github/octo2.png')
      await refusedWithoutACall(only, '/image/github/octo3.png')
      await Bun.sleep(resetAt - Date.now() + 50)
      const calls = apiCalls()
      expect((await only.get('/image/github/octo3.png')).status).toBe(200)
      expect(apiCalls()).toBe(calls + 1)
    } finally {
      await only.close()
    }
  })
})
