/**
 * /metrics is complete from the first scrape (every series with HELP and TYPE, at 0 before any
 * event) and in the text format a Prometheus server parses; /readyz says whether to send traffic.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Metrics } from '../src/metrics.ts'
import { startHeadshot, type Headshot } from './support/headshot.ts'
import { parseExposition, sampleValue } from './support/prometheus.ts'

let headshot: Headshot
beforeAll(async () => {
  headshot = await startHeadshot({})
})
afterAll(() => headshot.close())

test('a fresh instance already lists every series it will count', async () => {
  const text = await (await headshot.get('/metrics')).text()
  for (const name of [
    'derives_total',
    'delivery_responses_total',
    'face_detections_total',
    'pictures_changed_total',
    'refresh_errors_total',
    'purge_requests_total',
    'sweep_checked_total',
  ]) {
    expect(text).toContain(`# HELP headshot_${name} `)
    expect(text).toContain(`# TYPE headshot_${name} counter`)
  }
  expect(text).toMatch(/^headshot_derives_total 0$/m)
  // The worker pool's (0 when transformations run inline, as here).
  expect(text).toMatch(/^headshot_worker_recycles_total 0$/m)
  expect(text).toMatch(/^headshot_workers_wasm_bytes 0$/m)
  // The store: its size (a gauge, read at start) and what the bound evicted.
  expect(text).toContain('# TYPE headshot_store_bytes gauge')
  expect(text).toMatch(/^headshot_store_bytes 0$/m)
  expect(text).toContain('# TYPE headshot_store_evictions_total counter')
  expect(text).toMatch(/^headshot_store_evictions_total 0$/m)
})

test('/readyz: ready when the database takes a write lock and the disk has room; 503 when not', async () => {
  const ready = await headshot.get('/readyz')
  expect(ready.status).toBe(200)
  expect(await ready.json()).toMatchObject({
    status: 'ready',
    checks: { database: { ok: true }, disk: { ok: true }, workers: { ok: true } },
  })
  expect(ready.headers.get('cache-control')).toBe('no-store')
})

test('/readyz answers 503 and says why when the database is gone', async () => {
  const broken = await startHeadshot({})
  await broken.app.close() // the database connection is closed under the running routes
  const answer = await broken.app.handle(new Request('http://localhost/readyz'))
  expect(answer.status).toBe(503)
  expect(await answer.json()).toMatchObject({ status: 'not ready', checks: { database: { ok: false } } })
  await broken.close().catch(() => {}) // removes its data directory
})

describe('the exposition, as a Prometheus server parses it', () => {
  test('a fresh instance: every line in the text format, every family with HELP and TYPE, histograms whole at 0', async () => {
    const families = parseExposition(await (await headshot.get('/metrics')).text())
    for (const family of families.values()) {
      // Counters are named for what they count, `_total` last (the convention every client follows).
      if (family.type === 'counter') expect(family.name).toEndWith('_total')
      expect(family.samples.length).toBeGreaterThan(0)
    }
    const types = Object.fromEntries([...families.values()].map((f) => [f.name, f.type]))
    expect(types).toMatchObject({
      headshot_delivery_duration_seconds: 'histogram',
      headshot_upstream_request_duration_seconds: 'histogram',
      headshot_derive_duration_seconds: 'histogram',
      headshot_event_loop_lag_seconds: 'histogram',
      headshot_delivery_cache_total: 'counter',
      headshot_upstream_requests_total: 'counter',
      headshot_workers_busy: 'gauge',
      headshot_workers_queued: 'gauge',
      headshot_workers_wasm_bytes: 'gauge',
      headshot_worker_recycles_total: 'counter',
      headshot_requests_in_flight: 'gauge',
      process_cpu_seconds_total: 'counter',
      process_resident_memory_bytes: 'gauge',
      process_start_time_seconds: 'gauge',
      process_heap_bytes: 'gauge',
      process_open_fds: 'gauge',
    })
    // Label sets known in advance are there from the first scrape: every outcome, every network.
    for (const outcome of ['hot', 'stored', 'derived', 'fetched', 'error']) {
      expect(sampleValue(families, 'headshot_delivery_duration_seconds_count', { outcome })).toBe(0)
      expect(sampleValue(families, 'headshot_delivery_duration_seconds_bucket', { outcome, le: '+Inf' })).toBe(0)
    }
    for (const result of ['hot', 'stored', 'miss']) {
      expect(sampleValue(families, 'headshot_delivery_cache_total', { result })).toBe(0)
    }
    expect(sampleValue(families, 'headshot_upstream_requests_total', { network: 'gravatar', outcome: 'ok' })).toBe(0)
    expect(sampleValue(families, 'headshot_upstream_request_duration_seconds_count', { network: 'facebook' })).toBe(0)
    expect(sampleValue(families, 'headshot_derive_duration_seconds_count')).toBe(0)
  })

  test('process series: plausible readings of this very process', async () => {
    const families = parseExposition(await (await headshot.get('/metrics')).text())
    const value = (name: string) => sampleValue(families, name)!
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024)
    expect(value('process_heap_bytes')).toBeGreaterThan(0)
    expect(value('process_cpu_seconds_total')).toBeGreaterThan(0)
    expect(value('process_cpu_seconds_total')).toBeCloseTo(
      value('process_cpu_user_seconds_total') + value('process_cpu_system_seconds_total'),
      3,
    )
    const started = Date.now() / 1000 - process.uptime()
    expect(Math.abs(value('process_start_time_seconds') - started)).toBeLessThan(5)
    expect(value('process_open_fds')).toBeGreaterThan(2)
    expect(value('process_open_fds')).toBeLessThanOrEqual(value('process_max_fds'))
  })

  test('the reader these tests rely on refuses what Prometheus would', () => {
    const ok = '# HELP a_total A\n# TYPE a_total counter\na_total{x="1"} 2\n'
    expect(() => parseExposition(ok)).not.toThrow()
    expect(() => parseExposition('a_total 1\n')).toThrow('without HELP and TYPE')
    expect(() => parseExposition('# HELP a_total A\n# TYPE a_total counter\na_total{x=1} 2\n')).toThrow('not a sample')
    expect(() => parseExposition(`${ok}a_total{x="1"} 3\n`)).toThrow('repeated')
    const histogram = (buckets: string, count: number) =>
      `# HELP h H\n# TYPE h histogram\n${buckets}h_sum 1\nh_count ${count}\n`
    expect(() => parseExposition(histogram('h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\n', 2))).not.toThrow()
    expect(() => parseExposition(histogram('h_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\n', 2))).toThrow('cumulative')
    expect(() => parseExposition(histogram('h_bucket{le="1"} 1\nh_bucket{le="2"} 2\n', 2))).toThrow('+Inf')
    expect(() => parseExposition(histogram('h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\n', 3))).toThrow('_count')
  })
})

describe('Metrics', () => {
  test('a histogram counts each observation in the first bucket that holds it, rendered cumulatively', () => {
    const metrics = new Metrics('t_')
    metrics.histogram('took_seconds', 'Took', { buckets: [0.1, 1], labels: [{ kind: 'a' }, { kind: 'b' }] })
    for (const seconds of [0.05, 0.1, 0.5, 3]) metrics.observe('took_seconds', 'Took', { kind: 'a' }, seconds)
    const families = parseExposition(metrics.render())
    const bucket = (kind: string, le: string) => sampleValue(families, 't_took_seconds_bucket', { kind, le })
    expect([bucket('a', '0.1'), bucket('a', '1'), bucket('a', '+Inf')]).toEqual([2, 3, 4])
    expect(sampleValue(families, 't_took_seconds_sum', { kind: 'a' })).toBeCloseTo(3.65, 10)
    expect(sampleValue(families, 't_took_seconds_count', { kind: 'a' })).toBe(4)
    expect([bucket('b', '0.1'), bucket('b', '+Inf')]).toEqual([0, 0])
    expect(metrics.value('took_seconds', { kind: 'a' })).toBe(4)
  })

  test('buckets must be finite and ascending', () => {
    expect(() => new Metrics().histogram('h', 'H', { buckets: [1, 0.5] })).toThrow('ascending')
    expect(() => new Metrics().histogram('h', 'H', { buckets: [] })).toThrow('ascending')
  })

  test('gauges and counters read at scrape time show the value of the moment; a failing reading is NaN', () => {
    const metrics = new Metrics('t_')
    let depth = 3
    metrics.gauge('depth', 'Depth', () => depth)
    metrics.cumulative('spent_total', 'Spent', () => 1.5)
    metrics.gauge('broken', 'Broken', () => {
      throw new Error('gone')
    })
    expect(sampleValue(parseExposition(metrics.render()), 't_depth')).toBe(3)
    depth = 7
    const families = parseExposition(metrics.render())
    expect(sampleValue(families, 't_depth')).toBe(7)
    expect(sampleValue(families, 't_spent_total')).toBe(1.5)
    expect(sampleValue(families, 't_broken')).toBeNaN()
  })
})

test('docs/operations.md names every series a fresh instance exposes', async () => {
  const doc = await Bun.file(`${import.meta.dir}/../docs/operations.md`).text()
  const families = parseExposition(await (await headshot.get('/metrics')).text())
  const missing = [...families.keys()].filter((name) => !doc.includes(`\`${name}\``))
  expect(missing).toEqual([])
})

describe('label sets', () => {
  test('are rendered in the order given, with quotes, backslashes and newlines replaced', () => {
    const metrics = new Metrics('t_')
    metrics.inc('labelled', 'help', { b: 'x"y', a: 'back\\slash\nline' })
    metrics.inc('labelled', 'help', { b: 'x"y', a: 'back\\slash\nline' }, 2)
    metrics.observe('timed', 'help', { outcome: 'hit' }, 0.001)
    expect(metrics.render()).toContain('t_labelled{b="x_y",a="back_slash_line"} 3\n')
    expect(metrics.value('labelled', { b: 'x"y', a: 'back\\slash\nline' })).toBe(3)
    expect(metrics.value('timed', { outcome: 'hit' })).toBe(1)
    expect(metrics.render()).toContain('t_timed_count{outcome="hit"} 1\n')
  })
})
