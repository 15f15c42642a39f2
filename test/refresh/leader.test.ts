/**
 * One sweeper per database (issue 12): instances sharing one PostgreSQL database elect a leader
 * with a session-level advisory lock, and only the leader's sweeper calls the networks. When the
 * leader closes, when its lock session is terminated (a dead connection), or when its process is
 * killed with SIGKILL, another instance takes over within a few seconds, and the old leader makes
 * no call after it lost the lock.
 *
 * Three in-process instances on one test database and one fake Gravatar; their sweepers are ticked
 * by hand on one shared clock moved eight days at a time, so every held picture is due at every round,
 * and each round shows which instances called the network. Needs HEADSHOT_TEST_DATABASE_URL
 * (skipped without it, failing under CI=true).
 */
import { SQL } from 'bun'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { SWEEP_LOCK_KEY } from '../../src/refresh/leader.ts'
import { describeSweeperStatus } from '../../src/refresh/sweeper.ts'
import { spawnServe } from '../support/binary.ts'
import { startHeadshot, type Headshot } from '../support/headshot.ts'
import { createTestDatabase, havePostgres, type TestDatabase } from '../support/postgres.ts'

/** More than the refresh TTL (7 days): every held picture is due again. */
const WEEK_AND_A_DAY = 8 * 86_400_000
/** Short lease timings (defaults: a try every 5 s, a check every second), so takeovers take well under a second. */
const LEASE = { retryMs: 300, checkMs: 100 }
/** "Within a few seconds". */
const TAKEOVER_MS = 3_000

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, ms = TAKEOVER_MS): Promise<number> {
  const started = Date.now()
  while (!(await condition())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms: ${what}`)
    await Bun.sleep(10)
  }
  return Date.now() - started
}

/**
 * The session holding the sweep lock of this test's database, as the server sees it. pg_locks spans
 * the whole server, and advisory locks are per database: other databases' instances hold theirs.
 */
const LOCK_HOLDER = `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND classid = ${SWEEP_LOCK_KEY >> 32n} AND objid = ${SWEEP_LOCK_KEY & 0xffffffffn}`

describe.skipIf(!havePostgres())('one sweeper per database', () => {
  let db: TestDatabase
  let admin: SQL
  let gravatar: FakeGravatar
  let clock = Date.now()
  const instances: Headshot[] = []
  const open = new Set<Headshot>()
  const env = () => ({ ...gravatar.env, HEADSHOT_DATABASE_URL: db.url, HEADSHOT_SWEEP_RATE: '120' })

  const leaders = () => [...open].filter((instance) => instance.app.sweeper.status().leader)
  const callsOf = (instance: Headshot) =>
    instance.app.sweeper.status().networks.reduce((sum, network) => sum + network.calls, 0)

  /** Instances by the order they started, for readable failures. */
  const names = (list: Headshot[]) => list.map((instance) => `instance ${instances.indexOf(instance)}`)

  /** Eight days later, every open instance ticks its sweeper: the instances that called the network. */
  async function round(): Promise<string[]> {
    clock += WEEK_AND_A_DAY
    const before = new Map([...open].map((instance) => [instance, callsOf(instance)]))
    const upstreamBefore = gravatar.requests.count('avatar')
    await Promise.all([...open].map((instance) => instance.app.sweeper.tick()))
    const callers = [...open].filter((instance) => callsOf(instance) > before.get(instance)!)
    // What the fake saw is what the callers counted: nobody else called.
    const counted = callers.reduce((sum, instance) => sum + callsOf(instance) - before.get(instance)!, 0)
    expect(gravatar.requests.count('avatar') - upstreamBefore).toBe(counted)
    return names(callers)
  }

  /** Several rounds: each time exactly one instance called the network, the one that leads. */
  async function onlyTheLeaderSweeps(): Promise<Headshot> {
    expect(leaders()).toHaveLength(1)
    const [leader] = leaders()
    for (let i = 0; i < 4; i++) expect(await round()).toEqual(names([leader!]))
    return leader!
  }

  async function start(): Promise<Headshot> {
    const instance = await startHeadshot(env(), { now: () => clock, leadership: LEASE })
    instances.push(instance)
    open.add(instance)
    return instance
  }

  async function close(instance: Headshot): Promise<void> {
    open.delete(instance)
    await instance.close()
  }

  beforeAll(async () => {
    db = await createTestDatabase()
    admin = new SQL({ url: db.url, max: 1 })
    gravatar = startFakeGravatar()
    const first = await start()
    // Twenty held pictures for the sweep to re-check.
    for (let i = 0; i < 20; i++) {
      const { md5 } = gravatar.addEmail(`leader${i}@example.com`, { seed: 'leader-test' })
      expect((await first.get(`/image/gravatar/${md5}.jpg`)).status).toBe(200)
    }
    await start()
    await start()
  })
  afterAll(async () => {
    for (const instance of open) await instance.close()
    await admin?.close()
    gravatar?.stop()
    await db?.drop()
  })

  test('exactly one instance leads, says so in /metrics and its status, and only its sweeper calls', async () => {
    await waitFor('one leader', () => leaders().length === 1)
    // ... and it stays one, through several of the standbys' tries.
    await Bun.sleep(3 * LEASE.retryMs)
    expect(leaders()).toHaveLength(1)
    const gauges = await Promise.all(instances.map((instance) => instance.metric('sweep_leader')))
    expect(gauges.toSorted()).toEqual([0, 0, 1])
    const standby = instances.find((instance) => !leaders().includes(instance))!
    expect(describeSweeperStatus(standby.app.sweeper.status())).toStartWith('standing by')
    expect((await admin.unsafe(LOCK_HOLDER)).length).toBe(1)
    // The periodic store chores (expired answers, the store bound, garbage collection) follow the lease.
    expect(instances.map((instance) => instance.app.store.housekeeping())).toEqual(
      instances.map((instance) => leaders().includes(instance)),
    )
    await onlyTheLeaderSweeps()
  })

  test('the leader closes: another takes over within a few seconds, and it alone sweeps', async () => {
    const [leader] = leaders()
    await close(leader!)
    const took = await waitFor('a new leader', () => leaders().length === 1)
    console.log(`takeover after a close: ${took} ms (retry every ${LEASE.retryMs} ms)`)
    await onlyTheLeaderSweeps()
  })

  test("the leader's lock session is terminated: it stops at once, one instance leads again, one sweeps", async () => {
    const [leader] = leaders()
    const [holder] = (await admin.unsafe(LOCK_HOLDER)) as Array<{ pid: number }>
    await admin.unsafe(`SELECT pg_terminate_backend(${holder!.pid})`)
    // At once when the client reports the closed session (most runs: 0–12 ms); when it does not, the
    // next check fails or times out (3 s): the bound a deposed leader may go on believing it leads.
    const stopped = await waitFor('the old leader to stop', () => !leader!.app.sweeper.status().leader, 4_000)
    console.log(`the old leader stopped ${stopped} ms after its session was terminated`)
    // Lost, it sweeps no more: a round now calls nobody (or, if another already leads, only that one).
    expect(await round()).toEqual(names(leaders()))
    expect(leader!.logs.some((line) => String(line.msg).includes('no longer leads'))).toBe(true)
    const took = await waitFor('a leader again', () => leaders().length === 1)
    console.log(`one instance leads again ${took} ms after that`)
    await onlyTheLeaderSweeps()
  })
})

describe.skipIf(!havePostgres())('the leader process is killed with SIGKILL', () => {
  let db: TestDatabase
  let dir: string
  let standby: Headshot | undefined
  let child: ReturnType<typeof Bun.spawn> | undefined

  beforeAll(async () => {
    db = await createTestDatabase()
    dir = mkdtempSync(join(tmpdir(), 'headshot-leader-'))
  })
  afterAll(async () => {
    child?.kill('SIGKILL')
    await child?.exited
    await standby?.close()
    await db?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  test('a second instance takes over within a few seconds', async () => {
    const started = await spawnServe({
      HOME: dir,
      HEADSHOT_DATA_DIR: join(dir, 'killed'),
      HEADSHOT_DATABASE_URL: db.url,
      HEADSHOT_SWEEP_RATE: '20',
      HEADSHOT_API_KEY: '42',
      HEADSHOT_API_SECRET: 'leader-test-secret-0123456789',
    })
    child = started.child
    const port = started.port
    // Keep reading its log, so a full pipe never blocks it.
    void started.child.stdout.pipeTo(new WritableStream()).catch(() => {})
    const leads = async () => {
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
      return /^headshot_sweep_leader 1$/m.test(metrics)
    }
    await waitFor('the child to lead', leads, 10_000)

    standby = await startHeadshot({ HEADSHOT_DATABASE_URL: db.url }, { leadership: LEASE })
    await Bun.sleep(3 * LEASE.retryMs)
    expect(standby.app.sweeper.status().leader).toBe(false)

    child.kill('SIGKILL')
    await child.exited
    const took = await waitFor('the standby to lead', () => standby!.app.sweeper.status().leader)
    console.log(`takeover after SIGKILL: ${took} ms`)
  })
})
