/**
 * Work done once across instances (src/ingest/shared-work.ts), on real PostgreSQL leases: two
 * instances asking for the same work get one run of it; a waiting instance takes the result from
 * the store, or takes the work over when its holder failed or died (its lease ran out); a lease
 * is renewed while long work runs and given back after; a waiter whose caller left stops waiting.
 * Needs HEADSHOT_TEST_DATABASE_URL (skipped without it, failing under CI=true).
 */
import type { SQL } from 'bun'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { createSharedWork, localWork, type SharedWork } from '../../src/ingest/shared-work.ts'
import { createPostgresLeases, type LeaseTable } from '../../src/store/leases.ts'
import { createMigratedTestDatabase, havePostgres, type MigratedTestDatabase } from '../support/postgres.ts'

test('on SQLite the work just runs: no lease, no look in the store', async () => {
  let looked = 0
  const result = await localWork().run('any', {
    work: async () => 'made',
    done: async () => {
      looked++
      return 'stored'
    },
  })
  expect(result).toBe('made')
  expect(looked).toBe(0)
})

describe.skipIf(!havePostgres())('work shared by instances on PostgreSQL', () => {
  let db: MigratedTestDatabase
  let sql: SQL
  let leases: LeaseTable
  /** What the instances share besides the leases: results by name. */
  const store = new Map<string, string>()
  const events: string[] = []
  const instances: SharedWork[] = []
  const instance = (id: string, ttlMs = 1000, pollMs = 20): SharedWork => {
    const made = createSharedWork({
      leases,
      ttlMs,
      pollMs,
      instanceId: id,
      onWait: (name) => events.push(`${id} waits for ${name}`),
      onTakeover: (name) => events.push(`${id} takes over ${name}`),
    })
    instances.push(made)
    return made
  }
  /** A job whose work takes `ms` and stores its result, counting runs in `runs`. */
  const job = (name: string, result: string, runs: string[], ms = 0, fail = false) => ({
    work: async () => {
      runs.push(result)
      await Bun.sleep(ms)
      if (fail) throw new Error(`${result} failed`)
      store.set(name, result)
      return result
    },
    done: async () => store.get(name),
  })
  const leaseRows = async () => (await sql.unsafe('SELECT name, holder FROM leases')) as unknown[]

  beforeAll(async () => {
    db = await createMigratedTestDatabase()
    sql = db.sql
    leases = createPostgresLeases(sql)
  })
  afterAll(async () => {
    for (const made of instances) await made.close()
    await db?.drop()
  })
  beforeEach(async () => {
    await sql.unsafe('TRUNCATE leases')
    store.clear()
    events.length = 0
  })

  test('two instances asking at once: one does the work, the other takes its result from the store', async () => {
    const runs: string[] = []
    const [a, b] = await Promise.all([
      instance('a').run('pic', job('pic', 'by a', runs, 200)),
      Bun.sleep(20).then(() => instance('b').run('pic', job('pic', 'by b', runs, 200))),
    ])
    expect(runs).toEqual(['by a'])
    expect([a, b]).toEqual(['by a', 'by a'])
    expect(events).toEqual(['b waits for pic'])
    expect(await leaseRows()).toEqual([]) // given back
  })

  test('finished by another instance just before this one took the lease: not done again', async () => {
    const runs: string[] = []
    store.set('pic', 'made earlier')
    expect(await instance('a').run('pic', job('pic', 'by a', runs))).toBe('made earlier')
    expect(runs).toEqual([])
  })

  test('the holder died: its lease runs out and a waiting instance takes the work over', async () => {
    expect(await leases.acquire('pic', 'dead instance', 800)).toBe(true)
    const runs: string[] = []
    const started = performance.now()
    expect(await instance('b').run('pic', job('pic', 'by b', runs))).toBe('by b')
    expect(performance.now() - started).toBeGreaterThanOrEqual(700)
    expect(runs).toEqual(['by b'])
    expect(events).toEqual(['b waits for pic', 'b takes over pic'])
  })

  test('the holder failed: the lease is given back and the waiting instance tries itself', async () => {
    const runs: string[] = []
    const a = instance('a').run('pic', job('pic', 'by a', runs, 150, true))
    await Bun.sleep(30)
    const b = instance('b').run('pic', job('pic', 'by b', runs))
    await expect(a).rejects.toThrow('by a failed')
    expect(await b).toBe('by b')
    expect(runs).toEqual(['by a', 'by b'])
    expect(events).toEqual(['b waits for pic', 'b takes over pic'])
    expect(await leaseRows()).toEqual([])
  })

  test('work longer than the TTL keeps its lease (renewed): nobody else starts it', async () => {
    const runs: string[] = []
    const a = instance('a', 1000).run('slow', job('slow', 'by a', runs, 2200))
    await Bun.sleep(30)
    const b = instance('b', 1000).run('slow', job('slow', 'by b', runs))
    expect(await Promise.all([a, b])).toEqual(['by a', 'by a'])
    expect(runs).toEqual(['by a'])
    expect(events).toEqual(['b waits for slow'])
  })

  test('a waiter whose callers all left stops waiting, and never starts the work', async () => {
    const runs: string[] = []
    const a = instance('a').run('pic', job('pic', 'by a', runs, 300))
    await Bun.sleep(30)
    const left = new AbortController()
    const b = instance('b').run('pic', { ...job('pic', 'by b', runs), signal: left.signal })
    await Bun.sleep(50)
    left.abort(new Error('client went away'))
    await expect(b).rejects.toThrow('client went away')
    expect(await a).toBe('by a')
    expect(runs).toEqual(['by a'])
  })

  test('a waiter hears the lease given back (NOTIFY) and takes the result at once, not at its next poll', async () => {
    const runs: string[] = []
    const a = instance('a').run('pic', job('pic', 'by a', runs, 300))
    await Bun.sleep(30)
    const started = performance.now()
    const b = instance('b', 1000, 10_000).run('pic', job('pic', 'by b', runs))
    expect(await Promise.all([a, b])).toEqual(['by a', 'by a'])
    // Polling alone would have answered after 10 s.
    expect(performance.now() - started).toBeLessThan(2_000)
    expect(runs).toEqual(['by a'])
  })
})
