/**
 * The sweeper as the app runs it: a picture nobody requests changes upstream, a sweep round picks
 * it up, and the CDN purge hook hears about it with the picture's tag. Status shows in /metrics.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { isPictureOf } from '../support/fakes/images.ts'
import { startHeadshot, TEST_SECRET, type Headshot } from '../support/headshot.ts'

let gravatar: FakeGravatar
let headshot: Headshot
let receiver: ReturnType<typeof Bun.serve>
const purges: Array<Record<string, unknown>> = []
/** Resolves when the receiver has the first purge (the hook sends it in the background). */
const firstPurge = Promise.withResolvers<void>()
let clock = Date.now()

beforeAll(async () => {
  gravatar = startFakeGravatar()
  receiver = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      purges.push((await request.json()) as Record<string, unknown>)
      firstPurge.resolve()
      return new Response(null, { status: 200 })
    },
  })
  headshot = await startHeadshot(
    { ...gravatar.env, HEADSHOT_PURGE_URL: `http://127.0.0.1:${receiver.port}/`, HEADSHOT_SWEEP_RATE: '600' },
    { now: () => clock },
  )
})

afterAll(async () => {
  await headshot.close()
  receiver.stop(true)
  gravatar.stop()
})

test('a change nobody asked for is found by a sweep round, stored as a new version and purged by tag', async () => {
  const { md5 } = gravatar.addEmail('quiet@example.com')
  const first = await headshot.get(`/image/gravatar/${md5}.jpg`)
  expect(first.status).toBe(200)
  const auth = { Authorization: `Basic ${Buffer.from(`123456:${TEST_SECRET}`).toString('base64')}` }
  const version = async () =>
    (
      (await (await headshot.get(`/v1_1/local/resources/image/gravatar/${md5}`, { headers: auth })).json()) as {
        version: number
      }
    ).version
  const before = await version()

  // Not due yet: a round asks nothing.
  const calls = gravatar.requests.count('avatar')
  await headshot.app.sweeper.tick()
  expect(gravatar.requests.count('avatar')).toBe(calls)

  gravatar.users.get(md5)!.seed = 'quiet-new'
  gravatar.users.get(md5)!.lastModified = new Date()
  clock += 8 * 86_400_000
  await headshot.app.sweeper.tick()
  expect(gravatar.requests.count('avatar')).toBe(calls + 1)
  expect(await version()).toBeGreaterThan(before)
  const now = await headshot.get(`/image/gravatar/${md5}.jpg`)
  // Byte for byte the new upstream picture: no decoding of a 2048×2048 JPEG (half a second of CPU).
  expect(await isPictureOf(new Uint8Array(await now.arrayBuffer()), 'quiet-new')).toBe(true)

  // Sent in the background, on real time: wait for it, however long a loaded machine takes.
  await firstPurge.promise
  expect(purges).toEqual([expect.objectContaining({ tags: [`headshot:gravatar/${md5}`], reason: 'changed' })])
  expect(await headshot.metric('sweep_changed_total')).toBe(1)
  // The sender counts the outcome once the receiver's answer is in.
  while ((await headshot.metric('purge_requests_total')) === 0) await Bun.sleep(5)
  expect(await headshot.metric('purge_requests_total')).toBe(1)
})

test("the Media Library's sweeper line judges a pause by the app's clock, not real time", async () => {
  const { md5 } = gravatar.addEmail('paused@example.com')
  expect((await headshot.get(`/image/gravatar/${md5}.jpg`)).status).toBe(200)
  clock += 8 * 86_400_000 // due again, and days away from real time
  gravatar.modes.failure = 'rate_limited'
  try {
    await headshot.app.sweeper.tick() // 429 without a reset: Gravatar left alone for a minute
  } finally {
    gravatar.modes.failure = undefined
  }
  const signIn = await headshot.app.handle(
    new Request('http://localhost/console/sign-in', {
      method: 'POST',
      body: new URLSearchParams({ api_key: headshot.config.apiKey, api_secret: TEST_SECRET }),
    }),
  )
  const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!
  const status = (await (await headshot.get('/console/api/status', { headers: { cookie } })).json()) as {
    sweeper: string
  }
  expect(status.sweeper).toContain('gravatar paused for 60 s (rate limited)')
})
