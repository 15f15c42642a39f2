/**
 * The console as the app mounts it: beside the API and before the delivery catch-all, so every
 * path under /console is the console's, and delivery is unchanged.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startHeadshot, TEST_SECRET, type Headshot } from '../support/headshot.ts'

let headshot: Headshot

beforeAll(async () => {
  headshot = await startHeadshot({})
})

afterAll(async () => {
  await headshot.close()
})

test('GET /console is the Media Library sign-in page', async () => {
  const page = await headshot.get('/console')
  expect(page.status).toBe(200)
  expect(page.headers.get('content-security-policy')).toContain("default-src 'self'")
  expect(await page.text()).toContain('action="/console/sign-in"')
})

test('unknown paths under /console are the console JSON 404, never a delivery request', async () => {
  for (const method of ['GET', 'POST', 'DELETE']) {
    const answer = await headshot.app.handle(new Request('http://localhost/console/api/nothing', { method }))
    expect(answer.status).toBe(404)
    expect(answer.headers.get('x-cld-error')).toBeNull()
    expect(await answer.json()).toEqual({ error: { message: 'Not found' } })
  }
})

test('signing in with the configured key and secret works through the app', async () => {
  const answer = await headshot.app.handle(
    new Request('http://localhost/console/sign-in', {
      method: 'POST',
      body: new URLSearchParams({ api_key: headshot.config.apiKey, api_secret: TEST_SECRET }),
    }),
  )
  expect(answer.status).toBe(303)
  const cookie = answer.headers.get('set-cookie')!.split(';')[0]!
  const counts = await headshot.get('/console/api/counts', { headers: { cookie } })
  expect(counts.status).toBe(200)
  expect(((await counts.json()) as { total: number }).total).toBe(0)
})
