/**
 * The console's HTTP layer against an in-memory ManageService: sign-in, sessions, CSRF, the
 * security headers, and each JSON endpoint's mapping onto ManageService.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { createConsole, type ConsoleDeps } from '../../src/console/index.ts'
import { FAKE_SIGNATURE, FakeManage, fakeDerivative, fakePicture } from './fake-manage.ts'

const KEY = 'console-test-key'
const SECRET = 'console-test-secret-never-shown-0123'
const HOUR = 3_600_000

interface Answer {
  status: number
  headers: Headers
  text: string
  json: () => any
}

/** Every answer of this file, to check afterwards that none carried the secret. */
const answers: Answer[] = []

function boot(options: Partial<ConsoleDeps> = {}) {
  const manage = new FakeManage()
  const clock = { now: 1_800_000_000_000 }
  const app = new Elysia().use(
    createConsole({ manage, apiKey: KEY, apiSecret: SECRET, cloudName: 'local', now: () => clock.now, ...options }),
  )

  async function call(path: string, init: RequestInit & { cookie?: string } = {}): Promise<Answer> {
    const headers = new Headers(init.headers)
    if (init.cookie) headers.set('cookie', init.cookie)
    const response = await app.handle(new Request(`http://localhost${path}`, { ...init, headers }))
    const text = await response.text()
    const answer = { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) }
    answers.push(answer)
    return answer
  }

  function signInWith(key: string, secret: string, headers: Record<string, string> = {}) {
    return call('/console/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ api_key: key, api_secret: secret }).toString(),
    })
  }

  /** Signs in; returns the cookie and the CSRF token the page would get. */
  async function signIn(): Promise<{ cookie: string; csrf: string }> {
    const answer = await signInWith(KEY, SECRET)
    expect(answer.status).toBe(303)
    const cookie = answer.headers.get('set-cookie')!.split(';')[0]!
    const session = await call('/console/api/session', { cookie })
    expect(session.status).toBe(200)
    return { cookie, csrf: session.json().csrfToken }
  }

  /** A same-origin action as the page sends it. */
  function act(path: string, cookie: string, csrf: string, method = 'POST', headers: Record<string, string> = {}) {
    return call(path, {
      method,
      cookie,
      headers: { 'x-csrf-token': csrf, origin: 'http://localhost', 'sec-fetch-site': 'same-origin', ...headers },
    })
  }

  return { manage, clock, call, signInWith, signIn, act }
}

afterAll(() => {
  // The secret is compared, never echoed: not in a page, a JSON body, a header or a cookie.
  expect(answers.length).toBeGreaterThan(50)
  for (const answer of answers) {
    expect(answer.text).not.toContain(SECRET)
    for (const [, value] of answer.headers) expect(value).not.toContain(SECRET)
  }
})

describe('the page', () => {
  test('without a session: the sign-in form, with a strict CSP and no inline script or style', async () => {
    const { call } = boot()
    const page = await call('/console')
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(page.headers.get('cache-control')).toBe('no-store')
    const csp = page.headers.get('content-security-policy')!
    expect(csp).toContain("default-src 'self'")
    expect(csp).toContain("img-src 'self' data:")
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toContain('unsafe-inline')
    expect(page.headers.get('x-content-type-options')).toBe('nosniff')
    expect(page.text).toContain('<form class="card sign-in-card" method="post" action="/console/sign-in">')
    expect(page.text).toMatch(/<main id="library-view" class="library" hidden>/)
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
    expect(page.text).not.toMatch(/\sstyle=/)
    expect(page.text).not.toMatch(/https?:\/\//) // no CDN, nothing off-host
    expect(page.text).not.toContain('rel="preload"')
  })

  test('its stylesheet and script are served under hashed names, cacheable forever', async () => {
    const { call } = boot()
    const page = await call('/console')
    const [css, js] = [/href="(\/console\/assets\/[^"]+\.css)"/, /src="(\/console\/assets\/[^"]+\.js)"/].map(
      (re) => re.exec(page.text)![1]!,
    )
    const style = await call(css!)
    expect(style.status).toBe(200)
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8')
    expect(style.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    const script = await call(js!)
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(script.text).toContain("'use strict'")
    const again = await call(js!, { headers: { 'if-none-match': script.headers.get('etag')! } })
    expect(again.status).toBe(304)
    const app = new Elysia().use(
      createConsole({ manage: new FakeManage(), apiKey: KEY, apiSecret: SECRET, cloudName: 'local' }),
    )
    const gzipped = await app.handle(
      new Request(`http://localhost${js}`, { headers: { 'accept-encoding': 'gzip, br' } }),
    )
    expect(gzipped.headers.get('content-encoding')).toBe('gzip')
    expect(new TextDecoder().decode(Bun.gunzipSync(new Uint8Array(await gzipped.arrayBuffer())))).toBe(script.text)
    const html = await app.handle(new Request('http://localhost/console', { headers: { 'accept-encoding': 'gzip' } }))
    expect(html.headers.get('content-encoding')).toBe('gzip')
    expect(html.headers.get('vary')).toBe('Accept-Encoding')
    expect(html.headers.get('content-security-policy')).toContain("default-src 'self'")
    const tiny = await app.handle(
      new Request('http://localhost/console/api/x', { headers: { 'accept-encoding': 'gzip' } }),
    )
    expect(tiny.headers.get('content-encoding')).toBeNull() // under 1 KB: not worth it
    expect(await tiny.json()).toEqual({ error: { message: 'Not found' } })
    expect((await call('/console/assets/console.0000000000000000.js')).status).toBe(404)
  })
})

describe('sign-in', () => {
  test('a wrong secret or key is refused with 401 and the page says so; no cookie is set', async () => {
    const { signInWith } = boot()
    for (const [key, secret] of [
      [KEY, 'wrong'],
      ['wrong', SECRET],
      ['', ''],
      [KEY, `${SECRET}x`],
      [KEY, SECRET.slice(0, -1)],
    ]) {
      const answer = await signInWith(key!, secret!)
      expect(answer.status).toBe(401)
      expect(answer.text).toContain('Wrong API key or secret.')
      expect(answer.text).toContain('data-view="sign-in"')
      expect(answer.headers.get('set-cookie')).toBeNull()
    }
  })

  test('the right key and secret start a session: HttpOnly, SameSite=Strict cookie scoped to /console', async () => {
    const { signInWith, call } = boot()
    const answer = await signInWith(KEY, SECRET)
    expect(answer.status).toBe(303)
    expect(answer.headers.get('location')).toBe('/console')
    const cookie = answer.headers.get('set-cookie')!
    expect(cookie).toMatch(/^headshot_console=[A-Za-z0-9_-]{43}; /)
    expect(cookie).toContain('Path=/console')
    expect(cookie).toContain('HttpOnly')
    expect(cookie).toContain('SameSite=Strict')
    expect(cookie).not.toContain('Secure')
    const page = await call('/console', { cookie: cookie.split(';')[0] })
    expect(page.text).toContain('data-view="library"')
    // The first list and counts are fetched while the script loads (the sign-in view asks for nothing).
    expect(page.text).toContain(
      '<link rel="preload" href="/console/api/pictures?sort=created_at&direction=desc&limit=48" as="fetch" crossorigin>',
    )
    expect(page.text).toMatch(/<main id="sign-in-view" class="sign-in" hidden>/)
  })

  test('the cookie is Secure when the request came over https (directly or per X-Forwarded-Proto)', async () => {
    const { signInWith } = boot()
    const proxied = await signInWith(KEY, SECRET, { 'x-forwarded-proto': 'https' })
    expect(proxied.headers.get('set-cookie')).toContain('; Secure')
  })

  test('attempts are throttled per client: the 11th in a minute is refused, even with the right secret', async () => {
    const { signInWith, clock } = boot()
    for (let attempt = 0; attempt < 10; attempt++) expect((await signInWith(KEY, 'guess')).status).toBe(401)
    const refused = await signInWith(KEY, SECRET)
    expect(refused.status).toBe(429)
    expect(refused.text).toContain('Too many sign-in attempts')
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(refused.headers.get('set-cookie')).toBeNull()
    clock.now += 60_001
    expect((await signInWith(KEY, SECRET)).status).toBe(303)
  })

  test('a sign-in form posted from another site is refused', async () => {
    const { signInWith } = boot()
    expect((await signInWith(KEY, SECRET, { origin: 'https://evil.example' })).status).toBe(403)
    expect((await signInWith(KEY, SECRET, { 'sec-fetch-site': 'cross-site' })).status).toBe(403)
    expect(
      (await signInWith(KEY, SECRET, { origin: 'http://localhost', 'sec-fetch-site': 'same-origin' })).status,
    ).toBe(303)
  })
})

describe('sessions', () => {
  test('the API needs a session: none, a made-up one, or an expired one is 401', async () => {
    const { call, signIn, clock } = boot()
    const none = await call('/console/api/pictures')
    expect(none.status).toBe(401)
    expect(none.json()).toEqual({ error: { message: 'Sign in first' } })
    expect((await call('/console/api/pictures', { cookie: 'headshot_console=made-up' })).status).toBe(401)

    const { cookie } = await signIn()
    clock.now += 11 * HOUR
    expect((await call('/console/api/counts', { cookie })).status).toBe(200) // use restarts the idle clock
    clock.now += 11 * HOUR
    expect((await call('/console/api/counts', { cookie })).status).toBe(200)
    clock.now += 12 * HOUR + 1
    expect((await call('/console/api/counts', { cookie })).status).toBe(401)
    expect((await call('/console', { cookie })).text).toContain('data-view="sign-in"')
  })

  test('sign-out needs the CSRF token, then ends the session and clears the cookie', async () => {
    const { call, signIn, act } = boot()
    const { cookie, csrf } = await signIn()
    expect((await call('/console/sign-out', { method: 'POST', cookie })).status).toBe(403)
    const out = await act('/console/sign-out', cookie, csrf)
    expect(out.status).toBe(204)
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0')
    expect((await call('/console/api/counts', { cookie })).status).toBe(401)
  })

  test('the session endpoint gives the page its CSRF token, the cloud and the networks', async () => {
    const { call, signIn } = boot()
    const { cookie, csrf } = await signIn()
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const body = (await call('/console/api/session', { cookie })).json()
    expect(body).toEqual({
      csrfToken: csrf,
      cloudName: 'local',
      networks: [
        { type: 'facebook', restricted: true },
        { type: 'gravatar', restricted: false },
        { type: 'twitter', restricted: true },
      ],
    })
  })
})

describe('actions need the CSRF token and a same-origin request', () => {
  const refusals: Array<[string, Record<string, string>, string]> = [
    ['no token', { 'x-csrf-token': '' }, 'Invalid CSRF token'],
    ['a wrong token', { 'x-csrf-token': 'not-the-token' }, 'Invalid CSRF token'],
    ['another origin', { origin: 'https://evil.example' }, 'Cross-origin request refused'],
    ['a cross-site fetch', { 'sec-fetch-site': 'cross-site' }, 'Cross-site request refused (cross-site)'],
    [
      'a same-site (sibling subdomain) fetch',
      { 'sec-fetch-site': 'same-site' },
      'Cross-site request refused (same-site)',
    ],
  ]
  for (const [what, headers, message] of refusals) {
    test(`${what} → 403, and nothing is done`, async () => {
      const { manage, signIn, act } = boot()
      manage.add(fakePicture('gravatar', 'a'.repeat(32)))
      const { cookie, csrf } = await signIn()
      const answer = await act(
        `/console/api/picture/refresh?type=gravatar&id=${'a'.repeat(32)}`,
        cookie,
        csrf,
        'POST',
        headers,
      )
      expect(answer.status).toBe(403)
      expect(answer.json()).toEqual({ error: { message } })
      expect(manage.calls.filter((c) => c.startsWith('refresh'))).toEqual([])
    })
  }

  test('behind a TLS-terminating proxy the https origin is ours', async () => {
    const { manage, signIn, act } = boot()
    manage.add(fakePicture('gravatar', 'b'.repeat(32)))
    const { cookie, csrf } = await signIn()
    const answer = await act(
      `/console/api/picture/invalidate?type=gravatar&id=${'b'.repeat(32)}`,
      cookie,
      csrf,
      'POST',
      {
        origin: 'https://img.example.com',
        host: 'img.example.com',
        'x-forwarded-proto': 'https',
      },
    )
    expect(answer.status).toBe(200)
  })
})

describe('the JSON API', () => {
  async function withPictures() {
    const harness = boot()
    const { manage } = harness
    manage.add(fakePicture('facebook', '65646572251', { createdAt: 3000, checkedAt: 1000 }))
    manage.add(fakePicture('facebook', '4', { createdAt: 2000, checkedAt: 3000, format: 'png' }))
    manage.add(fakePicture('facebook', '1000', { status: 'none', format: null, contentHash: null, createdAt: 1000 }))
    manage.add(fakePicture('gravatar', 'e3264cf16f34ecd3c7c564f5668cbc1e', { createdAt: 4000, checkedAt: 2000 }))
    const session = await harness.signIn()
    const get = (path: string) => harness.call(path, { cookie: session.cookie })
    return { ...harness, ...session, get }
  }

  test('list: every network, newest first, with thumbnails built (and signed) on the server', async () => {
    const { get } = await withPictures()
    const body = (await get('/console/api/pictures')).json()
    expect(body.pictures.map((p: any) => p.publicId)).toEqual([
      'e3264cf16f34ecd3c7c564f5668cbc1e',
      '65646572251',
      '4',
      '1000',
    ])
    expect(body.nextCursor).toBeNull()
    const [gravatar, facebook, , none] = body.pictures
    expect(gravatar.thumbnail).toBe(
      '/image/gravatar/c_thumb,g_face,h_180,w_180/q_auto/v1700000000/e3264cf16f34ecd3c7c564f5668cbc1e.jpg',
    )
    expect(facebook.thumbnail).toBe(
      `/image/facebook/${FAKE_SIGNATURE}/c_thumb,g_face,h_180,w_180/q_auto/v1700000000/65646572251.jpg`,
    )
    expect(facebook.thumbnail2x).toBe(
      `/image/facebook/${FAKE_SIGNATURE}/c_thumb,dpr_2.0,g_face,h_180,w_180/q_auto/v1700000000/65646572251.jpg`,
    )
    expect(none.thumbnail).toBeNull()
    expect(none.thumbnail2x).toBeNull()
    expect(facebook).toMatchObject({
      type: 'facebook',
      status: 'ok',
      version: 1700000000,
      width: 400,
      height: 300,
      bytes: 12345,
    })
    expect(facebook.upstreamUrl).toBeUndefined()
    expect(facebook.changeKey).toBeUndefined()
  })

  test('list: filter by network and id prefix, sort by last check, direction, and cursor pages', async () => {
    const { get, manage } = await withPictures()
    const byCheck = (await get('/console/api/pictures?type=facebook&sort=checked_at&direction=asc&limit=2')).json()
    expect(byCheck.pictures.map((p: any) => p.publicId)).toEqual(['65646572251', '4'])
    expect(byCheck.nextCursor).toBe('at-2')
    const next = (
      await get(
        `/console/api/pictures?type=facebook&sort=checked_at&direction=asc&limit=2&cursor=${byCheck.nextCursor}`,
      )
    ).json()
    expect(next.pictures.map((p: any) => p.publicId)).toEqual(['1000'])
    expect(next.nextCursor).toBeNull()
    expect(manage.calls).toContain(
      'list ' +
        JSON.stringify({ type: 'facebook', sortBy: 'checked_at', direction: 'asc', cursor: 'at-2', maxResults: 2 }),
    )
    const prefixed = (await get('/console/api/pictures?prefix=65')).json()
    expect(prefixed.pictures.map((p: any) => p.publicId)).toEqual(['65646572251'])
  })

  test('list: bad parameters are 400 with a message', async () => {
    const { get } = await withPictures()
    const cases: Array<[string, string]> = [
      ['sort=name', 'Invalid sort: name'],
      ['direction=up', 'Invalid direction: up'],
      ['limit=0', 'Invalid limit: 0'],
      ['type=instagram', 'Invalid delivery type instagram'],
      ['cursor=garbage', 'Invalid next_cursor: malformed'],
      [`prefix=${'x'.repeat(600)}`, 'Parameter prefix is too long'],
    ]
    for (const [query, message] of cases) {
      const answer = await get(`/console/api/pictures?${query}`)
      expect(answer.status).toBe(400)
      expect(answer.json()).toEqual({ error: { message } })
    }
    expect((await get('/console/api/pictures?limit=999')).status).toBe(200) // clamped, not refused
  })

  test('counts: rows per network and status, every loaded network listed', async () => {
    const { get } = await withPictures()
    expect((await get('/console/api/counts')).json()).toEqual({
      total: 4,
      networks: [
        { type: 'facebook', restricted: true, total: 3, byStatus: { ok: 2, none: 1, not_found: 0 } },
        { type: 'gravatar', restricted: false, total: 1, byStatus: { ok: 1, none: 0, not_found: 0 } },
        { type: 'twitter', restricted: true, total: 0, byStatus: { ok: 0, none: 0, not_found: 0 } },
      ],
    })
  })

  test('details: sizes, dates, next check, faces (detected on demand), derivatives and signed paths', async () => {
    const { get, manage } = await withPictures()
    const picture = manage.pictures.get('facebook/65646572251')!
    manage.stored.set('facebook/65646572251', [
      fakeDerivative(picture, 'c_fill,h_120,w_80/jpg', { eager: true }),
      fakeDerivative(picture, 'c_scale,w_50/webp', {
        version: 1_600_000_000,
        bytes: 900,
        width: 50,
        height: 50,
        lastServedAt: 4000,
      }),
    ])
    const body = (await get('/console/api/picture?type=facebook&id=65646572251')).json()
    expect(body).toMatchObject({
      type: 'facebook',
      publicId: '65646572251',
      restricted: true,
      status: 'ok',
      version: 1_700_000_000,
      width: 400,
      height: 300,
      bytes: 12_345,
      format: 'jpg',
      createdAt: 3000,
      checkedAt: 1000,
      nextCheckAt: 1000 + 7 * 24 * HOUR,
      faces: [[100, 50, 80, 100]],
      preview: `/image/facebook/${FAKE_SIGNATURE}/c_limit,h_640,w_640/v1700000000/65646572251.jpg`,
      paths: {
        versioned: `/image/facebook/${FAKE_SIGNATURE}/v1700000000/65646572251.jpg`,
        unversioned: `/image/facebook/${FAKE_SIGNATURE}/65646572251.jpg`,
      },
    })
    expect(body.derivatives).toEqual([
      {
        transformation: 'c_fill,h_120,w_80',
        format: 'jpg',
        version: 1_700_000_000,
        width: 80,
        height: 120,
        bytes: 2100,
        createdAt: 5000,
        lastServedAt: 6000,
        eager: true,
        path: `/image/facebook/${FAKE_SIGNATURE}/c_fill,h_120,w_80/v1700000000/65646572251.jpg`,
      },
      {
        transformation: 'c_scale,w_50',
        format: 'webp',
        version: 1_600_000_000,
        width: 50,
        height: 50,
        bytes: 900,
        createdAt: 5000,
        lastServedAt: 4000,
        eager: false,
        path: null,
      },
    ])
    expect(manage.calls).toContain('withFaces facebook/65646572251')
  })

  test('details: no image paths without a picture; unknown pictures are 404, bad types 400', async () => {
    const { get } = await withPictures()
    const none = (await get('/console/api/picture?type=facebook&id=1000')).json()
    expect(none).toMatchObject({
      status: 'none',
      thumbnail: null,
      preview: null,
      paths: null,
      faces: [],
      derivatives: [],
    })
    const missing = await get('/console/api/picture?type=facebook&id=999')
    expect(missing.status).toBe(404)
    expect(missing.json()).toEqual({ error: { message: 'Resource not found - 999' } })
    expect((await get('/console/api/picture?type=instagram&id=1')).json()).toEqual({
      error: { message: 'Invalid delivery type instagram' },
    })
    expect((await get('/console/api/picture?type=facebook')).json()).toEqual({
      error: { message: 'Missing parameter id' },
    })
  })

  test('URL builder: versioned paths, signed for restricted networks; a bad transformation is 400', async () => {
    const { get } = await withPictures()
    const signed = (
      await get('/console/api/url?type=facebook&id=4&transformation=c_fill,g_face,h_90,w_90&format=webp')
    ).json()
    expect(signed).toEqual({
      path: `/image/facebook/${FAKE_SIGNATURE}/c_fill,g_face,h_90,w_90/v1700000000/4.webp`,
      signed: true,
    })
    const plain = (
      await get('/console/api/url?type=gravatar&id=e3264cf16f34ecd3c7c564f5668cbc1e&transformation=/e_sepia/')
    ).json()
    expect(plain).toEqual({
      path: '/image/gravatar/e_sepia/v1700000000/e3264cf16f34ecd3c7c564f5668cbc1e.jpg',
      signed: false,
    })
    const bad = await get('/console/api/url?type=facebook&id=4&transformation=w_abc')
    expect(bad.status).toBe(400)
    expect(bad.json()).toEqual({ error: { message: 'Invalid width in transformation: abc' } })
    const badFormat = await get('/console/api/url?type=facebook&id=4&format=exe')
    expect(badFormat.status).toBe(400)
    expect(badFormat.json()).toEqual({ error: { message: 'Invalid format: exe' } })
  })

  test('refresh now answers the re-checked picture (new version) and what was dropped', async () => {
    const { manage, act, cookie, csrf } = await withPictures()
    manage.stored.set('facebook/4', [fakeDerivative(manage.pictures.get('facebook/4')!, 'c_scale,w_50/png')])
    const answer = await act('/console/api/picture/refresh?type=facebook&id=4', cookie, csrf)
    expect(answer.status).toBe(200)
    const body = answer.json()
    expect(body.changed).toBe(true)
    expect(body.invalidated).toBe(1)
    expect(body.picture.version).toBe(1_700_000_060)
    expect(body.picture.thumbnail).toContain('/v1700000060/4.jpg')
    expect(body.picture.faces).toEqual([[100, 50, 80, 100]]) // detected again for the new version
  })

  test('invalidate and delete go through ManageService; deleting twice is 404', async () => {
    const { manage, act, get, cookie, csrf } = await withPictures()
    const id = 'e3264cf16f34ecd3c7c564f5668cbc1e'
    const invalidated = await act(`/console/api/picture/invalidate?type=gravatar&id=${id}`, cookie, csrf)
    expect(invalidated.json()).toEqual({ invalidated: 0 })
    const deleted = await act(`/console/api/picture?type=gravatar&id=${id}`, cookie, csrf, 'DELETE')
    expect(deleted.json()).toEqual({ deleted: id })
    expect(manage.calls).toEqual(expect.arrayContaining([`invalidate gravatar/${id}`, `delete gravatar/${id}`]))
    expect((await get(`/console/api/picture?type=gravatar&id=${id}`)).status).toBe(404)
    expect((await act(`/console/api/picture?type=gravatar&id=${id}`, cookie, csrf, 'DELETE')).status).toBe(404)
  })

  test('an HttpError keeps its status and headers; an unexpected error is a 500 without details', async () => {
    const { manage, act, cookie, csrf } = await withPictures()
    const { HttpError } = await import('../../src/lib/http-error.ts')
    manage.refresh = async () => {
      throw new HttpError(503, 'Upstream rate limit', { 'Retry-After': '30' })
    }
    const limited = await act('/console/api/picture/refresh?type=facebook&id=4', cookie, csrf)
    expect(limited.status).toBe(503)
    expect(limited.headers.get('retry-after')).toBe('30')
    expect(limited.json()).toEqual({ error: { message: 'Upstream rate limit' } })
    manage.invalidate = async () => {
      throw new Error(`database exploded near ${SECRET.length}`)
    }
    const originalError = console.error
    console.error = () => {}
    try {
      const failed = await act('/console/api/picture/invalidate?type=facebook&id=4', cookie, csrf)
      expect(failed.status).toBe(500)
      expect(failed.json()).toEqual({ error: { message: 'Internal error' } })
    } finally {
      console.error = originalError
    }
  })

  test('the sweeper status line: shown when the app has a sweeper, null otherwise, never an error page', async () => {
    const sweeping = boot({ sweeperStatus: () => ({ running: true, lastRunAt: 1234 }) })
    const { cookie } = await sweeping.signIn()
    expect((await sweeping.call('/console/api/status', { cookie })).json()).toEqual({
      sweeper: { running: true, lastRunAt: 1234 },
    })

    const plain = boot()
    const session = await plain.signIn()
    expect((await plain.call('/console/api/status', { cookie: session.cookie })).json()).toEqual({ sweeper: null })

    const broken = boot({
      sweeperStatus: () => {
        throw new Error('not started')
      },
    })
    const brokenSession = await broken.signIn()
    const answer = await broken.call('/console/api/status', { cookie: brokenSession.cookie })
    expect(answer.status).toBe(200)
    expect(answer.json()).toEqual({ sweeper: null, error: { message: 'Sweeper status unavailable: not started' } })
  })

  test('other paths under /console are a JSON 404, with the security headers', async () => {
    const { get } = await withPictures()
    const answer = await get('/console/api/nothing')
    expect(answer.status).toBe(404)
    expect(answer.headers.get('content-security-policy')).toContain("default-src 'self'")
  })
})
