/**
 * An instance killed with kill -9 mid-load (issue 12, on the real engines): three real processes
 * (`bun src/main.ts serve`) on one PostgreSQL database and one S3 bucket, a slow upstream, short
 * work leases (HEADSHOT_LEASE_TTL 2 s). A client spreads a steady mix of new pictures and new
 * derived images over the three, 16 requests at a time, as a load balancer would; part way
 * through, while it holds leases, one process is killed with SIGKILL. Its requests fail with
 * connection errors and are sent again to a survivor, as a load balancer would. Then:
 *
 * - every URL was answered 200 by a survivor, both survivors serve the same bytes, and those are
 *   the bytes a fresh single instance makes (and decode to the sizes asked for);
 * - the store is whole: every row names an object that is in the bucket under the hash of its
 *   own content, no row is in a state no writer leaves, the reference counts agree, and every
 *   derived image asked for has its row (none lost);
 * - the dead process's leases ran out and its work was taken over; no lease is left behind;
 * - the upstream was asked at most twice per picture (once by the dead process, once by a survivor).
 *
 * Needs HEADSHOT_TEST_DATABASE_URL and HEADSHOT_TEST_S3_* (skipped without them, failing under CI=true).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SQL } from 'bun'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { probeImage } from '../../src/lib/image-header.ts'
import { makePicture } from '../support/fakes/images.ts'
import { spawnServe } from '../support/binary.ts'
import { startHeadshot, TEST_SECRET } from '../support/headshot.ts'
import { createTestDatabase, havePostgres, type TestDatabase } from '../support/postgres.ts'
import { describeS3, s3Env, type S3TestSettings, s3TestSettings, emptyPrefix } from '../support/s3.ts'
import { checkStore } from '../support/store-integrity.ts'

const LEASE_TTL_MS = 2_000
const PICTURES = 30
const CONCURRENCY = 16
/** Slow enough that the process killed is caught holding leases of downloads under way. */
const UPSTREAM_DELAY_MS = 150

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`)
    await Bun.sleep(10)
  }
}

/** One `bun src/main.ts serve` on the shared database and bucket. */
interface Child {
  process: ReturnType<typeof Bun.spawn>
  base: string
  alive: boolean
  /** Requests sent to it and not yet settled. */
  inFlight: number
}

interface LoadUrl {
  path: string
  width: number
  height: number
}

/**
 * The URLs of the load: each picture's original, a small PNG of it, and for every third a WebP.
 * A picture's URLs are next to each other: sent round-robin, they reach different processes at
 * about the same time, which then share its download and wait for each other's leases.
 */
function urlsOf(hashes: string[]): LoadUrl[] {
  const urls: LoadUrl[] = []
  for (const [i, hash] of hashes.entries()) {
    urls.push({ path: `/image/gravatar/${hash}.jpg`, width: 2048, height: 2048 })
    urls.push({ path: `/image/gravatar/c_fill,h_48,w_48/${hash}.png`, width: 48, height: 48 })
    if (i % 3 === 0) urls.push({ path: `/image/gravatar/c_fill,h_64,w_64/${hash}.webp`, width: 64, height: 64 })
  }
  return urls
}

const scaleOut = (name: string, body: () => void) =>
  havePostgres() ? describeS3(name, body) : describe.skip(name, body)

scaleOut('an instance killed with SIGKILL mid-load, three processes on one PostgreSQL and one S3 bucket', () => {
  let db: TestDatabase
  let sql: SQL
  let gravatar: FakeGravatar
  let settings: S3TestSettings
  let dir: string
  const children: Child[] = []

  async function spawn(name: string): Promise<Child> {
    const { child, base } = await spawnServe(
      {
        HOME: dir,
        HEADSHOT_DATA_DIR: join(dir, name),
        HEADSHOT_WORKERS: '1',
        HEADSHOT_API_KEY: '123456',
        HEADSHOT_API_SECRET: TEST_SECRET,
        HEADSHOT_DATABASE_URL: db.url,
        HEADSHOT_LEASE_TTL: `${LEASE_TTL_MS}ms`,
        ...gravatar.env,
        ...s3Env(settings),
      },
      { stderr: 'pipe' },
    )
    // Keep reading its output, so a full pipe never blocks it.
    void child.stdout.pipeTo(new WritableStream()).catch(() => {})
    void (child.stderr as ReadableStream<Uint8Array>).pipeTo(new WritableStream()).catch(() => {})
    return { process: child, base, alive: true, inFlight: 0 }
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    sql = new SQL({ url: db.url, max: 1 })
    gravatar = startFakeGravatar()
    settings = await s3TestSettings('kill')
    dir = mkdtempSync(join(tmpdir(), 'headshot-kill-'))
    // The first one migrates the database; the other two start together once it is ready.
    children.push(await spawn('a'))
    children.push(...(await Promise.all([spawn('b'), spawn('c')])))
  }, 60_000)
  afterAll(async () => {
    for (const child of children) child.process.kill('SIGKILL')
    await Promise.all(children.map((child) => child.process.exited))
    await sql?.close()
    gravatar?.stop()
    await db?.drop()
    if (settings) await emptyPrefix(settings)
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const metric = async (child: Child, name: string) => {
    const text = await (await fetch(`${child.base}/metrics`)).text()
    let total = 0
    for (const line of text.split('\n')) if (line.startsWith(`headshot_${name}`)) total += Number(line.split(' ').pop())
    return total
  }

  test('no lost or half-written picture; its leases run out and the survivors finish its work', async () => {
    const hashes = Array.from({ length: PICTURES }, (_, i) => gravatar.addEmail(`load${i}@example.com`).md5)
    // The fake encodes each picture once per process: do it now, not on the clock of the load.
    for (let i = 0; i < PICTURES; i++) await makePicture(`load${i}@example.com`, 2048, 2048, 'jpg')
    const urls = urlsOf(hashes)
    gravatar.modes.delayMs = UPSTREAM_DELAY_MS
    const doomed = children[0]!
    const doomedPid = doomed.process.pid
    const heldByDoomed = `%/${doomedPid}/%`

    // The client: a queue worked 16 at a time, round-robin over the live processes; a connection
    // error marks nothing but that attempt as failed, and the request goes to another process.
    const answers = new Map<string, { digest: string; bytes: Uint8Array; by: Child }>()
    const failures: string[] = []
    let next = 0
    let sent = 0
    let connectionErrors = 0
    let done = 0
    async function ask(path: string): Promise<void> {
      for (let attempt = 0; attempt < 6; attempt++) {
        const live = children.filter((child) => child.alive)
        const child = live[sent++ % live.length]!
        child.inFlight++
        try {
          const response = await fetch(`${child.base}${path}`, { signal: AbortSignal.timeout(20_000) })
          const bytes = new Uint8Array(await response.arrayBuffer())
          if (response.status !== 200) {
            failures.push(`${path}: ${response.status} ${new TextDecoder().decode(bytes.slice(0, 200))}`)
            return
          }
          answers.set(path, { digest: sha256(bytes), bytes, by: child })
          return
        } catch (error) {
          // Only the killed process may refuse or drop a connection.
          if (child.alive) {
            failures.push(`${path}: ${child.base} (alive) failed: ${(error as Error).message}`)
            return
          }
          connectionErrors++
        } finally {
          child.inFlight--
        }
      }
      failures.push(`${path}: no answer after 6 attempts`)
    }
    const client = async () => {
      while (next < urls.length) {
        await ask(urls[next++]!.path)
        done++
      }
    }

    // The kill: a quarter of the way through, at a moment the doomed process is downloading a
    // picture (it holds the picture's lease, and the upstream has not answered its request yet:
    // only a lease's holder downloads), so that work cannot be finished by it, and must be elsewhere.
    let leasesAtDeath: string[] = []
    let caught: string[] = []
    let inFlightAtDeath = 0
    let killedAt = 0
    const killer = (async () => {
      await waitFor('a quarter of the load', () => done >= urls.length / 4, 30_000)
      await waitFor(
        'the doomed process to be downloading a picture',
        async () => {
          const rows = (await sql.unsafe('SELECT name FROM leases WHERE holder LIKE $1 AND expires_at > now()', [
            heldByDoomed,
          ])) as Array<{ name: string }>
          leasesAtDeath = rows.map((row) => row.name)
          const downloading = new Set(gravatar.unanswered.map((path) => path.split('/').pop()!))
          caught = hashes.filter(
            (hash) => downloading.has(hash) && leasesAtDeath.includes(`["picture","gravatar","${hash}"]`),
          )
          return caught.length > 0 && doomed.inFlight > 0
        },
        10_000,
      )
      doomed.alive = false
      inFlightAtDeath = doomed.inFlight
      process.kill(doomedPid, 'SIGKILL')
      killedAt = Date.now()
      await doomed.process.exited
    })()

    const started = performance.now()
    await Promise.all([...Array.from({ length: CONCURRENCY }, client), killer])
    const loadMs = performance.now() - started
    console.log(
      `${urls.length} URLs in ${Math.round(loadMs)} ms; killed holding ${leasesAtDeath.length} lease(s), ` +
        `${caught.length} picture(s) mid-download, ${inFlightAtDeath} request(s) in flight; ` +
        `${connectionErrors} connection error(s) retried`,
    )
    expect(failures).toEqual([])
    expect(answers.size).toBe(urls.length)
    expect(doomed.alive).toBe(false)
    expect(inFlightAtDeath).toBeGreaterThan(0)
    const survivors = children.filter((child) => child.alive)
    expect(survivors).toHaveLength(2)

    // Its leases ran out and the survivors took its work over (they waited at most one TTL for it).
    let takeovers = 0
    for (const survivor of survivors) takeovers += await metric(survivor, 'lease_takeovers_total')
    expect(takeovers).toBeGreaterThanOrEqual(1)

    // Every URL: the same bytes from both survivors, the right size, and what a fresh single instance makes.
    gravatar.modes.delayMs = 0
    await waitFor(
      'the upstream to answer every request',
      () => gravatar.requests.count('avatar') === gravatar.arrived,
      5_000,
    )
    const perPicture = new Map<string, number>()
    for (const request of gravatar.requests.to('avatar')) {
      const hash = request.path.split('/').pop()!
      perPicture.set(hash, (perPicture.get(hash) ?? 0) + 1)
    }
    const fresh = await startHeadshot({ ...gravatar.env })
    try {
      let i = 0
      const check = async () => {
        while (i < urls.length) {
          const url = urls[i++]!
          const answer = answers.get(url.path)!
          const other = survivors.find((survivor) => survivor !== answer.by)!
          const again = await fetch(`${other.base}${url.path}`)
          expect(again.status).toBe(200)
          expect(sha256(new Uint8Array(await again.arrayBuffer()))).toBe(answer.digest)
          const probed = probeImage(answer.bytes)
          expect(probed.ok && { width: probed.value.width, height: probed.value.height }).toEqual({
            width: url.width,
            height: url.height,
          })
          const reference = await fresh.get(url.path)
          expect(reference.status).toBe(200)
          expect(sha256(new Uint8Array(await reference.arrayBuffer()))).toBe(answer.digest)
        }
      }
      await Promise.all(Array.from({ length: 4 }, check))
    } finally {
      await fresh.close()
    }

    // At most two downloads per picture: one by the dead process, one by a survivor; exactly two
    // of those it was downloading when it died.
    expect(new Set(perPicture.keys())).toEqual(new Set(hashes))
    expect([...perPicture].filter(([, n]) => n > 2)).toEqual([])
    for (const hash of caught) expect(perPicture.get(hash)).toBe(2)

    // The store is whole, and holds every picture and every derived image asked for.
    const report = await checkStore(db.url, settings)
    console.log(
      `store: ${report.pictures} pictures, ${report.derivatives} derived images, ${report.orphans.length} blob(s) no row names`,
    )
    expect(report.problems).toEqual([])
    expect(report.pictures).toBe(PICTURES)
    const derived = (await sql.unsafe(
      `SELECT p.public_id, d.key FROM derivatives d JOIN pictures p USING (type, public_id)
       WHERE d.version = p.version ORDER BY 1, 2`,
    )) as Array<{ public_id: string; key: string }>
    const wanted = urls
      .map((url) => /^\/image\/gravatar\/(?:(.+)\/)?([0-9a-f]{32})\.(\w+)$/.exec(url.path)!)
      .filter(([, chain, , format]) => chain !== undefined || format !== 'jpg')
      .map(([, chain, hash, format]) => ({ public_id: hash!, key: chain ? `${chain}/${format}` : format! }))
    for (const row of wanted) expect(derived).toContainEqual(row)

    // No lease is left: the survivors gave theirs back, and the dead process's ran out and were
    // taken over, or (its work done, nobody needed them again) went with the next lease given back.
    await Bun.sleep(Math.max(0, killedAt + LEASE_TTL_MS + 100 - Date.now()))
    const after = gravatar.addEmail('after-the-load@example.com').md5
    expect((await fetch(`${survivors[0]!.base}/image/gravatar/${after}.jpg`)).status).toBe(200)
    expect(await sql.unsafe('SELECT name, holder FROM leases')).toEqual([])
  }, 60_000)

  test('killed after its work was stored, before it gave the lease back: the lease goes all the same', async () => {
    const { md5 } = gravatar.addEmail('stored-then-killed@example.com')
    const path = `/image/gravatar/${md5}.jpg`
    const name = `["picture","gravatar","${md5}"]`
    gravatar.modes.delayMs = 300
    const doomed = await spawn('d')
    children.push(doomed)
    const survivor = await startHeadshot({
      ...gravatar.env,
      ...s3Env(settings),
      HEADSHOT_DATABASE_URL: db.url,
      HEADSHOT_LEASE_TTL: `${LEASE_TTL_MS}ms`,
    })
    const locker = new SQL({ url: db.url, max: 1 })
    try {
      const lost = fetch(`${doomed.base}${path}`).catch(() => undefined)
      await waitFor(
        'the doomed process to take the lease',
        async () => {
          return (await sql.unsafe('SELECT 1 FROM leases WHERE name = $1', [name])).length === 1
        },
        10_000,
      )
      // Its give-back waits on a lock of ours: the picture is stored, the lease still held. Then it
      // dies; its database session goes with it (as the server ends it once the socket is found
      // dead), and its DELETE never runs.
      await locker.begin(async (tx) => {
        const [{ pid }] = (await tx.unsafe('SELECT pg_backend_pid() AS pid')) as [{ pid: number }]
        expect(await tx.unsafe('SELECT 1 FROM leases WHERE name = $1 FOR UPDATE', [name])).toHaveLength(1)
        await waitFor(
          'its give-back to wait on our lock',
          async () => {
            const blocked = await sql.unsafe(
              `SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)) AND query LIKE '%DELETE FROM "leases"%'`,
              [pid],
            )
            return blocked.length > 0
          },
          10_000,
        )
        doomed.alive = false
        process.kill(doomed.process.pid, 'SIGKILL')
        await doomed.process.exited
        // Its sessions waiting on us (the give-back, maybe a renewal) end now, as its others did.
        await sql.unsafe(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
          [pid],
        )
      })
      await lost
      const [row] = (await sql.unsafe('SELECT status FROM pictures WHERE public_id = $1', [md5])) as Array<{
        status: string
      }>
      expect(row?.status).toBe('ok')
      expect(await sql.unsafe('SELECT holder FROM leases WHERE name = $1', [name])).toHaveLength(1)

      // The survivor serves what the dead one stored (nobody asks the upstream again, nobody
      // needs that lease again); once it has run out, the next lease given back takes it along.
      gravatar.modes.delayMs = 0
      expect((await survivor.get(path)).status).toBe(200)
      expect(gravatar.requests.to('avatar').filter((r) => r.path.includes(md5))).toHaveLength(1)
      await Bun.sleep(LEASE_TTL_MS + 100)
      const other = gravatar.addEmail('someone-later@example.com').md5
      expect((await survivor.get(`/image/gravatar/${other}.jpg`)).status).toBe(200)
      expect(await sql.unsafe('SELECT name, holder FROM leases')).toEqual([])
      const report = await checkStore(db.url, settings)
      expect(report.problems).toEqual([])
    } finally {
      await locker.close()
      await survivor.close()
    }
  }, 30_000)
})
