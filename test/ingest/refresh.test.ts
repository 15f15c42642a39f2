/**
 * Refresh: a stored picture older than HEADSHOT_REFRESH_TTL is served as stored while it is
 * re-checked upstream in the background; a changed picture gets a new version.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startFakeFacebook, type FakeFacebook } from '../../plugins/facebook/fake.ts'
import { hasColourOf } from '../support/fakes/images.ts'
import { startFakeX, type FakeX } from '../../plugins/twitter/fake.ts'
import { join } from 'node:path'
import { openSqliteRepository } from '../../src/store/sqlite.ts'
import { startHeadshot, type Headshot } from '../support/headshot.ts'

const DAY = 86_400_000
let x: FakeX
let facebook: FakeFacebook
let headshot: Headshot
let clock = Date.now()

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await Bun.sleep(10)
  }
  throw new Error('condition not met in time')
}

async function get(path: string) {
  const response = await headshot.get(path)
  return {
    status: response.status,
    etag: response.headers.get('etag'),
    bytes: new Uint8Array(await response.arrayBuffer()),
  }
}

beforeAll(async () => {
  x = startFakeX()
  facebook = startFakeFacebook()
  headshot = await startHeadshot(
    { ...x.bearerEnv, ...facebook.env, HEADSHOT_RESTRICTED_TYPES: 'none', HEADSHOT_REFRESH_TTL: '7d' },
    { now: () => clock },
  )
})

afterAll(async () => {
  await headshot.close()
  x.stop()
  facebook.stop()
})

describe('refresh after the TTL', () => {
  test('a changed picture is served stale once, then as a new version; old derivatives are dropped', async () => {
    const user = x.addUser({ id: '101', username: 'changer', picture: { seed: 'before', ext: 'jpg', side: 64 } })
    const path = '/image/twitter/c_scale,w_32/101.png'
    const first = await get(path)
    expect(await hasColourOf(first.bytes, 'before')).toBe(true)

    clock += 6 * DAY
    const lookups = x.requests.count('users/id')
    expect((await get(path)).etag).toBe(first.etag)
    expect(x.requests.count('users/id')).toBe(lookups) // still fresh: no upstream call

    user.picture = { seed: 'after', ext: 'jpg', side: 64 }
    clock += 2 * DAY
    const stale = await get(path)
    expect(stale.etag).toBe(first.etag) // served as stored while it is re-checked
    await eventually(async () => (await headshot.metric('pictures_changed_total')) >= 1)

    const fresh = await get(path)
    expect(fresh.etag).not.toBe(first.etag)
    expect(await hasColourOf(fresh.bytes, 'after')).toBe(true)

    // Looked at from a second connection, as another instance would: one new version, the old
    // version's derivative and both of its blobs gone.
    const repo = openSqliteRepository(join(headshot.dataDir, 'headshot.db'))
    try {
      const picture = (await repo.getPicture('twitter', '101'))!
      expect(picture.version).toBeGreaterThan(Math.floor((clock - 8 * DAY) / 1000) - 1)
      expect(await repo.getDerivative('twitter', '101', picture.version, 'c_scale,w_32/png')).toBeDefined()
      const oldHashPrefix = first.etag!.slice(1, 33) // the strong ETag is the blob hash's first 32 hex
      const blobFiles = [...new Bun.Glob('**/*').scanSync(join(headshot.dataDir, 'blobs'))].map(
        (f) => f.split('/').pop()!,
      )
      expect(blobFiles.some((name) => name.startsWith(fresh.etag!.slice(1, 33)))).toBe(true)
      expect(blobFiles.some((name) => name.startsWith(oldHashPrefix))).toBe(false)
    } finally {
      repo.close()
    }
  })

  test('an unchanged X picture costs one API call and no download', async () => {
    x.addUser({ id: '102', username: 'steady', picture: { seed: 'steady', ext: 'jpg', side: 64 } })
    const path = '/image/twitter/102.jpg'
    const first = await get(path)
    clock += 8 * DAY
    const lookups = x.requests.count('users/id')
    const downloads = x.requests.count('pbs')
    expect((await get(path)).etag).toBe(first.etag)
    await eventually(() => x.requests.count('users/id') === lookups + 1)
    await Bun.sleep(20)
    expect(x.requests.count('pbs')).toBe(downloads)
    expect((await get(path)).etag).toBe(first.etag)
    expect(x.requests.count('users/id')).toBe(lookups + 1) // checked: fresh for another TTL
  })

  test('a picture whose bytes did not change keeps its version', async () => {
    facebook.addUser('103', { seed: 'same', side: 80 })
    const versioned = async () => {
      const response = await headshot.get('/v1_1/local/resources/image/facebook/103', {
        headers: { Authorization: `Basic ${Buffer.from(`123456:${headshot.config.apiSecret}`).toString('base64')}` },
      })
      return ((await response.json()) as { version: number }).version
    }
    await get('/image/facebook/103.jpg')
    const version = await versioned()
    clock += 8 * DAY
    const downloads = facebook.requests.count('cdn')
    await get('/image/facebook/103.jpg')
    await eventually(() => facebook.requests.count('cdn') === downloads + 1) // Facebook URLs expire: it must download
    await Bun.sleep(20)
    expect(await versioned()).toBe(version)
  })

  test('a picture removed upstream stops being served', async () => {
    const user = x.addUser({ id: '104', username: 'leaver', picture: { seed: 'leaver', ext: 'png', side: 48 } })
    const path = '/image/twitter/104.png'
    expect((await get(path)).status).toBe(200)
    user.picture = 'default'
    clock += 8 * DAY
    expect((await get(path)).status).toBe(200) // stale copy while re-checking
    await eventually(async () => (await get(path)).status === 404)
  })

  test('a failing upstream keeps the stored copy and is not asked again on every request', async () => {
    x.addUser({ id: '105', username: 'flaky', picture: { seed: 'flaky', ext: 'jpg', side: 48 } })
    const path = '/image/twitter/105.jpg'
    expect((await get(path)).status).toBe(200)
    x.modes.failure = 'server_error'
    try {
      clock += 8 * DAY
      const errors = await headshot.metric('refresh_errors_total')
      const lookups = x.requests.count('users/id')
      expect((await get(path)).status).toBe(200)
      await eventually(async () => (await headshot.metric('refresh_errors_total')) === errors + 1)
      await Bun.sleep(20)
      for (let i = 0; i < 3; i++) expect((await get(path)).status).toBe(200)
      expect(x.requests.count('users/id')).toBe(lookups + 1)

      clock += 6 * 60_000 // past the retry delay: asked again
      await get(path)
      await eventually(() => x.requests.count('users/id') === lookups + 2)
    } finally {
      x.modes.failure = undefined
    }
  })
})
