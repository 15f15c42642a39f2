/**
 * A picture changed upstream and picked up by every instance (issue 12, on the real engines):
 * three instances on one PostgreSQL database and one S3 bucket, no data directory in common. All
 * three serve a picture and a derived image of it from their caches; the picture changes upstream
 * and one instance learns of it, in turn by each way there is: the explicit refresh
 * (`manage.refresh`), a request after the refresh TTL (stale-while-revalidate), and the sweeper
 * of the instance that leads. Each time, every instance serves the new bytes (those a fresh
 * single instance makes of the new picture) within 2 s, the upstream is asked once, the CDN purge
 * hook is called once (by the instance that learned), and the old version's blobs leave the
 * bucket. Needs HEADSHOT_TEST_DATABASE_URL and HEADSHOT_TEST_S3_* (skipped without them, failing
 * under CI=true).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SQL, S3Client } from 'bun'
import { createHash } from 'node:crypto'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { startHeadshot, type Headshot } from '../support/headshot.ts'
import { createTestDatabase, havePostgres, type TestDatabase } from '../support/postgres.ts'
import { describeS3, s3Env, type S3TestSettings, s3TestSettings, emptyPrefix } from '../support/s3.ts'
import { blobKey, checkStore } from '../support/store-integrity.ts'

/** Less than the row cache's 5 s bound: only the invalidation fan-out gets every instance there in time. */
const DEADLINE_MS = 2_000
/** More than the refresh TTL (7 days): the held picture is due again. */
const WEEK_AND_A_DAY = 8 * 86_400_000

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, ms: number): Promise<number> {
  const started = Date.now()
  while (!(await condition())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms: ${what}`)
    await Bun.sleep(20)
  }
  return Date.now() - started
}

const scaleOut = (name: string, body: () => void) =>
  havePostgres() ? describeS3(name, body) : describe.skip(name, body)

scaleOut('a picture changed upstream, three instances on one PostgreSQL and one S3 bucket', () => {
  let db: TestDatabase
  let sql: SQL
  let gravatar: FakeGravatar
  let settings: S3TestSettings
  let hash: string
  let paths: string[]
  /** One clock for the three (frozen but for the jumps the tests make), as in test/refresh/leader.test.ts. */
  let clock = Date.now()
  let changes = 0
  const instances: Headshot[] = []
  const purges = [0, 0, 0]

  beforeAll(async () => {
    db = await createTestDatabase()
    sql = new SQL({ url: db.url, max: 1 })
    gravatar = startFakeGravatar()
    settings = await s3TestSettings('change')
    hash = gravatar.addEmail('changes@example.com').md5
    paths = [`/image/gravatar/${hash}.png`, `/image/gravatar/c_fill,h_40,w_40/${hash}.png`]
    const env = {
      ...gravatar.env,
      ...s3Env(settings),
      HEADSHOT_DATABASE_URL: db.url,
      HEADSHOT_PURGE_URL: 'http://127.0.0.1:9/purge',
    }
    for (let i = 0; i < 3; i++) {
      const purgeFetch = (async () => {
        purges[i]!++
        return new Response(null, { status: 204 })
      }) as unknown as typeof fetch
      // Each its own data directory (startHeadshot's): they share only the database and the bucket.
      instances.push(
        await startHeadshot(env, { now: () => clock, purgeFetch, leadership: { retryMs: 300, checkMs: 100 } }),
      )
    }
  })
  afterAll(async () => {
    for (const instance of instances) await instance.close()
    await sql?.close()
    gravatar?.stop()
    await db?.drop()
    if (settings) await emptyPrefix(settings)
  })

  const digestOf = async (instance: Headshot, path: string) => {
    const response = await instance.get(path)
    expect(response.status).toBe(200)
    return sha256(new Uint8Array(await response.arrayBuffer()))
  }

  /** What a fresh single instance (SQLite, its own data directory) makes of the picture upstream now. */
  async function freshDigests(): Promise<string[]> {
    const fresh = await startHeadshot({ ...gravatar.env })
    try {
      const digests: string[] = []
      for (const path of paths) digests.push(await digestOf(fresh, path))
      return digests
    } finally {
      await fresh.close()
    }
  }

  /** The upstream picture changes: someone else's face, a later Last-Modified. */
  function changeUpstream() {
    changes++
    const user = gravatar.users.get(hash)!
    user.seed = `someone else, ${changes}`
    user.lastModified = new Date(Math.floor(Date.now() / 1000) * 1000 + changes * 10_000)
  }

  /** Every instance serves `expected` at every path, twice (the second from its caches). */
  async function everyInstanceServes(expected: string[]) {
    for (const instance of instances) {
      for (const [i, path] of paths.entries()) {
        expect(await digestOf(instance, path)).toBe(expected[i]!)
        expect(await digestOf(instance, path)).toBe(expected[i]!)
      }
    }
  }

  /** Blob hashes the rows of the picture name now: its original (a JPEG), its PNG and its derived image. */
  async function namedBlobs(): Promise<string[]> {
    const rows = (await sql.unsafe(
      `SELECT content_hash FROM pictures WHERE public_id = $1 AND content_hash IS NOT NULL
       UNION SELECT content_hash FROM derivatives WHERE public_id = $1`,
      [hash],
    )) as Array<{ content_hash: string }>
    return rows.map((r) => r.content_hash).sort()
  }

  /**
   * The picture changes upstream and `learn` makes one instance find out. Within 2 s of that,
   * every instance serves the new bytes (polled: the first answers may still be the old ones);
   * the upstream was asked once, the purge hook called once, by `learner`; the old blobs go.
   */
  async function changeAndPickUp(learner: number, learn: () => Promise<unknown>) {
    const before = await namedBlobs()
    expect(before).toHaveLength(3)
    changeUpstream()
    const expected = await freshDigests()
    const calls = gravatar.requests.count('avatar')
    const purged = [...purges]

    const learned = Date.now()
    await learn()
    for (const instance of instances) {
      for (const [i, path] of paths.entries()) {
        const left = learned + DEADLINE_MS - Date.now()
        await waitFor(
          `instance ${instances.indexOf(instance)} serves the new ${path}`,
          async () => {
            return (await digestOf(instance, path)) === expected[i]
          },
          Math.max(0, left),
        )
      }
    }
    console.log(`every instance served the new bytes ${Date.now() - learned} ms after instance ${learner} was told`)
    // ... and keeps serving them, from its caches.
    await everyInstanceServes(expected)
    expect(gravatar.requests.count('avatar') - calls).toBe(1)

    // The old version's blobs leave the bucket, the new ones are named and there.
    const bucket = new S3Client({ ...settings })
    await waitFor(
      'the old blobs to leave the bucket',
      async () => {
        for (const old of before) if (await bucket.file(blobKey(settings, old)).exists()) return false
        return true
      },
      5_000,
    )
    const after = await namedBlobs()
    expect(after).toHaveLength(3)
    for (const old of before) expect(after).not.toContain(old)

    // The purge hook: once, by the instance that learned (the others were only told to drop caches).
    await waitFor('the purge hook', () => purges.reduce((a, b) => a + b) > purged.reduce((a, b) => a + b), 2_000)
    await Bun.sleep(200)
    expect(purges.map((n, i) => n - purged[i]!)).toEqual(instances.map((_, i) => (i === learner ? 1 : 0)))

    const report = await checkStore(db.url, settings)
    expect(report.problems).toEqual([])
    expect(report.orphans).toEqual([])
  }

  test('every instance serves the picture and its derived image from its caches', async () => {
    await everyInstanceServes(await freshDigests())
    const report = await checkStore(db.url, settings)
    expect(report).toEqual({ problems: [], pictures: 1, derivatives: 2, orphans: [] })
  })

  test('the explicit refresh, told to one instance, reaches all three', async () => {
    await changeAndPickUp(0, async () => {
      expect((await instances[0]!.app.manage.refresh('gravatar', hash)).changed).toBe(true)
    })
  })

  test('a request after the refresh TTL, to one instance, reaches all three', async () => {
    await changeAndPickUp(2, async () => {
      clock += WEEK_AND_A_DAY
      const arrived = gravatar.arrived
      // Stale-while-revalidate: this answer may still be the old picture; its re-check is under way.
      expect((await instances[2]!.get(paths[0]!)).status).toBe(200)
      // Its re-check holds the picture's lease once it reached the upstream: the requests of the
      // polling below, stale on the other instances too, then wait for it rather than race it.
      await waitFor('the re-check to reach the upstream', () => gravatar.arrived > arrived, DEADLINE_MS)
    })
  })

  test("the leader's sweeper, after the refresh TTL, reaches all three", async () => {
    await waitFor('one leader', () => instances.filter((i) => i.app.sweeper.status().leader).length === 1, 5_000)
    const leader = instances.findIndex((i) => i.app.sweeper.status().leader)
    await changeAndPickUp(leader, async () => {
      clock += WEEK_AND_A_DAY
      await Promise.all(instances.map((instance) => instance.app.sweeper.tick()))
    })
  })
})
