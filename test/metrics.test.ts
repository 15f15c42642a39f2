/** /metrics is complete from the first scrape: every series with HELP and TYPE, at 0 before any event. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startHeadshot, type Headshot } from './support/headshot.ts'

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
