/**
 * A worker whose WebAssembly memory grew past HEADSHOT_WORKER_RECYCLE_MB is replaced after its job,
 * end to end: the request is answered, /metrics counts the recycle, the next request is served.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { startHeadshot, type Headshot } from '../support/headshot.ts'

let gravatar: FakeGravatar
let workers: Headshot
beforeAll(async () => {
  gravatar = startFakeGravatar()
  workers = await startHeadshot(
    { ...gravatar.env, HEADSHOT_WORKERS: '1', HEADSHOT_WORKER_RECYCLE_MB: '64' },
    { inlineDerive: false, hotCacheTtlMs: 0 },
  )
})
afterAll(async () => {
  await workers?.close()
  gravatar?.stop()
})

test('a 2500² JPEG leaves mozjpeg holding over 100 MB: its worker is recycled, every request answered', async () => {
  const { md5 } = gravatar.addEmail('recycle@example.com')
  expect(await workers.metric('worker_recycles_total')).toBe(0)
  expect((await workers.get(`/image/gravatar/c_fill,h_40,w_40/${md5}.jpg`)).status).toBe(200)
  expect(await workers.metric('worker_recycles_total')).toBe(0)
  const atStart = await workers.metric('workers_wasm_bytes')
  expect(atStart).toBeGreaterThan(0)

  // Signed: a pad this much larger than the 80² picture is past the unsigned upscaling cap.
  const large = await workers.get(workers.sign(`/image/gravatar/c_pad,h_2500,w_2500/${md5}.jpg`))
  expect(large.status).toBe(200)
  expect(await workers.metric('worker_recycles_total')).toBe(1)

  const next = await workers.get(`/image/gravatar/c_fill,h_41,w_41/${md5}.jpg`)
  expect(next.status).toBe(200)
  expect(await workers.metric('worker_recycles_total')).toBe(1)
  // A fresh worker: back to the codecs' memory at start, under the threshold.
  expect(await workers.metric('workers_wasm_bytes')).toBeLessThan(64 * 1024 * 1024)
})
