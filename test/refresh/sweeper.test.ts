/**
 * The background sweep: held pictures whose last check is older than the refresh TTL are re-checked
 * upstream without anyone asking for them, within a per-network budget of upstream calls per
 * minute, X in batches of 100, leaving a rate-limited network alone until its reset.
 *
 * Real plugins against the fake upstreams on loopback; the sweeper's clock is moved by hand, one
 * `tick()` at a time. The fake X and Facebook run on that same clock (X's rate-limit resets are what
 * the sweeper pauses until; Facebook's CDN URLs expire), never on real time: real time plus an offset
 * is up to a second off the hand-moved clock, so X could still refuse a call the sweeper rightly
 * makes at the reset.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { Metrics } from '../../src/metrics.ts'
import { createSweeper, describeSweeperStatus, type SweeperOptions } from '../../src/refresh/sweeper.ts'
import { startFakeFacebook, type FakeFacebook } from '../../plugins/facebook/fake.ts'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { isPictureOf, makePicture } from '../support/fakes/images.ts'
import { startFakeX, type FakeX } from '../../plugins/twitter/fake.ts'
import { createIngestWorld, type IngestWorld } from '../support/ingest.ts'
import type { Picture } from '../../src/store/types.ts'
import { UpstreamError } from '../../src/plugin-host/types.ts'
import { memoryPauses } from '../../src/refresh/upstream-pauses.ts'

const MINUTE = 60_000
const DAY = 86_400_000
const TTL = 7 * DAY
const TICK = 5_000

let x: FakeX
let gravatar: FakeGravatar
let facebook: FakeFacebook
let world: IngestWorld
let clock: number
let metrics: Metrics
let logged: string[]

/** Move the clock of the sweeper, the picture source, the plugins and the fake X alike. */
const advance = (ms: number) => {
  clock += ms
}

beforeEach(() => {
  clock = Date.now()
  x = startFakeX({ now: () => clock })
  gravatar = startFakeGravatar()
  facebook = startFakeFacebook({ now: () => clock })
  const env = { ...x.bearerEnv, ...gravatar.env, ...facebook.env }
  world = createIngestWorld(env, { now: () => clock, refreshTtlMs: TTL })
  metrics = new Metrics()
  logged = []
})

afterEach(() => {
  world.close()
  x.stop()
  gravatar.stop()
  facebook.stop()
})

function sweeperWith(options: Partial<SweeperOptions> = {}) {
  return createSweeper({
    repo: world.repo,
    registry: world.registry,
    pictures: world.pictures,
    refreshTtlMs: TTL,
    callsPerMinute: 60,
    metrics,
    now: () => clock,
    log: (line) => logged.push(line),
    ...options,
  })
}

/** Fetch a picture the way a first delivery would, so it is held. */
const hold = (type: string, id: string) => world.pictures.fetch(world.plugin(type), id)

/**
 * `count` X users with held pictures, stored the way a fetch stores them (change key = the reported
 * image URL), without one lookup each: more users than the fake's single-lookup window allows.
 * Stored in one transaction: set-up, not what is tested, so it must not eat a loaded machine's time.
 */
async function holdManyX(type: 'twitter' | 'twitter_name', count: number, firstId = 1_000): Promise<string[]> {
  const bytes = await makePicture('x-held', 16, 16)
  const contentHash = await world.blobs.put(bytes)
  const ids: string[] = []
  const held: Picture[] = []
  for (let i = 0; i < count; i++) {
    const id = String(firstId + i)
    const user = x.addUser({ id, username: `u${id}`, picture: { seed: 'x-held', ext: 'jpg', side: 16 } })
    const publicId = type === 'twitter' ? id : user.username.toLowerCase()
    const changeKey = x.profileImageUrl(id)
    held.push({
      type,
      publicId,
      version: Math.floor(clock / 1000),
      status: 'ok',
      upstreamUrl: changeKey.replace('_normal', ''),
      changeKey,
      etag: null,
      lastModified: null,
      contentHash,
      format: 'jpg',
      width: 16,
      height: 16,
      bytes: bytes.byteLength,
      faces: null,
      createdAt: clock,
      fetchedAt: clock,
      checkedAt: clock,
    })
    ids.push(publicId)
  }
  world.seed(held)
  return ids
}

/** `count` Gravatar users (one shared picture, so the fake encodes it once) with held pictures. */
async function holdGravatars(count: number, prefix = 'user'): Promise<string[]> {
  const hashes: string[] = []
  for (let i = 0; i < count; i++) {
    const { md5 } = gravatar.addEmail(`${prefix}${i}@example.com`, { seed: 'gravatar-held' })
    await hold('gravatar', md5)
    hashes.push(md5)
  }
  return hashes
}

async function holdFacebooks(count: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < count; i++) {
    const id = String(500 + i)
    facebook.addUser(id, { seed: 'facebook-held', side: 32 })
    await hold('facebook', id)
    ids.push(id)
  }
  return ids
}

const stored = async (type: string, id: string) => (await world.repo.getPicture(type, id))!
const metric = (name: string, type?: string) => metrics.value(name, type === undefined ? {} : { type })

/** Upstream requests per network, as the fakes saw them. */
function upstreamRequests() {
  return {
    twitter: x.requests.count('users/ids') + x.requests.count('pbs'),
    twitter_name: x.requests.count('users/usernames') + x.requests.count('pbs'),
    gravatar: gravatar.requests.count('avatar'),
    facebook: facebook.requests.count('picture') + facebook.requests.count('cdn'),
  }
}

describe('a sweep re-checks stale pictures nobody asks for', () => {
  test('a changed picture gets a new version and onChange; an unchanged X picture costs no download', async () => {
    const changing = x.addUser({ id: '12', username: 'changer', picture: { seed: 'before', ext: 'jpg', side: 32 } })
    x.addUser({ id: '13', username: 'steady', picture: { seed: 'steady', ext: 'jpg', side: 32 } })
    const { md5 } = gravatar.addEmail('mover@example.com', { seed: 'gravatar-before' })
    const before = {
      x12: await hold('twitter', '12'),
      x13: await hold('twitter', '13'),
      g: await hold('gravatar', md5),
    }
    changing.picture = { seed: 'after', ext: 'jpg', side: 32 }
    gravatar.users.get(md5)!.seed = 'gravatar-after'
    gravatar.users.get(md5)!.lastModified = new Date()
    advance(TTL + MINUTE)
    const downloads = x.requests.count('pbs')

    await sweeperWith().tick()

    expect(x.requests.count('users/ids')).toBe(1) // both X users in one lookup
    expect(x.requests.count('users/id')).toBe(2) // only the two first fetches
    expect(x.requests.count('pbs')).toBe(downloads + 1) // the changed picture only
    const x12 = await stored('twitter', '12')
    expect(x12.version).toBeGreaterThan(before.x12.version)
    expect(await isPictureOf((await world.blobs.get(x12.contentHash!))!, 'after')).toBe(true)
    expect(await stored('twitter', '13')).toEqual({ ...before.x13, checkedAt: clock })
    const g = await stored('gravatar', md5)
    expect(g.version).toBeGreaterThan(before.g.version)
    expect(world.changes.map(({ before, after }) => [before.publicId, before.version, after.version])).toEqual(
      expect.arrayContaining([
        ['12', before.x12.version, x12.version],
        [md5, before.g.version, g.version],
      ]),
    )
    expect(world.changes).toHaveLength(2)
    expect([metric('sweep_checked_total', 'twitter'), metric('sweep_changed_total', 'twitter')]).toEqual([2, 1])
    expect([metric('sweep_checked_total', 'gravatar'), metric('sweep_changed_total', 'gravatar')]).toEqual([1, 1])
  })

  test('pictures checked within the TTL, and pictures not held, are left alone', async () => {
    x.addUser({ id: '12', username: 'fresh' })
    await hold('twitter', '12')
    await hold('twitter', '99') // not_found: negative answers are refresh-on-access's business
    advance(TTL - MINUTE)
    const report = await sweeperWith().tick()
    expect(x.requests.count('users/ids')).toBe(0)
    expect(report.networks.find((network) => network.type === 'twitter')).toEqual({
      type: 'twitter',
      checked: 0,
      changed: 0,
      errors: 0,
      calls: 0,
      due: 0,
    })
  })

  test('a picture gone upstream stops being served', async () => {
    x.addUser({ id: '12', username: 'leaver' })
    await hold('twitter', '12')
    x.users.get('12')!.suspended = true
    advance(TTL + MINUTE)
    await sweeperWith().tick()
    expect(await stored('twitter', '12')).toMatchObject({ status: 'not_found', contentHash: null })
    expect(world.changes).toHaveLength(1)
  })
})

describe('X is swept in batches of 100', () => {
  test('250 stale X pictures: 3 lookups (100, 100, 50 ids), no downloads, all checked', async () => {
    const ids = await holdManyX('twitter', 250)
    advance(TTL + MINUTE)

    const report = await sweeperWith().tick()

    const lookups = x.requests.to('users/ids').map((request) => request.query.get('ids')!.split(','))
    expect(lookups.map((batch) => batch.length)).toEqual([100, 100, 50])
    expect(lookups.flat().sort()).toEqual([...ids].sort())
    expect(x.requests.count('pbs')).toBe(0)
    expect(await world.repo.listDueForRefresh('twitter', clock - TTL, 1_000)).toEqual([])
    const twitter = report.networks.find((network) => network.type === 'twitter')
    expect(twitter).toMatchObject({ checked: 250, calls: 3, due: 0 })
    expect(metric('sweep_upstream_calls_total', 'twitter')).toBe(3)
  })

  test('twitter_name: by usernames, 100 per call', async () => {
    await holdManyX('twitter_name', 150)
    advance(TTL + MINUTE)
    await sweeperWith().tick()
    const batches = x.requests.to('users/usernames').map((request) => request.query.get('usernames')!.split(','))
    expect(batches.map((batch) => batch.length)).toEqual([100, 50])
    expect(metric('sweep_checked_total', 'twitter_name')).toBe(150)
  })

  test('oldest checks first', async () => {
    const older = await holdManyX('twitter', 150, 1_000)
    advance(MINUTE)
    await holdManyX('twitter', 100, 5_000)
    advance(TTL + MINUTE)
    // A budget of 12 a minute holds two calls at once: two batches this round.
    await sweeperWith({ callsPerMinute: 12 }).tick()
    const asked = x.requests.to('users/ids').flatMap((request) => request.query.get('ids')!.split(','))
    expect(asked).toHaveLength(200)
    expect(asked.slice(0, 150).sort()).toEqual([...older].sort())
  })
})

describe('the call budget: at most callsPerMinute upstream calls per minute per network', () => {
  test('over three simulated minutes no 60-second window holds more than the budget; the budget is used', async () => {
    const budget = 12
    await holdManyX('twitter', 5_000)
    await holdGravatars(60)
    await holdFacebooks(30)
    advance(TTL + MINUTE)
    const sweeper = sweeperWith({ callsPerMinute: budget })

    const seen = [upstreamRequests()]
    for (let t = 0; t < 36; t++) {
      await sweeper.tick()
      seen.push(upstreamRequests())
      advance(TICK)
    }

    const minute = MINUTE / TICK
    for (const type of ['twitter', 'gravatar', 'facebook'] as const) {
      const perWindow = seen.slice(minute).map((now, i) => now[type] - seen[i]![type])
      const most = Math.max(...perWindow)
      expect({ type, most, atMostTheBudget: most <= budget }).toEqual({ type, most, atMostTheBudget: true })
      expect(most).toBeGreaterThanOrEqual(budget - 2) // and the budget is used
      // Honest accounting: what the sweeper says it spent is what the upstream saw.
      expect(metric('sweep_upstream_calls_total', type)).toBe(seen.at(-1)![type] - seen[0]![type])
    }
    // Gravatar costs one request per picture, Facebook two (Graph + CDN), X one per 100 pictures.
    expect(metric('sweep_checked_total', 'gravatar')).toBeWithin(3 * budget - 2, 3 * budget + 1)
    expect(metric('sweep_checked_total', 'facebook')).toBeWithin((3 * budget) / 2 - 2, (3 * budget) / 2 + 1)
    expect(metric('sweep_checked_total', 'twitter')).toBeWithin(100 * (3 * budget - 2), 100 * (3 * budget + 1))
    expect(x.requests.count('pbs')).toBe(0)
  }, 20_000) // 3,600 X re-checks (one write each) over 36 rounds: a few seconds on a loaded machine

  test("a round takes at most five seconds' worth of the budget: calls are spread over the minute", async () => {
    await holdGravatars(30)
    advance(TTL + MINUTE)
    const sweeper = sweeperWith({ callsPerMinute: 60 })
    const calls = () => metric('sweep_upstream_calls_total', 'gravatar')
    await sweeper.tick() // the first checks show what a Gravatar check costs (one request, not the two reserved)
    await sweeper.tick() // what they did not spend is spent now
    expect(calls()).toBe(6) // five seconds' worth (plus one), however it was split
    await sweeper.tick() // no time has passed: nothing left
    expect(calls()).toBe(6)
    for (const expected of [11, 16]) {
      advance(TICK)
      await sweeper.tick()
      expect(calls()).toBe(expected)
    }
    expect(gravatar.requests.count('avatar')).toBe(30 + calls())
  })
})

describe('a 429 storm', () => {
  test('X rate-limits the sweep: X is left alone until the reset, Gravatar goes on, X resumes after', async () => {
    const ids = await holdManyX('twitter', 600)
    await holdGravatars(40)
    advance(TTL + MINUTE)
    const servedBefore = await Promise.all(ids.map((id) => stored('twitter', id)))
    const resetAt = x.nowSeconds() + 120
    x.rateLimits['users/ids'].remaining = 2
    x.rateLimits['users/ids'].resetAt = resetAt
    const sweeper = sweeperWith({ callsPerMinute: 60 })

    await sweeper.tick()
    expect(x.requests.to('users/ids').map((request) => request.status)).toEqual([200, 200, 429])
    const twitter = () => sweeper.status().networks.find((network) => network.type === 'twitter')!
    expect(twitter()).toMatchObject({ checked: 200, errors: 1, pausedUntil: resetAt * 1000 })
    expect(metric('sweep_paused_until_seconds', 'twitter')).toBe(resetAt)
    expect(logged.join('\n')).toContain('twitter paused until')

    const gravatarBefore = gravatar.requests.count('avatar')
    while (clock + TICK < resetAt * 1000) {
      advance(TICK)
      await sweeper.tick()
    }
    expect(x.requests.count('users/ids')).toBe(3) // not one call while paused
    expect(gravatar.requests.count('avatar')).toBeGreaterThan(gravatarBefore + 30) // the other networks went on
    // Stored copies stay in service, untouched, and are still due for when X is back.
    const during = await Promise.all(ids.slice(200).map((id) => stored('twitter', id)))
    expect(during).toEqual(servedBefore.slice(200))
    for (const picture of during) expect(await world.blobs.has(picture.contentHash!)).toBe(true)

    advance(TICK)
    await sweeper.tick()
    expect(twitter().pausedUntil).toBeUndefined()
    expect(metric('sweep_paused_until_seconds', 'twitter')).toBe(0)
    expect(
      x.requests
        .to('users/ids')
        .slice(3)
        .map((request) => request.status),
    ).toEqual([200, 200, 200, 200])
    expect(await world.repo.listDueForRefresh('twitter', clock - TTL, 1_000)).toEqual([])
    expect(world.changes).toEqual([])
  })

  test('a 429 without a reset: paused for a minute, then two, doubling', async () => {
    await holdGravatars(10)
    advance(TTL + MINUTE)
    gravatar.modes.failure = 'rate_limited'
    const sweeper = sweeperWith()
    const gravatarStatus = () => sweeper.status().networks.find((network) => network.type === 'gravatar')!
    const pausedFor = () => gravatarStatus().pausedUntil! - clock

    await sweeper.tick()
    expect(pausedFor()).toBe(MINUTE)
    const calls = gravatar.requests.count('avatar')
    advance(MINUTE - 1)
    await sweeper.tick()
    expect(gravatar.requests.count('avatar')).toBe(calls)

    advance(1)
    await sweeper.tick()
    expect(pausedFor()).toBe(2 * MINUTE)

    gravatar.modes.failure = undefined
    advance(2 * MINUTE)
    await sweeper.tick()
    expect(gravatarStatus().pausedUntil).toBeUndefined()
    expect(metric('sweep_checked_total', 'gravatar')).toBeGreaterThan(0)
  })
})

describe('pauses recorded elsewhere (a delivery, another instance)', () => {
  test('a network paused in the shared pauses is not swept until the pause ends; the others are', async () => {
    await holdGravatars(5)
    await holdFacebooks(3)
    advance(TTL + MINUTE)
    const pauses = memoryPauses(() => clock)
    const resetAt = clock + 2 * MINUTE
    // As a delivery's fetch (or another instance) would record it.
    await pauses.record('gravatar', new UpstreamError('rate_limited', 'HTTP 429', resetAt))
    const sweeper = sweeperWith({ pauses })
    const before = upstreamRequests()
    await sweeper.tick()
    expect(upstreamRequests().gravatar).toBe(before.gravatar)
    expect(upstreamRequests().facebook).toBeGreaterThan(before.facebook)
    expect(sweeper.status().networks.find((network) => network.type === 'gravatar')!.pausedUntil).toBe(resetAt)

    advance(2 * MINUTE)
    await sweeper.tick()
    expect(upstreamRequests().gravatar).toBeGreaterThan(before.gravatar)
  })
})

describe('not leading', () => {
  test('an instance that does not hold the lease sweeps nothing, and stops at once when it loses it', async () => {
    await holdGravatars(10)
    advance(TTL + MINUTE)
    let leading = false
    const sweeper = sweeperWith({ leading: () => leading })
    expect(await sweeper.tick()).toEqual({ at: clock, networks: [] })
    expect(sweeper.status().leader).toBe(false)
    expect(gravatar.requests.count('avatar')).toBe(10) // the ten fetches of holdGravatars only

    leading = true
    expect(sweeper.status().leader).toBe(true)
    // The lease is lost once the round has begun, before its first check: no check starts.
    const round = sweeper.tick()
    leading = false
    await round
    expect(gravatar.requests.count('avatar')).toBe(10)
    expect(metric('sweep_checked_total', 'gravatar')).toBe(0)

    leading = true
    await sweeper.tick()
    expect(metric('sweep_checked_total', 'gravatar')).toBeGreaterThan(0)
  })
})

describe('other failures are counted and the sweep moves on', () => {
  test("an X outage: the batch's pictures are checked again after the retry delay, X is not paused", async () => {
    await holdManyX('twitter', 150)
    advance(TTL + MINUTE)
    x.modes.failure = 'server_error'
    const sweeper = sweeperWith()
    await sweeper.tick()
    expect(x.requests.count('users/ids')).toBe(2)
    expect(metric('sweep_errors_total', 'twitter')).toBe(2)
    expect(sweeper.status().networks.find((network) => network.type === 'twitter')!.pausedUntil).toBeUndefined()
    // Not due again on the next tick: no spinning on a failing upstream.
    x.modes.failure = undefined
    advance(TICK)
    await sweeper.tick()
    expect(x.requests.count('users/ids')).toBe(2)
    advance(5 * MINUTE)
    await sweeper.tick()
    expect(x.requests.count('users/ids')).toBe(4)
    expect(metric('sweep_checked_total', 'twitter')).toBe(150)
  })

  test('failing downloads (Facebook): counted, not retried next round, checked after the retry delay', async () => {
    await holdFacebooks(3)
    advance(TTL + MINUTE)
    facebook.modes.urlLifetimeSeconds = -1_000 // every CDN URL handed out has already expired: 403
    const sweeper = sweeperWith({ callsPerMinute: 600 })
    await sweeper.tick()
    expect(metric('sweep_errors_total', 'facebook')).toBe(3)
    expect(sweeper.status().networks.find((network) => network.type === 'facebook')!.pausedUntil).toBeUndefined()
    facebook.modes.urlLifetimeSeconds = 3_600
    const graph = facebook.requests.count('picture')
    advance(TICK)
    await sweeper.tick()
    expect(facebook.requests.count('picture')).toBe(graph)
    advance(5 * MINUTE)
    await sweeper.tick()
    expect(metric('sweep_checked_total', 'facebook')).toBe(3)
  })
})

describe('switching it off, starting and stopping', () => {
  test('callsPerMinute 0: a tick does nothing, start schedules nothing', async () => {
    await holdManyX('twitter', 5)
    await holdGravatars(2)
    advance(TTL + MINUTE)
    const before = upstreamRequests()
    const sweeper = sweeperWith({ callsPerMinute: 0, tickMs: 5 })
    expect(await sweeper.tick()).toEqual({ at: clock, networks: [] })
    sweeper.start()
    await Bun.sleep(50)
    await sweeper.stop()
    expect(upstreamRequests()).toEqual(before)
    expect(sweeper.status()).toMatchObject({ enabled: false, callsPerMinute: 0 })
  })

  test('started, it sweeps on its timer; stopped, it waits for the round under way and sweeps no more', async () => {
    await holdGravatars(3)
    advance(TTL + MINUTE)
    const sweeper = sweeperWith({ tickMs: 10 })
    sweeper.start()
    sweeper.start() // once is enough
    // The timer runs on real time: wait for what it does, however long a loaded machine takes.
    while (metric('sweep_checked_total', 'gravatar') < 3) await Bun.sleep(5)
    await sweeper.stop()
    expect(metric('sweep_checked_total', 'gravatar')).toBe(3)
    const lastTick = metric('sweep_last_tick_seconds')
    expect(lastTick).toBe(clock / 1000)
    advance(TTL + MINUTE)
    await Bun.sleep(50)
    expect(metric('sweep_last_tick_seconds')).toBe(lastTick)
    expect(gravatar.requests.count('avatar')).toBe(6)
  })

  test('a tick asked for while one runs is that same round', async () => {
    await holdGravatars(2)
    advance(TTL + MINUTE)
    const sweeper = sweeperWith()
    const [a, b] = [sweeper.tick(), sweeper.tick()]
    expect(a).toBe(b)
    await a
    expect(gravatar.requests.count('avatar')).toBe(4)
  })
})

describe('progress', () => {
  test('every series is there at zero before the first round', () => {
    sweeperWith()
    const text = metrics.render()
    const perNetwork = [
      'sweep_checked_total',
      'sweep_changed_total',
      'sweep_errors_total',
      'sweep_upstream_calls_total',
      'sweep_due',
      'sweep_paused_until_seconds',
    ]
    for (const type of ['facebook', 'twitter', 'twitter_name', 'gravatar']) {
      for (const name of perNetwork) expect(text).toContain(`headshot_${name}{type="${type}"} 0\n`)
    }
    expect(text).toContain('# TYPE headshot_sweep_due gauge\n')
    expect(text).toContain('headshot_sweep_last_tick_seconds 0\n')
  })

  test('status and gauges: the backlog per network, and when each last had a round', async () => {
    await holdManyX('twitter', 250)
    await holdGravatars(8)
    advance(TTL + MINUTE)
    // Two calls a round: 200 X pictures; one Gravatar check (two reserved until the cost is known).
    const sweeper = sweeperWith({ callsPerMinute: 12 })
    await sweeper.tick()
    const byType = Object.fromEntries(sweeper.status().networks.map((network) => [network.type, network]))
    const progress = { changed: 0, errors: 0, lastTickAt: clock }
    expect(byType.twitter).toEqual({ type: 'twitter', due: 50, checked: 200, calls: 2, ...progress })
    expect(byType.gravatar).toEqual({ type: 'gravatar', due: 7, checked: 1, calls: 1, ...progress })
    expect(metric('sweep_due', 'twitter')).toBe(50)
    expect(metric('sweep_due', 'gravatar')).toBe(7)
    expect(metric('sweep_last_tick_seconds')).toBe(clock / 1000)
  })
})

describe('status line', () => {
  const network = { type: 'twitter', due: 3, checked: 10, changed: 1, errors: 2, calls: 4 }
  test('sums the networks and names a paused one', () => {
    const line = describeSweeperStatus(
      {
        enabled: true,
        leader: true,
        callsPerMinute: 60,
        networks: [network, { ...network, type: 'gravatar', pausedUntil: 61_000 }],
      },
      1_000,
    )
    expect(line).toBe(
      '60 upstream calls/min per network · 6 due · 20 checked, 2 changed, 4 failed since start · gravatar paused for 60 s (rate limited)',
    )
  })
  test('says when it is off', () => {
    expect(describeSweeperStatus({ enabled: false, leader: false, callsPerMinute: 0, networks: [] })).toMatch(/^off/)
  })
})
