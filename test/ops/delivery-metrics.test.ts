/**
 * What /metrics says about deliveries, upstream calls and derivations after real traffic: each
 * answer lands in exactly one outcome class of the duration histogram, the cache counters add up
 * to the successful answers, every request to a network is counted and timed under that network.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { currentTrace, noteTrace, type RequestTrace, runTraced } from '../../src/lib/request-trace.ts'
import { cacheResultOf, deliveryOutcome } from '../../src/ops/delivery-outcome.ts'
import { FetchError } from '../../src/fetch/types.ts'
import { measuredHttpClient, upstreamOutcome } from '../../src/ops/upstream-metrics.ts'
import type { HttpClient } from '../../src/fetch/types.ts'
import { startHeadshot, type Headshot } from '../support/headshot.ts'
import { type Family, parseExposition, sampleValue } from '../support/prometheus.ts'

let headshot: Headshot
let gravatar: FakeGravatar

beforeAll(async () => {
  gravatar = startFakeGravatar()
  headshot = await startHeadshot({ ...gravatar.env })
})

afterAll(async () => {
  await headshot.close()
  gravatar.stop()
})

async function scrape(): Promise<Map<string, Family>> {
  return parseExposition(await (await headshot.get('/metrics')).text())
}

const outcomes = ['hot', 'stored', 'derived', 'fetched', 'error'] as const

function counts(families: Map<string, Family>) {
  const value = (name: string, labels: Record<string, string> = {}) => sampleValue(families, name, labels) ?? Number.NaN
  return {
    outcomes: Object.fromEntries(
      outcomes.map((outcome) => [outcome, value('headshot_delivery_duration_seconds_count', { outcome })]),
    ),
    cache: Object.fromEntries(
      ['hot', 'stored', 'miss'].map((result) => [result, value('headshot_delivery_cache_total', { result })]),
    ),
    upstream: (outcome: string) => value('headshot_upstream_requests_total', { network: 'gravatar', outcome }),
    upstreamTimed: value('headshot_upstream_request_duration_seconds_count', { network: 'gravatar' }),
    derives: value('headshot_derives_total'),
    derivesTimed: value('headshot_derive_duration_seconds_count'),
  }
}

describe('delivery outcomes', () => {
  test('fetched, hot, derived, stored and error answers, each counted once, in the cache counters too', async () => {
    const hash = gravatar.addEmail('outcomes@example.com').md5
    const before = counts(await scrape())
    const expectStatus = async (path: string, status: number, headers: Record<string, string> = {}) => {
      const response = await headshot.get(path, { headers })
      await response.arrayBuffer()
      expect({ path, status: response.status }).toEqual({ path, status })
    }
    await expectStatus(`/image/gravatar/c_scale,w_40/${hash}.jpg`, 200) // fetched (and derived)
    // Asked for again, the URL is kept in the hot cache (a URL seen once is not): then hot.
    await expectStatus(`/image/gravatar/c_scale,w_40/${hash}.jpg`, 200) // stored
    await expectStatus(`/image/gravatar/c_scale,w_40/${hash}.jpg`, 200) // hot
    await expectStatus(`/image/gravatar/c_scale,w_50/${hash}.jpg`, 200) // derived
    // Another Accept is another hot-cache key: this one is answered from the stored derived image.
    await expectStatus(`/image/gravatar/c_scale,w_50/${hash}.jpg`, 200, { accept: 'image/webp' }) // stored
    await expectStatus(`/image/gravatar/${hash}.jpg`, 200) // stored (the original)
    await expectStatus(`/image/gravatar/c_nonsense/${hash}.jpg`, 400) // error
    await expectStatus(`/image/gravatar/${'0'.repeat(32)}.jpg`, 404) // error: no picture upstream

    const after = counts(await scrape())
    const delta = (pick: (c: typeof before) => Record<string, number>) =>
      Object.fromEntries(Object.entries(pick(after)).map(([key, value]) => [key, value - pick(before)[key]!]))
    expect(delta((c) => c.outcomes)).toEqual({ hot: 1, stored: 3, derived: 1, fetched: 1, error: 2 })
    expect(delta((c) => c.cache)).toEqual({ hot: 1, stored: 3, miss: 2 })
    // Two pictures asked of Gravatar: one found, one without an avatar; each request timed.
    expect(after.upstream('ok') - before.upstream('ok')).toBe(1)
    expect(after.upstream('not_found') - before.upstream('not_found')).toBe(1)
    expect(after.upstreamTimed - before.upstreamTimed).toBe(2)
    // Every derivation is timed.
    expect(after.derives - before.derives).toBe(2)
    expect(after.derivesTimed).toBe(after.derives)
  })

  test('requests that waited for the same fetch are all misses: they waited for the network too', async () => {
    const hash = gravatar.addEmail('together@example.com').md5
    const before = counts(await scrape())
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => headshot.get(`/image/gravatar/c_scale,w_30/${hash}.jpg`)),
    )
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200])
    const after = counts(await scrape())
    expect(after.upstream('ok') - before.upstream('ok')).toBe(1) // one fetch for all of them
    expect(after.outcomes.fetched! - before.outcomes.fetched!).toBe(4)
    expect(after.cache.miss! - before.cache.miss!).toBe(4)
  })

  test('upstream failures are counted by class and still timed', async () => {
    const before = counts(await scrape())
    gravatar.modes.failure = 'server_error'
    try {
      const hash = gravatar.addEmail('down@example.com').md5
      expect((await headshot.get(`/image/gravatar/${hash}.jpg`)).status).toBe(502)
    } finally {
      gravatar.modes.failure = undefined
    }
    const after = counts(await scrape())
    expect(after.upstream('server_error') - before.upstream('server_error')).toBe(1)
    expect(after.upstreamTimed - before.upstreamTimed).toBe(1)
    expect(after.outcomes.error! - before.outcomes.error!).toBe(1)
  })

  test('the durations land in buckets that match what was measured', async () => {
    const families = await scrape()
    const fetched = (le: string) =>
      sampleValue(families, 'headshot_delivery_duration_seconds_bucket', { outcome: 'fetched', le })!
    const hot = (le: string) =>
      sampleValue(families, 'headshot_delivery_duration_seconds_bucket', { outcome: 'hot', le })!
    // A hot answer is memory only; a fetch goes to a server (loopback, but a server).
    expect(hot('0.1')).toBe(hot('+Inf'))
    expect(fetched('0.0005')).toBeLessThan(fetched('+Inf'))
    const sum = sampleValue(families, 'headshot_delivery_duration_seconds_sum', { outcome: 'fetched' })!
    expect(sum).toBeGreaterThan(0)
    expect(sum).toBeLessThan(60)
  })
})

describe('classes', () => {
  test('a delivery outcome: errors first, then the most expensive thing the request needed', () => {
    expect(deliveryOutcome(404, { id: 'a', fetched: true })).toBe('error')
    expect(deliveryOutcome(200, { id: 'a', hot: true })).toBe('hot')
    expect(deliveryOutcome(304, { id: 'a', hot: true })).toBe('hot')
    expect(deliveryOutcome(200, { id: 'a', fetched: true, derived: true })).toBe('fetched')
    expect(deliveryOutcome(200, { id: 'a', derived: true })).toBe('derived')
    expect(deliveryOutcome(200, { id: 'a' })).toBe('stored')
    expect(deliveryOutcome(200, undefined)).toBe('stored')
    expect(['hot', 'stored', 'derived', 'fetched', 'error'].map((o) => cacheResultOf(o as never))).toEqual([
      'hot',
      'stored',
      'miss',
      'miss',
      undefined,
    ])
  })

  test('an upstream outcome: by status class, 404/410 and 429 apart, timeouts apart from other failures', () => {
    expect([200, 304, 404, 410, 429, 401, 500, 503].map((status) => upstreamOutcome(status))).toEqual([
      'ok',
      'ok',
      'not_found',
      'not_found',
      'rate_limited',
      'refused',
      'server_error',
      'server_error',
    ])
    expect(upstreamOutcome(new FetchError('http_status', 'x answered 404', 404))).toBe('not_found')
    expect(upstreamOutcome(new FetchError('timeout', 'slow'))).toBe('timeout')
    expect(upstreamOutcome(new FetchError('blocked', 'private address'))).toBe('failed')
    expect(upstreamOutcome(new Error('anything else'))).toBe('failed')
  })

  test('the measured client reports each request once, whether it answered or threw', async () => {
    const recorded: string[] = []
    const inner: HttpClient = {
      request: async () => ({ status: 429 }) as never,
      getImage: async () => {
        throw new FetchError('timeout', 'slow')
      },
    }
    const http = measuredHttpClient(inner, (seconds, outcome) => {
      expect(seconds).toBeGreaterThanOrEqual(0)
      recorded.push(outcome)
    })
    expect((await http.request('http://x')).status).toBe(429)
    await expect(http.getImage('http://x')).rejects.toThrow('slow')
    expect(recorded).toEqual(['rate_limited', 'timeout'])
  })

  test('what a layer notes goes to the trace of the request it works for, across awaits; outside one, nowhere', async () => {
    const a: RequestTrace = { id: 'a' }
    const b: RequestTrace = { id: 'b' }
    await Promise.all([
      runTraced(a, async () => {
        await Bun.sleep(5)
        noteTrace({ fetched: true })
      }),
      runTraced(b, async () => {
        await Bun.sleep(1)
        noteTrace({ derived: true })
      }),
    ])
    noteTrace({ hot: true })
    expect([a, b, currentTrace()]).toEqual([{ id: 'a', fetched: true }, { id: 'b', derived: true }, undefined])
  })
})

describe('HEADSHOT_CACHE_MB=0', () => {
  test('no answer is kept hot, however often its URL comes: every repeat is read from the store', async () => {
    const bare = await startHeadshot({ ...gravatar.env, HEADSHOT_CACHE_MB: '0' })
    try {
      const hash = gravatar.addEmail('uncached@example.com').md5
      const path = `/image/gravatar/c_scale,w_40/${hash}.jpg`
      const bodies: string[] = []
      for (let i = 0; i < 4; i++) {
        const response = await bare.get(path)
        expect(response.status).toBe(200)
        bodies.push(Buffer.from(await response.arrayBuffer()).toString('base64'))
      }
      expect(new Set(bodies).size).toBe(1)
      const families = parseExposition(await (await bare.get('/metrics')).text())
      const cache = (result: string) => sampleValue(families, 'headshot_delivery_cache_total', { result }) ?? 0
      expect([cache('miss'), cache('stored'), cache('hot')]).toEqual([1, 3, 0])
    } finally {
      await bare.close()
    }
  })
})
