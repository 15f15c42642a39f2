/**
 * HEADSHOT_SIGN_TYPE: a signature made for one network cannot be replayed on another. Off by
 * default, as on Cloudinary, whose SDKs do not sign the type.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startFakeFacebook, type FakeFacebook } from '../../plugins/facebook/fake.ts'
import { startFakeX, type FakeX } from '../../plugins/twitter/fake.ts'
import { signDeliveryPath } from '../../src/url/signature.ts'
import { startHeadshot, TEST_SECRET, type Headshot } from '../support/headshot.ts'

let facebook: FakeFacebook
let x: FakeX
beforeAll(() => {
  facebook = startFakeFacebook()
  facebook.addUser('4', { seed: 'zuck', side: 200 })
  x = startFakeX()
  x.addUser({ id: '4', username: 'four', picture: { seed: 'x4', ext: 'png', side: 100 } })
})
afterAll(() => {
  facebook.stop()
  x.stop()
})

const sign = (path: string, bindType: boolean) => {
  const signed = signDeliveryPath(path, TEST_SECRET, { bindType })
  if (!signed.ok) throw new Error(signed.error.message)
  return signed.value
}
const signature = (path: string) => /s--[^/]+--/.exec(path)![0]

describe('with HEADSHOT_SIGN_TYPE=true', () => {
  let headshot: Headshot
  beforeAll(async () => {
    headshot = await startHeadshot({ ...facebook.env, ...x.bearerEnv, HEADSHOT_SIGN_TYPE: 'true' })
  })
  afterAll(() => headshot.close())

  test('a type-bound signature serves its own network, and replayed on another network it is refused', async () => {
    const path = sign('/image/facebook/c_fill,w_40,h_40/4.jpg', true)
    expect((await headshot.get(path)).status).toBe(200)
    const xCalls = x.requests.count()
    const replayed = await headshot.get(`/image/twitter/${signature(path)}/c_fill,w_40,h_40/4.jpg`)
    expect(replayed.status).toBe(401)
    expect(x.requests.count()).toBe(xCalls) // the X quota is not spent
  })

  test('a signature made without the type (what the SDKs make) is refused', async () => {
    expect((await headshot.get(sign('/image/facebook/c_fill,w_41,h_41/4.jpg', false))).status).toBe(401)
  })
})

describe('by default (as on Cloudinary)', () => {
  test('the SDK signature covers the transformation and id, not the type', async () => {
    const headshot = await startHeadshot({ ...facebook.env, ...x.bearerEnv })
    try {
      const path = sign('/image/facebook/c_fill,w_42,h_42/4.jpg', false)
      expect((await headshot.get(path)).status).toBe(200)
      expect((await headshot.get(`/image/twitter/${signature(path)}/c_fill,w_42,h_42/4.jpg`)).status).toBe(200)
    } finally {
      await headshot.close()
    }
  })
})
