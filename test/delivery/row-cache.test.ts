/**
 * Warm hits read picture and derivative rows from memory (src/store/row-cache.ts): a picture that
 * changes, is invalidated or deleted must never be answered from a remembered row. Three users
 * share one picture (one blob), so a stale row would still find bytes to serve.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { startHeadshot, type Headshot } from '../support/headshot.ts'

let gravatar: FakeGravatar
let headshot: Headshot
beforeAll(async () => {
  gravatar = startFakeGravatar()
  // No hot responses: every request below goes through the row lookups.
  headshot = await startHeadshot(gravatar.env, { hotCacheTtlMs: 0 })
})
afterAll(async () => {
  await headshot.close()
  gravatar.stop()
})

const shared = () => ({ seed: 'shared-seed', format: 'jpg' as const, lastModified: new Date('2024-01-01T00:00:00Z') })
let spelling = 1
/** Another `v<N>` each time: no answer of an earlier URL can be reused. */
const get = (md5: string, chain = '') => headshot.get(`/image/gravatar/${chain}v${spelling++}/${md5}.jpg`)
const etag = async (md5: string, chain = '') => {
  const response = await get(md5, chain)
  expect(response.status).toBe(200)
  return response.headers.get('etag')
}

test('a picture changed upstream (refresh) is served at once in its new version, never the remembered one', async () => {
  const a = gravatar.addEmail('row-a@example.com', shared())
  const b = gravatar.addEmail('row-b@example.com', shared())
  const old = await etag(a.md5)
  expect(await etag(b.md5)).toBe(old) // one blob for both
  expect(await etag(a.md5)).toBe(old) // a warm hit (rows from memory)
  const user = gravatar.users.get(a.md5)!
  user.seed = 'row-a-new'
  user.lastModified = new Date('2024-06-01T00:00:00Z')
  expect((await headshot.app.manage.refresh('gravatar', a.md5)).changed).toBe(true)
  const fresh = await etag(a.md5)
  expect(fresh).not.toBe(old)
  expect(await etag(a.md5)).toBe(fresh)
  expect(await etag(b.md5)).toBe(old)
})

test('a deleted picture is asked of the network again, not served from its remembered row', async () => {
  const c = gravatar.addEmail('row-c@example.com', shared())
  const d = gravatar.addEmail('row-d@example.com', shared())
  await etag(c.md5)
  await etag(d.md5)
  await etag(c.md5)
  gravatar.users.delete(c.md5) // gone upstream too
  expect(await headshot.app.manage.delete('gravatar', [c.md5])).toEqual({ [c.md5]: 'deleted' })
  const response = await get(c.md5)
  await response.arrayBuffer()
  expect(response.status).not.toBe(200) // the blob is still there (d's), but the picture is not
  expect(await etag(d.md5)).toBeTruthy()
})

test('invalidated derived images (Admin API) are made again, not served from remembered rows', async () => {
  const e = gravatar.addEmail('row-e@example.com', shared())
  const f = gravatar.addEmail('row-f@example.com', shared())
  const chain = 'e_grayscale/'
  await etag(e.md5, chain)
  await etag(f.md5, chain) // the same bytes: one blob for both derived images
  const derives = await headshot.metric('derives_total')
  await etag(e.md5, chain) // warm: rows from memory
  expect(await headshot.metric('derives_total')).toBe(derives)
  expect(await headshot.app.manage.invalidate('gravatar', e.md5)).toBe(1)
  await etag(e.md5, chain)
  expect(await headshot.metric('derives_total')).toBe(derives + 1)
  await etag(f.md5, chain)
  expect(await headshot.metric('derives_total')).toBe(derives + 1)
})
