/**
 * A picture whose stored bytes vanished (deleted by hand, a lost disk, a delete racing a put of the
 * same bytes) is fetched again instead of answering 500.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { createApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { startHeadshot, type Headshot } from '../support/headshot.ts'

let gravatar: FakeGravatar
let headshot: Headshot
beforeAll(async () => {
  gravatar = startFakeGravatar()
  headshot = await startHeadshot(gravatar.env, { hotCacheTtlMs: 0 })
})
afterAll(async () => {
  await headshot.close()
  gravatar.stop()
})

function removeEveryBlob(): void {
  const root = join(headshot.dataDir, 'blobs')
  for (const a of readdirSync(root)) rmSync(join(root, a), { recursive: true, force: true })
}

test('a missing original is fetched again for a new size and for the original itself', async () => {
  const { md5 } = gravatar.addEmail('vanished@example.com')
  expect((await headshot.get(`/image/gravatar/${md5}.jpg`)).status).toBe(200)
  removeEveryBlob()
  // A second instance on the same data directory: its in-memory blob cache cannot hide the loss.
  const env = {
    ...gravatar.env,
    HEADSHOT_DATA_DIR: headshot.dataDir,
    HEADSHOT_API_KEY: '1',
    HEADSHOT_API_SECRET: 'x'.repeat(20),
  }
  const restarted = createApp(await loadConfig(env), { env, inlineDerive: true, sweep: false, hotCacheTtlMs: 0 })
  try {
    const get = (path: string) => restarted.handle(new Request(`http://localhost${path}`))
    const calls = gravatar.requests.count('avatar')
    expect((await get(`/image/gravatar/c_scale,w_17/${md5}.jpg`)).status).toBe(200)
    expect(gravatar.requests.count('avatar')).toBe(calls + 1)
    removeEveryBlob()
    const fresh = createApp(await loadConfig(env), { env, inlineDerive: true, sweep: false, hotCacheTtlMs: 0 })
    try {
      const original = await fresh.handle(new Request(`http://localhost/image/gravatar/${md5}.jpg`))
      expect(original.status).toBe(200)
      expect(gravatar.requests.count('avatar')).toBe(calls + 2)
    } finally {
      await fresh.close()
    }
  } finally {
    await restarted.close()
  }
})

test('remembered "no picture" answers are forgotten after the negative TTL', async () => {
  let clock = Date.now()
  const instance = await startHeadshot({ ...gravatar.env, HEADSHOT_NEGATIVE_TTL: '1h' }, { now: () => clock })
  try {
    for (let i = 0; i < 5; i++) {
      expect((await instance.get(`/image/gravatar/${String(i).repeat(32)}.jpg`)).status).toBe(404)
    }
    expect(await instance.app.forgetExpiredAbsent()).toBe(0) // still within the TTL
    clock += 2 * 3_600_000
    expect(await instance.app.forgetExpiredAbsent()).toBe(5)
    expect(await instance.metric('absent_forgotten_total')).toBe(5)
  } finally {
    await instance.close()
  }
})
