/**
 * Work leases in PostgreSQL (src/store/leases.ts): one holder at a time, however many try at once;
 * a lease runs out on the database's clock (the instance's plays no part) and can then be taken;
 * its holder can renew it; only its holder can give it back, which is announced to every watcher; a
 * lease that ran out and was never given back goes with the next give-back. Needs HEADSHOT_TEST_DATABASE_URL
 * (skipped without it, failing under CI=true).
 */
import type { SQL } from 'bun'
import { afterAll, beforeAll, beforeEach, describe, expect, spyOn, test } from 'bun:test'
import { createPostgresLeases, type LeaseTable, leaseName } from '../../src/store/leases.ts'
import { createMigratedTestDatabase, havePostgres, type MigratedTestDatabase } from '../support/postgres.ts'

describe('leaseName', () => {
  test('keeps the parts apart whatever they contain', () => {
    expect(leaseName('picture', 'mastodon', 'a/b')).not.toBe(leaseName('picture', 'mastodon/a', 'b'))
    expect(leaseName('derivative', 'x', 'id', 1, 'w_10/jpg')).toBe('["derivative","x","id",1,"w_10/jpg"]')
    expect(leaseName('picture', 'x', 'nul\u0000byte')).not.toContain('\u0000') // text cannot hold NUL
  })

  test('a name too long for an index key is bounded, and still tells long names apart', () => {
    const a = leaseName('derivative', 'x', 'id', 1, `${'e_blur,'.repeat(500)}/jpg`)
    const b = leaseName('derivative', 'x', 'id', 1, `${'e_blur,'.repeat(500)}/png`)
    expect(Buffer.byteLength(a)).toBeLessThan(512)
    expect(a.startsWith('["derivative","x","id",1,"e_blur,')).toBe(true)
    expect(a).not.toBe(b)
  })
})

describe.skipIf(!havePostgres())('leases in PostgreSQL', () => {
  let db: MigratedTestDatabase
  let sql: SQL
  let leases: LeaseTable
  const holderOf = async (name: string) =>
    ((await sql.unsafe(`SELECT holder FROM leases WHERE name = $1`, [name])) as Array<{ holder: string }>)[0]?.holder

  beforeAll(async () => {
    db = await createMigratedTestDatabase()
    sql = db.sql
    leases = createPostgresLeases(sql)
  })
  afterAll(async () => {
    await db?.drop()
  })
  beforeEach(async () => {
    await sql.unsafe('TRUNCATE leases')
  })

  test('one holder at a time: a running lease cannot be taken', async () => {
    expect(await leases.acquire('work', 'a', 30_000)).toBe(true)
    expect(await leases.acquire('work', 'b', 30_000)).toBe(false)
    expect(await holderOf('work')).toBe('a')
    // Another piece of work is another lease.
    expect(await leases.acquire('other work', 'b', 30_000)).toBe(true)
  })

  test('of twenty instances trying at once, exactly one gets it', async () => {
    const tries = await Promise.all(Array.from({ length: 20 }, (_, i) => leases.acquire('herd', `h${i}`, 30_000)))
    expect(tries.filter(Boolean)).toHaveLength(1)
    expect(await holderOf('herd')).toBe(`h${tries.indexOf(true)}`)
  })

  test('a lease that ran out can be taken over', async () => {
    expect(await leases.acquire('work', 'dead', 300)).toBe(true)
    expect(await leases.acquire('work', 'b', 30_000)).toBe(false)
    await Bun.sleep(400)
    expect(await leases.acquire('work', 'b', 30_000)).toBe(true)
    expect(await holderOf('work')).toBe('b')
    // The old holder can neither renew nor give back what is not its own any more.
    expect(await leases.renew('work', 'dead', 30_000)).toBe(false)
    await leases.release('work', 'dead')
    expect(await holderOf('work')).toBe('b')
  })

  test("expiry is judged by the database's clock: the instance's plays no part", async () => {
    const clock = spyOn(Date, 'now')
    try {
      expect(await leases.acquire('work', 'a', 30_000)).toBe(true)
      // An instance whose clock runs a day ahead still sees a's lease running.
      clock.mockImplementation(() => performance.timeOrigin + performance.now() + 86_400_000)
      expect(await leases.acquire('work', 'b', 30_000)).toBe(false)
      // Ran out by the database's clock: taken, even by an instance whose clock runs a day behind.
      await sql.unsafe(`UPDATE leases SET expires_at = now() - interval '1 second' WHERE name = 'work'`)
      clock.mockImplementation(() => performance.timeOrigin + performance.now() - 86_400_000)
      expect(await leases.acquire('work', 'b', 30_000)).toBe(true)
    } finally {
      clock.mockRestore()
    }
    // And the expiry written is the database's now() plus the TTL.
    const [row] = (await sql.unsafe(
      `SELECT extract(epoch FROM expires_at - now()) AS left FROM leases WHERE name = 'work'`,
    )) as Array<{ left: string }>
    expect(Number(row!.left)).toBeGreaterThan(29)
    expect(Number(row!.left)).toBeLessThanOrEqual(30)
  })

  test('renewing keeps a lease running past its first TTL; only its holder can renew it', async () => {
    expect(await leases.acquire('work', 'a', 1000)).toBe(true)
    await Bun.sleep(600)
    expect(await leases.renew('work', 'a', 1000)).toBe(true) // now runs until ~1600 ms
    expect(await leases.renew('work', 'b', 1000)).toBe(false)
    await Bun.sleep(600) // ~1200 ms after taking it: past the first TTL, inside the renewed one
    expect(await leases.acquire('work', 'b', 30_000)).toBe(false)
    await Bun.sleep(600)
    expect(await leases.acquire('work', 'b', 30_000)).toBe(true)
  })

  test('only its holder gives a lease back; then anyone can take it', async () => {
    expect(await leases.acquire('work', 'a', 30_000)).toBe(true)
    await leases.release('work', 'b')
    expect(await leases.acquire('work', 'b', 30_000)).toBe(false)
    await leases.release('work', 'a')
    expect(await holderOf('work')).toBeUndefined()
    expect(await leases.acquire('work', 'b', 30_000)).toBe(true)
  })

  test('a lease that ran out and was never given back goes with the next lease anyone gives back, announced', async () => {
    const heard: string[] = []
    const unwatch = await leases.watch((name) => heard.push(name))
    try {
      // Its holder died after its work was done: nobody will ever take this one over.
      expect(await leases.acquire('done, never given back', 'dead', 300)).toBe(true)
      expect(await leases.acquire('running', 'b', 30_000)).toBe(true)
      expect(await leases.acquire('work', 'a', 30_000)).toBe(true)
      await leases.release('work', 'a')
      // Not run out yet: it stays.
      expect(await holderOf('done, never given back')).toBe('dead')
      await Bun.sleep(400)
      expect(await leases.acquire('work', 'a', 30_000)).toBe(true)
      await leases.release('work', 'a')
      expect(await holderOf('done, never given back')).toBeUndefined()
      expect(await holderOf('running')).toBe('b')
      const deadline = Date.now() + 2_000
      while (heard.length < 3 && Date.now() < deadline) await Bun.sleep(10)
      expect(heard.toSorted()).toEqual(['done, never given back', 'work', 'work'])
    } finally {
      await unwatch()
    }
  })

  test('a name of any length fits the table', async () => {
    const name = leaseName('derivative', 'x', 'id', 1, `${'e_blur,'.repeat(2000)}/jpg`)
    expect(await leases.acquire(name, 'a', 30_000)).toBe(true)
    expect(await leases.acquire(name, 'b', 30_000)).toBe(false)
  })

  test('giving a lease back is announced to watchers; a refused give-back is not', async () => {
    const heard: string[] = []
    const unwatch = await leases.watch((name) => heard.push(name))
    try {
      expect(await leases.acquire('work', 'a', 30_000)).toBe(true)
      await leases.release('work', 'b') // not b's: nothing given back, nothing said
      await leases.release('work', 'a')
      const deadline = Date.now() + 2_000
      while (heard.length === 0 && Date.now() < deadline) await Bun.sleep(10)
      await Bun.sleep(50)
      expect(heard).toEqual(['work'])
    } finally {
      await unwatch()
    }
  })
})
