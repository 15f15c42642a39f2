/**
 * Flags that change only the response (a download name, a caching promise) or nothing at all do
 * not make a new image: `fl_attachment:<any name>` must not derive and store a copy per name.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { startHeadshot, type Headshot } from '../support/headshot.ts'

let gravatar: FakeGravatar
let headshot: Headshot
let hash: string

beforeAll(async () => {
  gravatar = startFakeGravatar()
  hash = gravatar.addEmail('flags@example.com').md5
  headshot = await startHeadshot(gravatar.env)
})
afterAll(async () => {
  await headshot.close()
  gravatar.stop()
})

test('fl_attachment names and no-op flags share the stored derivative; pixel flags do not', async () => {
  const derives = () => headshot.metric('derives_total')
  const first = await headshot.get(`/image/gravatar/c_fill,w_30,h_30/${hash}.jpg`)
  expect(first.status).toBe(200)
  const before = await derives()
  for (const name of ['one', 'two', 'three']) {
    const response = await headshot.get(`/image/gravatar/c_fill,fl_attachment:${name},h_30,w_30/${hash}.jpg`)
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${name}.jpg"`)
    expect(response.headers.get('etag')).toBe(first.headers.get('etag'))
  }
  await headshot.get(`/image/gravatar/c_fill,fl_strip_profile.immutable_cache,h_30,w_30/${hash}.jpg`)
  expect(await derives()).toBe(before)
  // fl_progressive changes the bytes: a derivative of its own.
  const progressive = await headshot.get(`/image/gravatar/c_fill,fl_progressive,h_30,w_30/${hash}.jpg`)
  expect(progressive.headers.get('etag')).not.toBe(first.headers.get('etag'))
  expect(await derives()).toBe(before + 1)
})
