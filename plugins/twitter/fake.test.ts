/** The fake X API behaves like the real v2 user lookup, so plugin tests against it mean something. */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { signOAuth1 } from './oauth1.ts'
import { sniffImage } from '../../test/support/http.ts'
import { isPictureOf } from '../../test/support/fakes/images.ts'
import { startFakeX, type FakeX } from './fake.ts'

let fake: FakeX
beforeEach(() => {
  fake = startFakeX()
  fake.addUser({
    id: '2244994945',
    username: 'XDevelopers',
    name: 'Developers',
    picture: { seed: 'xdev', ext: 'jpg', side: 640 },
  })
})
afterEach(() => fake.stop())

const bearer = () => ({ authorization: `Bearer ${fake.credentials.bearerToken}` })
const api = (path: string, headers: Record<string, string> = bearer()) => fetch(`${fake.url}${path}`, { headers })
const body = async (response: Response) => (await response.json()) as Record<string, any>

function oauthHeader(url: string, options: { timestamp?: number; nonce?: string } = {}): Record<string, string> {
  const { oauth } = fake.credentials
  return { authorization: signOAuth1({ method: 'GET', url }, oauth, options).authorization }
}

describe('fake X API: authentication', () => {
  test('no header, a wrong bearer token or a bad signature: 401 with the real body', async () => {
    const url = `${fake.url}/2/users/2244994945`
    for (const headers of [{}, { authorization: 'Bearer nope' }, oauthHeader(`${url}?other=1`)]) {
      const response = await fetch(url, { headers })
      expect(response.status).toBe(401)
      expect(await body(response)).toEqual({
        title: 'Unauthorized',
        type: 'about:blank',
        status: 401,
        detail: 'Unauthorized',
      })
    }
  })

  test('OAuth 1.0a signed for the loopback URL is accepted once per nonce, within ±300 s', async () => {
    const url = `${fake.url}/2/users/2244994945?user.fields=profile_image_url`
    const headers = oauthHeader(url, { nonce: 'fixed-nonce-1' })
    expect((await fetch(url, { headers })).status).toBe(200)
    expect((await fetch(url, { headers })).status).toBe(401) // replay

    const stale = oauthHeader(url, { timestamp: Math.floor(Date.now() / 1000) - 301 })
    expect((await fetch(url, { headers: stale })).status).toBe(401)
  })
})

describe('fake X API: user lookup', () => {
  test('default fields are id, name, username; profile_image_url and protected only when asked', async () => {
    expect(await body(await api('/2/users/2244994945'))).toEqual({
      data: { id: '2244994945', name: 'Developers', username: 'XDevelopers' },
    })
    const { data } = await body(await api('/2/users/2244994945?user.fields=profile_image_url,protected'))
    expect(data).toEqual({
      id: '2244994945',
      name: 'Developers',
      username: 'XDevelopers',
      protected: false,
      profile_image_url: fake.profileImageUrl('2244994945'),
    })
    expect(data.profile_image_url).toMatch(new RegExp(`^${fake.url}/profile_images/[0-9]+/[\\w-]+_normal\\.jpg$`))
  })

  test('usernames match case-insensitively and come back in their own case', async () => {
    const { data } = await body(await api('/2/users/by/username/xdevelopers'))
    expect(data.username).toBe('XDevelopers')
  })

  test.each([
    ['/2/users/12a', 'id', '12a', 'The `id` query parameter value [12a] does not match ^[0-9]{1,19}$'],
    [
      '/2/users/by/username/giorgdcsadsacsacdsani',
      'username',
      'giorgdcsadsacsacdsani',
      'The `username` query parameter value [giorgdcsadsacsacdsani] does not match ^[A-Za-z0-9_]{1,15}$',
    ],
  ])('%s is 400 invalid-request', async (path, parameter, value, message) => {
    const response = await api(path)
    expect(response.status).toBe(400)
    expect(await body(response)).toEqual({
      errors: [{ parameters: { [parameter]: [value] }, message }],
      title: 'Invalid Request',
      detail: 'One or more parameters to your request was invalid.',
      type: 'https://api.twitter.com/2/problems/invalid-request',
    })
  })

  test('an unknown user.fields value is 400 invalid-request', async () => {
    const response = await api('/2/users/2244994945?user.fields=shoe_size')
    expect([response.status, (await body(response)).type]).toEqual([
      400,
      'https://api.twitter.com/2/problems/invalid-request',
    ])
  })

  test('an unknown user is 200 with only errors (resource-not-found), or 404 when switched', async () => {
    let response = await api('/2/users/by/username/nonexist')
    expect(response.status).toBe(200)
    expect(await body(response)).toEqual({
      errors: [
        {
          value: 'nonexist',
          detail: 'Could not find user with username: [nonexist].',
          title: 'Not Found Error',
          resource_type: 'user',
          parameter: 'username',
          resource_id: 'nonexist',
          type: 'https://api.twitter.com/2/problems/resource-not-found',
        },
      ],
    })
    fake.modes.notFoundStatus = 404
    response = await api('/2/users/1234567890')
    expect(response.status).toBe(404)
    expect((await body(response)).errors[0].detail).toBe('Could not find user with id: [1234567890].')
  })

  test('a suspended user is "Forbidden", still typed resource-not-found', async () => {
    fake.addUser({ id: '481186914', username: 'gone', suspended: true })
    const { errors } = await body(await api('/2/users/481186914'))
    expect(errors[0]).toMatchObject({
      title: 'Forbidden',
      detail: 'User has been suspended: [481186914].',
      type: 'https://api.twitter.com/2/problems/resource-not-found',
    })
  })
})

describe('fake X API: batch lookups', () => {
  beforeEach(() => {
    fake.addUser({ id: '12', username: 'jack', picture: { seed: 'jack', ext: 'png', side: 400 } })
    fake.addUser({ id: '481186914', username: 'gone', suspended: true })
  })

  test('GET /2/users?ids=: data for the users found, in order; errors for unknown and suspended ones', async () => {
    const answer = await body(await api('/2/users?ids=2244994945,1237987,12,481186914&user.fields=profile_image_url'))
    const notFound = 'https://api.twitter.com/2/problems/resource-not-found'
    expect(answer).toEqual({
      data: [
        {
          id: '2244994945',
          name: 'Developers',
          username: 'XDevelopers',
          profile_image_url: fake.profileImageUrl('2244994945'),
        },
        { id: '12', name: 'jack', username: 'jack', profile_image_url: fake.profileImageUrl('12') },
      ],
      errors: [
        {
          value: '1237987',
          detail: 'Could not find user with ids: [1237987].',
          title: 'Not Found Error',
          resource_type: 'user',
          parameter: 'ids',
          resource_id: '1237987',
          type: notFound,
        },
        {
          value: '481186914',
          detail: 'User has been suspended: [481186914].',
          title: 'Forbidden',
          resource_type: 'user',
          parameter: 'ids',
          resource_id: '481186914',
          type: notFound,
        },
      ],
    })
    expect(fake.requests.count('users/ids')).toBe(1)
  })

  test('GET /2/users/by?usernames=: case-insensitive, names in their own case; none found: only errors', async () => {
    const { data } = await body(await api('/2/users/by?usernames=xdevelopers,JACK'))
    expect(data.map((user: { username: string }) => user.username)).toEqual(['XDevelopers', 'jack'])
    const response = await api('/2/users/by?usernames=twitterrrrrrr,gone')
    expect(response.status).toBe(200)
    const answer = await body(response)
    expect(answer.data).toBeUndefined()
    expect(answer.errors.map((problem: { detail: string }) => problem.detail)).toEqual([
      'Could not find user with usernames: [twitterrrrrrr].',
      'User has been suspended: [gone].',
    ])
    expect(fake.requests.count('users/usernames')).toBe(2)
  })

  test("1 to 100 values: 101, or none, is 400 invalid-request with X's message", async () => {
    const ids = Array.from({ length: 101 }, (_, i) => String(i + 1)).join(',')
    const tooMany = await api(`/2/users?ids=${ids}`)
    expect(tooMany.status).toBe(400)
    expect((await body(tooMany)).errors[0].message).toBe(
      'The number of values in the `ids` query parameter list [101] is not between 1 and 100',
    )
    const none = await api('/2/users/by?usernames=')
    expect([none.status, (await body(none)).type]).toEqual([400, 'https://api.twitter.com/2/problems/invalid-request'])
    expect((await api(`/2/users?ids=${ids.split(',').slice(0, 100).join(',')}`)).status).toBe(200)
  })

  test('one malformed value refuses the whole batch, naming each bad value', async () => {
    const response = await api('/2/users?ids=12,12a,2244994945,x')
    expect(response.status).toBe(400)
    const answer = await body(response)
    expect(answer.detail).toBe('One or more parameters to your request was invalid.')
    const named = answer.errors.map((problem: { parameters: unknown }) => problem.parameters)
    expect(named).toEqual([{ ids: ['12a'] }, { ids: ['x'] }])
  })

  test("a batch call is one request of its endpoint's own window, x-rate-limit-*, 429 when exhausted", async () => {
    fake.rateLimits['users/ids'].remaining = 1
    const first = await api('/2/users?ids=12,2244994945')
    expect([first.status, first.headers.get('x-rate-limit-remaining')]).toEqual([200, '0'])
    const limited = await api('/2/users?ids=12')
    expect(limited.status).toBe(429)
    expect(limited.headers.get('x-rate-limit-reset')).toBe(String(fake.rateLimits['users/ids'].resetAt))
    expect(await body(limited)).toEqual({
      title: 'Too Many Requests',
      detail: 'Too Many Requests',
      type: 'about:blank',
      status: 429,
    })
    // X counts each endpoint separately: the single lookup and the username batch are still open.
    expect((await api('/2/users/12')).status).toBe(200)
    expect((await api('/2/users/by?usernames=jack')).status).toBe(200)
  })

  test('exhaustRateLimits closes every lookup endpoint until the given reset', async () => {
    // One reading of the clock: two could straddle a second boundary.
    const resetAt = fake.nowSeconds() + 60
    fake.exhaustRateLimits(resetAt)
    const reset = String(resetAt)
    for (const path of ['/2/users/12', '/2/users/by/username/jack', '/2/users?ids=12', '/2/users/by?usernames=jack']) {
      const response = await api(path)
      expect([response.status, response.headers.get('x-rate-limit-reset')]).toEqual([429, reset])
    }
    fake.clock.offsetSeconds = 61
    expect((await api('/2/users?ids=12')).status).toBe(200)
  })

  test('batch lookups need the same credentials (OAuth 1.0a signed over the comma list too)', async () => {
    expect((await api('/2/users?ids=12', {})).status).toBe(401)
    const url = `${fake.url}/2/users?ids=12,2244994945&user.fields=profile_image_url`
    expect((await fetch(url, { headers: oauthHeader(url) })).status).toBe(200)
  })
})

describe('fake X API: rate limits', () => {
  test('every answer carries x-rate-limit-*; remaining counts down; exhausted → 429 with the real body', async () => {
    fake.rateLimits['users/id'].remaining = 2
    const first = await api('/2/users/2244994945')
    expect(first.headers.get('x-rate-limit-limit')).toBe('300')
    expect(first.headers.get('x-rate-limit-remaining')).toBe('1')
    expect(first.headers.get('x-rate-limit-reset')).toBe(String(fake.rateLimits['users/id'].resetAt))
    expect((await api('/2/users/nope')).headers.get('x-rate-limit-remaining')).toBe('0')

    const limited = await api('/2/users/2244994945')
    expect(limited.status).toBe(429)
    expect(await body(limited)).toEqual({
      title: 'Too Many Requests',
      detail: 'Too Many Requests',
      type: 'about:blank',
      status: 429,
    })
    expect(limited.headers.get('x-rate-limit-reset')).toBe(String(fake.rateLimits['users/id'].resetAt))
  })

  test('the window refills once its reset time has passed', async () => {
    fake.rateLimits['users/id'].remaining = 0
    fake.clock.offsetSeconds = 15 * 60 + 1
    const response = await api('/2/users/2244994945')
    expect([response.status, response.headers.get('x-rate-limit-remaining')]).toEqual([200, '299'])
  })

  test('on an injected clock, the window refills in the very millisecond it reaches the reset, not a second off', async () => {
    let clock = 1_700_000_000_500 // half-way through a second, where real time plus a whole-second offset goes wrong
    const timed = startFakeX({ now: () => clock })
    try {
      timed.addUser({ id: '12', username: 'jack' })
      expect(timed.nowSeconds()).toBe(1_700_000_000)
      const resetAt = timed.nowSeconds() + 120
      timed.exhaustRateLimits(resetAt)
      const lookup = () =>
        fetch(`${timed.url}/2/users?ids=12`, { headers: { authorization: `Bearer ${timed.credentials.bearerToken}` } })
      clock = resetAt * 1000 - 1
      const refused = await lookup()
      expect([refused.status, refused.headers.get('x-rate-limit-reset')]).toEqual([429, String(resetAt)])
      clock = resetAt * 1000
      expect((await lookup()).status).toBe(200)
      // The new window is also counted in the injected time.
      expect(timed.rateLimits['users/ids'].resetAt).toBe(resetAt + 15 * 60)
    } finally {
      timed.stop()
    }
  })
})

describe('fake X image CDN', () => {
  async function image(url: string): Promise<{ status: number; bytes: Uint8Array }> {
    const response = await fetch(url)
    return { status: response.status, bytes: new Uint8Array(await response.arrayBuffer()) }
  }

  test.each([
    ['_normal', 48],
    ['_bigger', 73],
    ['_mini', 24],
    ['_200x200', 200],
    ['_400x400', 400],
    ['', 640],
  ])('serves the %p variant at %p px', async (suffix, side) => {
    const { status, bytes } = await image(fake.profileImageUrl('2244994945').replace('_normal.jpg', `${suffix}.jpg`))
    expect(status).toBe(200)
    expect(sniffImage(bytes)).toEqual({ format: 'jpg', width: side, height: side })
    expect(await isPictureOf(bytes, 'xdev')).toBe(true)
  })

  test('with originalMissing the suffix-less original is 404 while the variants stay', async () => {
    fake.modes.originalMissing = true
    const normal = fake.profileImageUrl('2244994945')
    expect((await image(normal.replace('_normal.jpg', '.jpg'))).status).toBe(404)
    expect((await image(normal.replace('_normal', '_400x400'))).status).toBe(200)
  })

  test('unknown images and wrong extensions are 404; the default avatar is served from /sticky/', async () => {
    const normal = fake.profileImageUrl('2244994945')
    expect((await image(normal.replace('.jpg', '.png'))).status).toBe(404)
    expect((await image(`${fake.url}/profile_images/1/abc_normal.jpg`)).status).toBe(404)
    const egg = await image(`${fake.url}/sticky/default_profile_images/default_profile_normal.png`)
    expect([egg.status, sniffImage(egg.bytes)?.format]).toEqual([200, 'png'])
  })

  test('requests are counted per route', async () => {
    await api('/2/users/2244994945')
    await api('/2/users/by/username/XDevelopers')
    await api('/2/users?ids=2244994945')
    await api('/2/users/by?usernames=XDevelopers')
    await fetch(fake.profileImageUrl('2244994945'))
    const routes = ['users/id', 'users/username', 'users/ids', 'users/usernames', 'pbs']
    expect(routes.map((route) => fake.requests.count(route))).toEqual([1, 1, 1, 1, 1])
  })
})
