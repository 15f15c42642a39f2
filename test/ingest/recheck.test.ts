/**
 * pictures.recheck: the background sweep's way to re-check one held picture, often with the
 * resolution a batch lookup already gave (so the plugin is not asked again).
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { UpstreamError, type Resolution } from '../../src/plugin-host/types.ts'
import { isPictureOf } from '../support/fakes/images.ts'
import { startFakeX, type FakeX } from '../../plugins/twitter/fake.ts'
import { createIngestWorld, type IngestWorld } from '../support/ingest.ts'

const DAY = 86_400_000
const TTL = 7 * DAY
const RETRY_DELAY = 5 * 60_000
let x: FakeX
let world: IngestWorld
let clock: number

beforeEach(() => {
  x = startFakeX()
  clock = Date.now()
  world = createIngestWorld(x.bearerEnv, { now: () => clock, refreshTtlMs: TTL, retryDelayMs: RETRY_DELAY })
})
afterEach(() => {
  world.close()
  x.stop()
})

/** A held, stale X picture of user `id` (fetched a TTL and a day ago). */
async function staleX(id: string, seed = `seed-${id}`) {
  const user = x.addUser({ id, username: `user${id}`, picture: { seed, ext: 'jpg', side: 64 } })
  const picture = await world.pictures.fetch(world.plugin('twitter'), id)
  clock += TTL + DAY
  return { user, picture }
}

/** What X's batch lookup says about one user now. */
async function batchAnswer(id: string): Promise<Resolution> {
  const answer = (await world.plugin('twitter').resolveMany!.run([id])).get(id)!
  if (answer instanceof UpstreamError) throw answer
  return answer
}

const lookups = () => x.requests.count('users/id') + x.requests.count('users/ids')

describe('recheck with a resolution already known', () => {
  test('an unchanged X picture: no lookup, no download, checked now, same version', async () => {
    const { picture } = await staleX('12')
    const answer = await batchAnswer('12')
    const before = { lookups: lookups(), downloads: x.requests.count('pbs') }

    const after = await world.pictures.recheck(world.plugin('twitter'), picture, answer)

    expect({ lookups: lookups(), downloads: x.requests.count('pbs') }).toEqual(before)
    expect(after).toEqual({ ...picture, checkedAt: clock })
    expect(await world.repo.getPicture('twitter', '12')).toEqual(after)
    expect(world.changes).toEqual([])
  })

  test('a new upload: downloaded once, a new version, onChange told, the old blob gone', async () => {
    const { user, picture } = await staleX('12', 'before')
    user.picture = { seed: 'after', ext: 'jpg', side: 64 }
    const answer = await batchAnswer('12')
    const before = { lookups: lookups(), downloads: x.requests.count('pbs') }

    const after = await world.pictures.recheck(world.plugin('twitter'), picture, answer)

    expect(lookups()).toBe(before.lookups)
    expect(x.requests.count('pbs')).toBe(before.downloads + 1)
    expect(after.version).toBeGreaterThan(picture.version)
    expect(after.contentHash).not.toBe(picture.contentHash)
    expect(await isPictureOf((await world.blobs.get(after.contentHash!))!, 'after')).toBe(true)
    expect(await world.blobs.has(picture.contentHash!)).toBe(false)
    expect(world.changes).toEqual([{ before: picture, after }])
  })

  test('gone upstream: not_found, no longer served, onChange told', async () => {
    const { picture } = await staleX('12')
    const after = await world.pictures.recheck(world.plugin('twitter'), picture, { kind: 'not_found' })
    expect(after).toMatchObject({ status: 'not_found', contentHash: null, checkedAt: clock })
    expect(world.changes).toEqual([{ before: picture, after }])
    expect(await world.blobs.has(picture.contentHash!)).toBe(false)
  })
})

describe('recheck without a resolution', () => {
  test('asks the plugin itself, like fetch', async () => {
    const { picture } = await staleX('12')
    const before = x.requests.count('users/id')
    expect(await world.pictures.recheck(world.plugin('twitter'), picture)).toEqual({ ...picture, checkedAt: clock })
    expect(x.requests.count('users/id')).toBe(before + 1)
  })

  test('two rechecks of one picture at once share one upstream check', async () => {
    const { user, picture } = await staleX('12')
    user.picture = { seed: 'new', ext: 'jpg', side: 64 }
    const before = { lookups: lookups(), downloads: x.requests.count('pbs') }
    const [a, b] = await Promise.all([
      world.pictures.recheck(world.plugin('twitter'), picture),
      world.pictures.recheck(world.plugin('twitter'), picture),
    ])
    expect(a).toEqual(b)
    expect({ lookups: lookups(), downloads: x.requests.count('pbs') }).toEqual({
      lookups: before.lookups + 1,
      downloads: before.downloads + 1,
    })
  })
})

describe('recheck failures keep the stored copy and push the next check back', () => {
  test('an outage: rethrown; the picture stays held and is due again after the retry delay', async () => {
    const { picture } = await staleX('12')
    x.modes.failure = 'server_error'
    const error = await world.pictures.recheck(world.plugin('twitter'), picture).catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'UpstreamError', code: 'unavailable' })
    const stored = (await world.repo.getPicture('twitter', '12'))!
    expect(stored).toEqual({ ...picture, checkedAt: clock + RETRY_DELAY - TTL })
    expect(await world.repo.listDueForRefresh('twitter', clock - TTL, 10)).toEqual([])
    expect(await world.repo.listDueForRefresh('twitter', clock + RETRY_DELAY + 1 - TTL, 10)).toHaveLength(1)
  })

  test('a rate limit: due again when the upstream said we may', async () => {
    const { picture } = await staleX('12')
    const resetAt = Math.floor(clock / 1000) + 120
    x.rateLimits['users/id'].remaining = 0
    x.rateLimits['users/id'].resetAt = resetAt
    const limited = world.pictures.recheck(world.plugin('twitter'), picture)
    await expect(limited).rejects.toMatchObject({ code: 'rate_limited' })
    expect((await world.repo.getPicture('twitter', '12'))!.checkedAt).toBe(resetAt * 1000 - TTL)
  })

  test('postpone alone does the same for a failure found elsewhere (e.g. a failed batch call)', async () => {
    const { picture } = await staleX('12')
    await world.pictures.postpone(picture, new UpstreamError('rate_limited', 'slow down', clock + 60_000))
    expect((await world.repo.getPicture('twitter', '12'))!.checkedAt).toBe(clock + 60_000 - TTL)
  })
})

describe('recheck leaves alone what changed since it was listed', () => {
  test('a picture deleted meanwhile is not brought back, and upstream is not asked', async () => {
    const { picture } = await staleX('12')
    await world.repo.deletePicture('twitter', '12')
    const before = lookups()
    await world.pictures.recheck(world.plugin('twitter'), picture)
    expect(await world.repo.getPicture('twitter', '12')).toBeUndefined()
    expect(lookups()).toBe(before)
  })

  test('a picture re-checked meanwhile (e.g. by a delivery) is not checked twice', async () => {
    const { picture } = await staleX('12')
    const checked = await world.pictures.recheck(world.plugin('twitter'), picture)
    const before = lookups()
    expect(await world.pictures.recheck(world.plugin('twitter'), picture)).toEqual(checked)
    expect(lookups()).toBe(before)
  })
})
