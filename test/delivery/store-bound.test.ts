/**
 * HEADSHOT_MAX_STORE_BYTES seen from delivery: the derived images served least recently (by warm
 * hits, not by when they were made) are the ones that go; an evicted one is simply made again on
 * its next request; /metrics shows the store's size and the evictions.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { createApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { startHeadshot } from '../support/headshot.ts'

let gravatar: FakeGravatar
beforeAll(() => {
  gravatar = startFakeGravatar()
})
afterAll(() => gravatar.stop())

test('the least recently served derived images go first; the next request makes one again', async () => {
  const { md5 } = gravatar.addEmail('bounded@example.com', { format: 'jpg' })
  const MINUTE = 60_000
  let clock = Date.now()
  // Full-size PNGs of different colours, so that two of them are more than a tenth of the store
  // (eviction stops at 90 %) and no two share bytes.
  const chains = ['e_grayscale', 'e_negate', 'e_sepia', 'e_brightness:30']
  const path = (chain: string) => `/image/gravatar/${chain}/${md5}.png`

  // An unbounded instance makes four derived images, a minute apart, then serves the first two again.
  const first = await startHeadshot(gravatar.env, { now: () => clock, hotCacheTtlMs: 0 })
  const dataDir = first.dataDir
  for (const chain of chains) {
    clock += MINUTE
    expect((await first.get(path(chain))).status).toBe(200)
  }
  clock += MINUTE
  for (const chain of ['e_grayscale', 'e_negate']) expect((await first.get(path(chain))).status).toBe(200) // warm hits
  const stored = (await first.app.manage.get('gravatar', md5))!
  const bytes = new Map((await first.app.manage.derivatives(stored)).map((d) => [d.key, d.bytes]))
  await first.app.store.quota.idle() // the gauge follows writes in the background
  const total = await first.metric('store_bytes')
  expect(total).toBe((stored.bytes ?? 0) + [...bytes.values()].reduce((a, b) => a + b, 0))
  await first.app.close() // writes the served log

  // The same data directory, bounded so that exactly two derived images must go.
  // By effect name: the stored key is the canonical text (`e_sepia` is kept as `e_sepia:80`).
  const size = (chain: string) => [...bytes].find(([key]) => key.startsWith(chain.split(':')[0]!))![1]
  const bound = Math.ceil((total - size('e_sepia') - size('e_brightness:30')) / 0.9)
  expect(bound).toBeLessThan(total)
  expect(Math.floor(bound * 0.9)).toBeLessThan(total - size('e_sepia')) // one image would not be enough
  clock += 10 * MINUTE
  const env = {
    ...gravatar.env,
    HEADSHOT_DATA_DIR: dataDir,
    HEADSHOT_API_KEY: '1',
    HEADSHOT_API_SECRET: 'x'.repeat(20),
    HEADSHOT_MAX_STORE_BYTES: String(bound),
  }
  const bounded = createApp(await loadConfig(env), {
    env,
    inlineDerive: true,
    sweep: false,
    hotCacheTtlMs: 0,
    now: () => clock,
  })
  try {
    // The bound is enforced at start; a check queued after it finds the store under the bound.
    const report = await bounded.store.quota.enforce()
    expect(report).toMatchObject({ derivatives: 0, originals: 0, stillOver: false })
    expect(report.after.bytes).toBe(total - size('e_sepia') - size('e_brightness:30'))
    const left = (await bounded.manage.derivatives(stored)).map((d) => d.key).sort()
    expect(left.map((key) => key.split(/[:/]/)[0])).toEqual(['e_grayscale', 'e_negate']) // made first, served since
    const metrics = await (await bounded.handle(new Request('http://localhost/metrics'))).text()
    expect(metrics).toContain(`headshot_store_bytes ${total - size('e_sepia') - size('e_brightness:30')}`)
    expect(metrics).toContain('headshot_store_evictions_total{kind="derivative"} 2')

    const response = await bounded.handle(new Request(`http://localhost${path('e_sepia')}`))
    expect(response.status).toBe(200)
    expect((await response.arrayBuffer()).byteLength).toBe(size('e_sepia'))
    expect(await bounded.handle(new Request('http://localhost/metrics')).then((r) => r.text())).toContain(
      'headshot_derives_total 1',
    )
  } finally {
    await bounded.close()
    await first.close().catch(() => {}) // removes the data directory
  }
}, 30_000)

test('pictures are forgotten least recently served first (a delivery of the original counts), and fetched again on request', async () => {
  const a = gravatar.addEmail('often@example.com', { seed: 'often', format: 'jpg' }).md5
  const b = gravatar.addEmail('once@example.com', { seed: 'once', format: 'jpg' }).md5
  let clock = Date.now()
  const first = await startHeadshot(gravatar.env, { now: () => clock, hotCacheTtlMs: 0 })
  for (const md5 of [a, b, a]) {
    clock += 60_000
    expect((await first.get(`/image/gravatar/${md5}.jpg`)).status).toBe(200) // a: fetched first, served last
  }
  await first.app.store.quota.idle()
  const total = await first.metric('store_bytes')
  const sizeOf = async (md5: string) => (await first.app.manage.get('gravatar', md5))!.bytes!
  const [sizeA, sizeB] = [await sizeOf(a), await sizeOf(b)]
  expect(total).toBe(sizeA + sizeB)
  await first.app.close()

  clock += 10 * 60_000
  const env = {
    ...gravatar.env,
    HEADSHOT_DATA_DIR: first.dataDir,
    HEADSHOT_API_KEY: '1',
    HEADSHOT_API_SECRET: 'x'.repeat(20),
    HEADSHOT_MAX_STORE_BYTES: String(total - 1), // one of the two must go
  }
  const options = { env, inlineDerive: true, sweep: false, hotCacheTtlMs: 0, now: () => clock }
  const bounded = createApp(await loadConfig(env), options)
  try {
    const report = await bounded.store.quota.enforce()
    expect(report.after.bytes).toBe(sizeA)
    expect(await bounded.manage.get('gravatar', a)).toBeDefined()
    expect(await bounded.manage.get('gravatar', b)).toBeUndefined()
    const metrics = await (await bounded.handle(new Request('http://localhost/metrics'))).text()
    expect(metrics).toContain('headshot_store_evictions_total{kind="original"} 1')

    const downloads = gravatar.requests.count('avatar')
    const again = await bounded.handle(new Request(`http://localhost/image/gravatar/${b}.jpg`))
    expect(again.status).toBe(200)
    expect((await again.arrayBuffer()).byteLength).toBe(sizeB)
    expect(gravatar.requests.count('avatar')).toBe(downloads + 1)
  } finally {
    await bounded.close()
    await first.close().catch(() => {})
  }
}, 30_000)
