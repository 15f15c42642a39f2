/** The fake Graph API behaves like the real picture edge, so plugin tests against it mean something. */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { createHmac } from 'node:crypto'
import { sniffImage } from '../../test/support/http.ts'
import { startFakeFacebook, type FakeFacebook } from './fake.ts'
import { isPictureOf } from '../../test/support/fakes/images.ts'

let fake: FakeFacebook
beforeEach(() => {
  fake = startFakeFacebook()
  fake.addUser('4', { seed: 'zuck', side: 720 })
  fake.addUser('1000', 'silhouette')
})
afterEach(() => fake.stop())

const get = (path: string, init: RequestInit = {}) => fetch(`${fake.url}${path}`, { redirect: 'manual', ...init })
const withToken = (query: string) =>
  `${query}${query === '' ? '?' : '&'}access_token=${encodeURIComponent(fake.accessToken)}`

async function graphError(response: Response) {
  return ((await response.json()) as { error: Record<string, unknown> }).error
}

describe('fake Graph picture edge', () => {
  test('by default it redirects (302) to the CDN picture', async () => {
    const response = await get(`/v25.0/4/picture${withToken('?type=large')}`)
    expect(response.status).toBe(302)
    const picture = await fetch(response.headers.get('location')!)
    const bytes = new Uint8Array(await picture.arrayBuffer())
    expect(sniffImage(bytes)).toEqual({ format: 'jpg', width: 200, height: 200 })
    expect(await isPictureOf(bytes, 'zuck')).toBe(true)
  })

  test.each(['false', '0', 'no'])('redirect=%s answers the ProfilePictureSource JSON', async (redirect) => {
    const response = await get(`/v25.0/4/picture${withToken(`?redirect=${redirect}&width=300&height=300`)}`)
    expect(response.status).toBe(200)
    const { data } = (await response.json()) as { data: Record<string, unknown> }
    expect(Object.keys(data).sort()).toEqual(['height', 'is_silhouette', 'url', 'width'])
    expect(data).toMatchObject({ height: 300, width: 300, is_silhouette: false })
    expect(String(data.url)).toMatch(/\/platform\/profilepic\/\?asid=4&height=300&width=300&ext=[0-9]+&hash=/)
  })

  test.each([
    ['?type=square', 50],
    ['?type=normal', 100],
    ['?type=large', 200],
    ['?width=64', 64],
    ['?height=90', 90],
    ['?width=2048&height=2048', 720],
    ['', 50],
  ])('size for %p is %p (never more than the user has)', async (query, side) => {
    const response = await get(`/v25.0/4/picture${withToken(`${query}${query === '' ? '?' : '&'}redirect=false`)}`)
    expect(((await response.json()) as { data: { width: number } }).data.width).toBe(side)
  })

  test('any v<N>.0 prefix and the unversioned path work; the token may come in an Authorization header', async () => {
    for (const path of ['/v26.0/4/picture', '/v2.12/4/picture', '/4/picture']) {
      expect((await get(`${path}${withToken('?redirect=false')}`)).status).toBe(200)
    }
    for (const scheme of ['Bearer', 'OAuth']) {
      const response = await get('/v25.0/4/picture?redirect=false', {
        headers: { authorization: `${scheme} ${fake.accessToken}` },
      })
      expect(response.status).toBe(200)
    }
  })

  test('a missing or wrong token is 400, code 190 OAuthException', async () => {
    for (const path of ['/v25.0/4/picture?redirect=false', '/v25.0/4/picture?redirect=false&access_token=1|wrong']) {
      const response = await get(path)
      expect(response.status).toBe(400)
      expect(await graphError(response)).toMatchObject({ code: 190, type: 'OAuthException' })
    }
  })

  test('an unknown id is 400, code 100 subcode 33, with the real message', async () => {
    const response = await get(`/v25.0/777/picture${withToken('?redirect=false')}`)
    expect(response.status).toBe(400)
    expect(await graphError(response)).toMatchObject({
      code: 100,
      error_subcode: 33,
      type: 'GraphMethodException',
      message: expect.stringMatching(/^Unsupported get request. Object with ID '777' does not exist/),
      fbtrace_id: expect.any(String),
    })
  })

  test('a silhouette user gets is_silhouette:true and a generic picture', async () => {
    const response = await get(`/v25.0/1000/picture${withToken('?redirect=false&type=large')}`)
    const { data } = (await response.json()) as { data: { is_silhouette: boolean; url: string } }
    expect(data.is_silhouette).toBe(true)
    expect((await fetch(data.url)).status).toBe(200)
  })

  test('throttle mode: code 4 with X-App-Usage at 100 (status configurable), optional Retry-After', async () => {
    fake.modes.throttle = true
    let response = await get(`/v25.0/4/picture${withToken('?redirect=false')}`)
    expect(response.status).toBe(400)
    expect(await graphError(response)).toMatchObject({ code: 4, message: '(#4) Application request limit reached' })
    expect(JSON.parse(response.headers.get('x-app-usage')!)).toMatchObject({ call_count: 100 })
    expect(response.headers.get('retry-after')).toBeNull()

    fake.modes.throttleStatus = 429
    fake.modes.retryAfterSeconds = 30
    response = await get(`/v25.0/4/picture${withToken('?redirect=false')}`)
    expect([response.status, response.headers.get('retry-after')]).toEqual([429, '30'])
  })

  test('appsecret_proof: checked when sent, required when the app says so', async () => {
    const proof = createHmac('sha256', fake.appSecret).update(fake.accessToken).digest('hex')
    expect((await get(`/v25.0/4/picture${withToken(`?redirect=false&appsecret_proof=${proof}`)}`)).status).toBe(200)
    const wrong = await get(`/v25.0/4/picture${withToken('?redirect=false&appsecret_proof=00')}`)
    expect(await graphError(wrong)).toMatchObject({
      code: 100,
      message: 'Invalid appsecret_proof provided in the API argument',
    })

    fake.modes.requireAppSecretProof = true
    const missing = await get(`/v25.0/4/picture${withToken('?redirect=false')}`)
    expect(await graphError(missing)).toMatchObject({
      code: 100,
      message: 'API calls from the server require an appsecret_proof argument',
    })
  })
})

describe('fake Facebook CDN', () => {
  async function pictureUrl(): Promise<string> {
    const response = await get(`/v25.0/4/picture${withToken('?redirect=false')}`)
    return ((await response.json()) as { data: { url: string } }).data.url
  }

  test('issued URLs expire: 403 once ext has passed', async () => {
    const url = await pictureUrl()
    expect(Number(new URL(url).searchParams.get('ext'))).toBeGreaterThan(Date.now() / 1000)
    expect((await fetch(url)).status).toBe(200)
    fake.clock.offsetSeconds = fake.modes.urlLifetimeSeconds + 1
    const expired = await fetch(url)
    expect([expired.status, await expired.text()]).toEqual([403, 'URL signature expired'])
  })

  test('on an injected clock, an issued URL expires when that clock passes its ext', async () => {
    let clock = 1_700_000_000_500
    const timed = startFakeFacebook({ now: () => clock })
    try {
      timed.addUser('4', { seed: 'zuck', side: 720 })
      const response = await fetch(
        `${timed.url}/v25.0/4/picture?redirect=false&access_token=${encodeURIComponent(timed.accessToken)}`,
      )
      const url = ((await response.json()) as { data: { url: string } }).data.url
      const ext = Number(new URL(url).searchParams.get('ext'))
      expect(ext).toBe(1_700_000_000 + timed.modes.urlLifetimeSeconds)
      clock = ext * 1000 + 999
      expect((await fetch(url)).status).toBe(200)
      clock = (ext + 1) * 1000
      expect((await fetch(url)).status).toBe(403)
    } finally {
      timed.stop()
    }
  })

  test('a tampered URL is 403', async () => {
    const url = new URL(await pictureUrl())
    url.searchParams.set('width', '2048')
    expect((await fetch(url)).status).toBe(403)
  })

  test('requests are counted per route', async () => {
    await fetch(await pictureUrl())
    await get('/v25.0/4/picture')
    expect([fake.requests.count('picture'), fake.requests.count('cdn'), fake.requests.count()]).toEqual([2, 1, 3])
    expect(fake.requests.last('picture')!.status).toBe(400)
    fake.requests.reset()
    expect(fake.requests.count()).toBe(0)
  })
})
