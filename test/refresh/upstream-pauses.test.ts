/**
 * The PostgreSQL store of upstream pauses (src/refresh/upstream-pauses.ts): two stores on one
 * database stand for two instances. What one records the other reads (after its copy's age bound);
 * the back-off doubles across instances; two instances recording at once keep the later `until`;
 * a working call after an escalated back-off starts it over for everyone. Needs
 * HEADSHOT_TEST_DATABASE_URL (skipped without it, failing under CI=true).
 */
import type { SQL } from 'bun'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { UpstreamError } from '../../src/plugin-host/types.ts'
import { FIRST_BACKOFF_MS } from '../../src/refresh/pause.ts'
import { postgresPauses, type UpstreamPauses } from '../../src/refresh/upstream-pauses.ts'
import { createMigratedTestDatabase, havePostgres, type MigratedTestDatabase } from '../support/postgres.ts'

const T0 = 1_800_000_000_000
const limited = new UpstreamError('rate_limited', 'HTTP 429')

describe.skipIf(!havePostgres())('upstream pauses shared through PostgreSQL', () => {
  let db: MigratedTestDatabase
  let client: SQL
  let clock: number
  let a: UpstreamPauses
  let b: UpstreamPauses

  beforeAll(async () => {
    db = await createMigratedTestDatabase()
    client = db.sql
  })
  afterAll(async () => {
    await db?.drop()
  })
  beforeEach(async () => {
    await client.unsafe('TRUNCATE upstream_pauses')
    clock = T0
    // No copy age for these two: each read sees the table as it is.
    a = postgresPauses(Promise.resolve(client), { now: () => clock, cacheMs: 0 })
    b = postgresPauses(Promise.resolve(client), { now: () => clock, cacheMs: 0 })
  })

  test('what A records, B reads; a refusal that calls for no pause records nothing', async () => {
    expect(await a.record('github', new UpstreamError('unavailable', 'HTTP 502'))).toBeUndefined()
    expect(await b.get('github')).toBeUndefined()
    const pause = await a.record('github', new UpstreamError('rate_limited', 'HTTP 429', T0 + 5_000))
    expect(pause).toEqual({ until: T0 + 5_000, nextBackoffMs: FIRST_BACKOFF_MS, reason: 'rate_limited' })
    expect(await b.get('github')).toEqual(pause!)
    expect(await b.get('gravatar')).toBeUndefined()
  })

  test("B's refusal while A's pause is in force changes nothing; right after it, the back-off doubles", async () => {
    const first = await a.record('gravatar', limited)
    expect(await b.record('gravatar', limited)).toEqual(first!)
    clock = first!.until
    expect((await b.record('gravatar', limited))!.until).toBe(clock + 2 * FIRST_BACKOFF_MS)
    // A working call on A after the pause: the next refusal waits a minute again, on B too.
    clock += 2 * FIRST_BACKOFF_MS
    await a.get('gravatar')
    await a.recovered('gravatar')
    expect((await b.record('gravatar', limited))!.until).toBe(clock + FIRST_BACKOFF_MS)
  })

  test('two instances recording at once: the later until is kept', async () => {
    const [one, two] = await Promise.all([
      a.record('twitter', new UpstreamError('rate_limited', '429', T0 + 9_000)),
      b.record('twitter', new UpstreamError('rate_limited', '429', T0 + 4_000)),
    ])
    expect(Math.max(one!.until, two!.until)).toBe(T0 + 9_000)
    expect((await a.get('twitter'))!.until).toBe(T0 + 9_000)
  })

  test('a copy is re-read only after its age bound', async () => {
    const cached = postgresPauses(Promise.resolve(client), { now: () => clock, cacheMs: 200 })
    expect(await cached.get('github')).toBeUndefined()
    await a.record('github', new UpstreamError('auth', 'HTTP 401'))
    expect(await cached.get('github')).toBeUndefined() // still the copy
    await Bun.sleep(250)
    expect(await cached.get('github')).toMatchObject({ reason: 'auth', until: T0 + FIRST_BACKOFF_MS })
  })
})
