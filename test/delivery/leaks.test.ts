/**
 * Failures tell the client what went wrong, never where: no upstream URL, query string or resolved
 * address in `X-Cld-Error`; momentary failures (429, 5xx) are never kept by a CDN.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Type } from '@sinclair/typebox'
import { definePlugin, ok, UpstreamError } from '../../src/plugin-host/types.ts'
import { errorResponse } from '../../src/delivery/respond.ts'
import { startHeadshot, type Headshot } from '../support/headshot.ts'

let headshot: Headshot
const leaky = definePlugin({
  type: 'leaky',
  settings: Type.Object({}),
  hosts: [],
  id: { syntax: 'anything', example: 'a' },
  parseId: (raw) => ok(raw),
  async resolve(id) {
    if (id === 'limited')
      throw new UpstreamError('rate_limited', 'Leaky: https://api.internal/v1?token=abc 429', Date.now() + 30_000)
    throw new UpstreamError('unavailable', 'Leaky: GET https://cdn.internal.corp/p.jpg?sig=SECRET via 10.0.0.7 failed')
  },
})

beforeAll(async () => {
  headshot = await startHeadshot({ HEADSHOT_RESTRICTED_TYPES: 'none' }, { plugins: [leaky] })
})
afterAll(() => headshot.close())

describe('upstream failures', () => {
  test('a 502 names the network and the problem, not the URL, its query or the address', async () => {
    const response = await headshot.get('/image/leaky/broken.jpg')
    expect(response.status).toBe(502)
    const message = response.headers.get('x-cld-error') ?? ''
    expect(message).toBe('Upstream error: Leaky: GET <url> via <address> failed')
    expect(message).not.toContain('SECRET')
    expect(message).not.toContain('10.0.0.7')
    expect(response.headers.get('cache-control')).toBe('no-store')
  })

  test('a 503 rate limit is not cached either, and says when to come back', async () => {
    const response = await headshot.get('/image/leaky/limited.jpg')
    expect(response.status).toBe(503)
    expect(response.headers.get('x-cld-error')).not.toContain('token=abc')
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0)
  })
})

describe('error caching', () => {
  const request = new Request('http://localhost/x')
  test('a full transformation queue (429) is no-store: a momentary overload must not stick at the CDN', () => {
    expect(errorResponse(request, 429, 'Too many transformations in progress').headers.get('cache-control')).toBe(
      'no-store',
    )
  })
  test('client errors stay briefly cacheable, so floods of bad URLs are absorbed', () => {
    expect(errorResponse(request, 400, 'bad').headers.get('cache-control')).toBe('public, max-age=60')
    expect(errorResponse(request, 404, 'missing').headers.get('cache-control')).toBe('public, max-age=60')
  })
})
