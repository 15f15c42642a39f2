import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import twitter from './index.ts'
import twitter_name from './name.ts'
import { err, ok, UpstreamError, type BatchAnswer } from '../../src/plugin-host/types.ts'
import { classifyXUserResponse, classifyXUsersResponse, X_USERS_BY_IDS, xProfileImageResolution } from './x-api.ts'
import type { HttpResponse } from '../../src/fetch/types.ts'
import { isPictureOf } from '../../test/support/fakes/images.ts'
import { startFakeX, type FakeX } from './fake.ts'
import { download, loadPlugin, upstreamError } from '../../test/support/plugins.ts'

let fake: FakeX
beforeEach(() => {
  fake = startFakeX()
})
afterEach(() => fake.stop())

describe('twitter / twitter_name: ids', () => {
  test.each(['12', '2244994945', '0', '9'.repeat(19)])('twitter: %p is a user id', (raw) => {
    expect(twitter.parseId(raw)).toEqual(ok(raw))
  })
  test.each(['', 'jack', '@12', '9'.repeat(20), '-1', '12 ', '１２', '1e3'])('twitter: %p is refused', (raw) => {
    expect(twitter.parseId(raw)).toEqual(err('expected a numeric X user id (1 to 19 digits)'))
  })

  test.each([
    ['jack', 'jack'],
    ['XDevelopers', 'xdevelopers'],
    ['a', 'a'],
    ['Under_Score_9', 'under_score_9'],
    ['ABCDEFGHIJKLMNO', 'abcdefghijklmno'],
  ])('twitter_name: %p is the username %p', (raw, normalised) => {
    expect(twitter_name.parseId(raw)).toEqual(ok(normalised))
  })
  test.each(['', '@jack', 'jack.doe', 'jack-doe', 'jack doe', 'jäck', 'a'.repeat(16)])(
    'twitter_name: %p is refused',
    (raw) => {
      expect(twitter_name.parseId(raw)).toEqual(err('expected an X username (1 to 15 letters, digits or _)'))
    },
  )
})

describe('profile_image_url → what to download', () => {
  const base = 'https://pbs.twimg.com/profile_images/1354479643882004483/Btnfm47p'

  test.each(['jpg', 'jpeg', 'png', 'gif', 'JPG'])(
    '_normal.%s: the original first, then _400x400, then the URL as given',
    (ext) => {
      expect(xProfileImageResolution(`${base}_normal.${ext}`)).toEqual({
        kind: 'image',
        url: `${base}.${ext}`,
        alternates: [`${base}_400x400.${ext}`, `${base}_normal.${ext}`],
        changeKey: `${base}_normal.${ext}`,
      })
    },
  )

  test.each([
    ['a .webp picture', `${base}_normal.webp`],
    ['no extension', `${base}_normal`],
    ['_normal not right before the extension', `${base}_normal_v2.jpg`],
    ['a query after the extension', `${base}_normal.jpg?format=large`],
    ['no _normal suffix', `${base}.jpg`],
  ])('%s: the URL as given, no alternates', (_case, url) => {
    expect(xProfileImageResolution(url)).toEqual({ kind: 'image', url, changeKey: url })
  })

  test('the default avatar is none', () => {
    expect(
      xProfileImageResolution('https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png'),
    ).toEqual({ kind: 'none' })
  })

  test.each(['not a url', 'javascript:alert(1)', 'file:///etc/passwd'])(
    '%p is unavailable (X sent something odd)',
    (url) => {
      expect(() => xProfileImageResolution(url)).toThrow(UpstreamError)
    },
  )
})

describe('X responses the fake does not produce', () => {
  function response(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
    const text = typeof body === 'string' ? body : JSON.stringify(body)
    return {
      status,
      headers: new Headers(headers),
      url: 'https://api.x.com/2/users/12',
      body: new TextEncoder().encode(text),
      text: () => text,
      json: <T>() => JSON.parse(text) as T,
    }
  }
  const classify = (status: number, body: unknown, headers?: Record<string, string>) => {
    try {
      return classifyXUserResponse(response(status, body, headers))
    } catch (error) {
      return error instanceof UpstreamError ? { error: error.code, retryAt: error.retryAt } : { thrown: error }
    }
  }

  test('a top-level resource-not-found problem on api.x.com with 404 is not_found', () => {
    expect(
      classify(404, { title: 'Not Found Error', type: 'https://api.x.com/2/problems/resource-not-found' }),
    ).toEqual({ kind: 'not_found' })
  })

  test('data without profile_image_url, or errors of another kind, are unavailable', () => {
    expect(classify(200, { data: { id: '12', name: 'n', username: 'u' } })).toEqual({
      error: 'unavailable',
      retryAt: undefined,
    })
    expect(
      classify(200, { errors: [{ type: 'https://api.twitter.com/2/problems/not-authorized-for-resource' }] }),
    ).toMatchObject({ error: 'unavailable' })
  })

  test('a 400 that is not invalid-request is unavailable', () => {
    expect(classify(400, { title: 'Bad Request', type: 'about:blank' })).toMatchObject({ error: 'unavailable' })
  })

  test('a 429 without x-rate-limit-reset is rate_limited with no retryAt', () => {
    expect(classify(429, { title: 'Too Many Requests' })).toEqual({ error: 'rate_limited', retryAt: undefined })
  })
})

describe('twitter (by id) against the fake X API', () => {
  test('resolves the original upload, with the 400×400 and the _normal as alternates and the image URL as change key', async () => {
    fake.addUser({ id: '2244994945', username: 'XDevelopers', picture: { seed: 'xdev', ext: 'jpg', side: 800 } })
    const loaded = loadPlugin(twitter, fake.bearerEnv)

    const resolution = await loaded.resolve('2244994945')

    const reported = fake.profileImageUrl('2244994945')
    expect(resolution).toEqual({
      kind: 'image',
      url: reported.replace('_normal.jpg', '.jpg'),
      alternates: [reported.replace('_normal.jpg', '_400x400.jpg'), reported],
      changeKey: reported,
    })
    const image = await download(loaded, resolution)
    expect([image.format, image.width, image.height]).toEqual(['jpg', 800, 800])
    expect(await isPictureOf(image.bytes, 'xdev')).toBe(true)
  })

  test('calls GET /2/users/{id}?user.fields=profile_image_url with the bearer token', async () => {
    fake.addUser({ id: '12', username: 'jack' })
    await loadPlugin(twitter, fake.bearerEnv).resolve('12')
    const request = fake.requests.last('users/id')!
    expect(request.path).toBe('/2/users/12')
    expect(Object.fromEntries(request.query)).toEqual({ 'user.fields': 'profile_image_url' })
    expect(request.headers.get('authorization')).toBe(`Bearer ${fake.credentials.bearerToken}`)
  })

  test('when the original is gone, the 400×400 alternate is what downloads', async () => {
    fake.addUser({ id: '12', username: 'jack', picture: { seed: 'jack', ext: 'png', side: 1024 } })
    fake.modes.originalMissing = true
    const loaded = loadPlugin(twitter, fake.bearerEnv)
    const image = await download(loaded, await loaded.resolve('12'))
    expect([image.format, image.width]).toEqual(['png', 400])
    expect(image.url).toEndWith('_400x400.png')
    expect(await isPictureOf(image.bytes, 'jack')).toBe(true)
  })

  test('a .webp profile image is used as given', async () => {
    fake.addUser({ id: '12', username: 'jack', picture: { seed: 'jack', ext: 'webp', side: 600 } })
    const loaded = loadPlugin(twitter, fake.bearerEnv)
    const resolution = await loaded.resolve('12')
    expect(resolution).toEqual({
      kind: 'image',
      url: fake.profileImageUrl('12'),
      changeKey: fake.profileImageUrl('12'),
    })
    expect(await download(loaded, resolution)).toMatchObject({ format: 'webp', width: 48, height: 48 })
  })

  test('a new upload changes the change key', async () => {
    const user = fake.addUser({ id: '12', username: 'jack' })
    const loaded = loadPlugin(twitter, fake.bearerEnv)
    const before = await loaded.resolve('12')
    user.picture = { seed: 'jack-2026', ext: 'jpg', side: 400 }
    const after = await loaded.resolve('12')
    expect(before.kind === 'image' && after.kind === 'image' && before.changeKey !== after.changeKey).toBe(true)
  })

  test('the default avatar is none', async () => {
    fake.addUser({ id: '12', username: 'egg', picture: 'default' })
    expect(await loadPlugin(twitter, fake.bearerEnv).resolve('12')).toEqual({ kind: 'none' })
  })

  test('unknown and suspended users are not_found, whether X answers 200 + errors or 404', async () => {
    fake.addUser({ id: '13', username: 'gone', suspended: true })
    const loaded = loadPlugin(twitter, fake.bearerEnv)
    for (const status of [200, 404] as const) {
      fake.modes.notFoundStatus = status
      expect(await loaded.resolve('99')).toEqual({ kind: 'not_found' })
      expect(await loaded.resolve('13')).toEqual({ kind: 'not_found' })
    }
  })

  test('an id X refuses as an invalid request (400) is not_found', async () => {
    expect(await loadPlugin(twitter, fake.bearerEnv).resolve('not-an-id')).toEqual({ kind: 'not_found' })
    expect(fake.requests.last('users/id')!.status).toBe(400)
  })
})

describe('twitter_name (by username) against the fake X API', () => {
  test('looks the lower-cased name up and resolves like twitter', async () => {
    fake.addUser({ id: '2244994945', username: 'XDevelopers', picture: { seed: 'xdev', ext: 'jpg', side: 500 } })
    const loaded = loadPlugin(twitter_name, fake.bearerEnv)
    const id = loaded.parseId('XDevelopers')
    if (!id.ok) throw new Error(id.error)

    const resolution = await loaded.resolve(id.value)

    expect(fake.requests.last('users/username')!.path).toBe('/2/users/by/username/xdevelopers')
    expect(resolution).toMatchObject({ kind: 'image', changeKey: fake.profileImageUrl('2244994945') })
    expect(await isPictureOf((await download(loaded, resolution)).bytes, 'xdev')).toBe(true)
  })

  test('unknown, suspended and default-avatar users', async () => {
    fake.addUser({ id: '13', username: 'banned', suspended: true })
    fake.addUser({ id: '14', username: 'egg', picture: 'default' })
    const loaded = loadPlugin(twitter_name, fake.bearerEnv)
    expect(await loaded.resolve('nobody')).toEqual({ kind: 'not_found' })
    expect(await loaded.resolve('banned')).toEqual({ kind: 'not_found' })
    expect(await loaded.resolve('egg')).toEqual({ kind: 'none' })
  })

  test('a name X refuses as an invalid request (400) is not_found', async () => {
    expect(await loadPlugin(twitter_name, fake.bearerEnv).resolve('a'.repeat(16))).toEqual({ kind: 'not_found' })
  })
})

describe('batch lookups (resolveMany) against the fake X API', () => {
  const imageOf = (userId: string) => xProfileImageResolution(fake.profileImageUrl(userId))

  test('twitter: up to 100 ids in one GET /2/users?ids=…&user.fields=profile_image_url', async () => {
    fake.addUser({ id: '12', username: 'jack' })
    fake.addUser({ id: '13', username: 'egg', picture: 'default' })
    fake.addUser({ id: '14', username: 'banned', suspended: true })
    const loaded = loadPlugin(twitter, fake.bearerEnv)
    expect(loaded.resolveMany!.max).toBe(100)

    const answers = await loaded.resolveMany!.run(['12', '13', '14', '99'])

    expect(answers).toEqual(
      new Map<string, BatchAnswer>([
        ['12', imageOf('12')],
        ['13', { kind: 'none' }],
        ['14', { kind: 'not_found' }],
        ['99', { kind: 'not_found' }],
      ]),
    )
    expect(fake.requests.count('users/ids')).toBe(1)
    const request = fake.requests.last('users/ids')!
    expect(Object.fromEntries(request.query)).toEqual({ ids: '12,13,14,99', 'user.fields': 'profile_image_url' })
  })

  test('twitter_name: GET /2/users/by?usernames=…, matched back whatever case X writes the name in', async () => {
    fake.addUser({ id: '2244994945', username: 'XDevelopers' })
    fake.addUser({ id: '12', username: 'Jack' })
    const loaded = loadPlugin(twitter_name, fake.bearerEnv)
    const answers = await loaded.resolveMany!.run(['xdevelopers', 'jack', 'nobody'])
    expect(answers).toEqual(
      new Map<string, BatchAnswer>([
        ['xdevelopers', imageOf('2244994945')],
        ['jack', imageOf('12')],
        ['nobody', { kind: 'not_found' }],
      ]),
    )
    expect(fake.requests.last('users/usernames')!.query.get('usernames')).toBe('xdevelopers,jack,nobody')
  })

  test('100 ids cost one request; the answer for each is what the single lookup says', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => String(1000 + i))
    for (const id of ids.slice(0, 60)) fake.addUser({ id, username: `user${id}` })
    const loaded = loadPlugin(twitter, fake.bearerEnv)
    const answers = await loaded.resolveMany!.run(ids)
    expect(fake.requests.count('users/ids')).toBe(1)
    for (const id of ['1000', '1059', '1060', '1099']) expect(answers.get(id)).toEqual(await loaded.resolve(id))
  })

  test('signed with OAuth 1.0a over the comma list, like the single lookup', async () => {
    fake.addUser({ id: '12', username: 'jack' })
    const answers = await loadPlugin(twitter, fake.oauthEnv).resolveMany!.run(['12', '13'])
    expect(answers.get('12')).toMatchObject({ kind: 'image' })
    expect(fake.requests.last('users/ids')!.headers.get('authorization')).toStartWith('OAuth ')
  })

  test('429: the whole call is rate_limited, retrying at x-rate-limit-reset', async () => {
    fake.rateLimits['users/ids'].remaining = 0
    const error = await upstreamError(loadPlugin(twitter, fake.bearerEnv).resolveMany!.run(['12']))
    expect(error).toMatchObject({ code: 'rate_limited', retryAt: fake.rateLimits['users/ids'].resetAt * 1000 })
  })

  test('outages and bad credentials fail the whole call, as in the single lookup', async () => {
    const batch = (env = fake.bearerEnv) => upstreamError(loadPlugin(twitter, env).resolveMany!.run(['12']))
    fake.modes.failure = 'server_error'
    expect(await batch()).toMatchObject({ code: 'unavailable' })
    fake.modes.failure = 'garbage'
    expect(await batch()).toMatchObject({ code: 'unavailable' })
    fake.modes.failure = undefined
    expect(await batch({ ...fake.bearerEnv, HEADSHOT_TWITTER_BEARER_TOKEN: 'wrong' })).toMatchObject({ code: 'auth' })
  })

  test('a value X refuses (400 naming it) is not_found, and the rest is asked again without it', async () => {
    fake.addUser({ id: '12', username: 'jack' })
    // parseId never lets such a name through; a stored row from elsewhere could.
    const answers = await loadPlugin(twitter_name, fake.bearerEnv).resolveMany!.run(['jack', 'not-a-name'])
    expect(answers).toEqual(
      new Map<string, BatchAnswer>([
        ['not-a-name', { kind: 'not_found' }],
        ['jack', imageOf('12')],
      ]),
    )
    const asked = fake.requests.to('users/usernames').map((request) => [request.status, request.query.get('usernames')])
    expect(asked).toEqual([
      [400, 'jack,not-a-name'],
      [200, 'jack'],
    ])
  })
})

describe('X batch responses the fake does not produce', () => {
  function response(body: unknown, status = 200): HttpResponse {
    const text = JSON.stringify(body)
    return {
      status,
      headers: new Headers(),
      url: 'https://api.x.com/2/users?ids=1',
      body: new TextEncoder().encode(text),
      text: () => text,
      json: <T>() => JSON.parse(text) as T,
    }
  }
  const picture = 'https://pbs.twimg.com/profile_images/1/a_normal.jpg'
  const classify = (body: unknown, asked: string[]) => classifyXUsersResponse(response(body), X_USERS_BY_IDS, asked)

  test('an id X says nothing about is an error for that id, never not_found', () => {
    const answers = classify({ data: [{ id: '1', username: 'a', profile_image_url: picture }] }, ['1', '2'])
    expect(answers.get('1')).toMatchObject({ kind: 'image', changeKey: picture })
    expect(answers.get('2')).toBeInstanceOf(UpstreamError)
  })

  test('a problem other than resource-not-found, or a user without a usable picture URL, fails that id alone', () => {
    const answers = classify(
      {
        data: [
          { id: '1', username: 'a' },
          { id: '3', username: 'c', profile_image_url: picture },
        ],
        errors: [
          {
            value: '2',
            title: 'Authorization Error',
            type: 'https://api.x.com/2/problems/not-authorized-for-resource',
          },
        ],
      },
      ['1', '2', '3'],
    )
    expect(answers.get('1')).toMatchObject({ code: 'unavailable' })
    expect(answers.get('2')).toMatchObject({ code: 'unavailable', message: expect.stringContaining('Authorization') })
    expect(answers.get('3')).toMatchObject({ kind: 'image' })
  })

  test('ids asked with leading zeros match the canonical id X answers with', () => {
    const answers = classify({ data: [{ id: '12', username: 'a', profile_image_url: picture }] }, ['0012'])
    expect(answers.get('0012')).toMatchObject({ kind: 'image' })
  })

  test('a 200 with neither data nor errors fails the whole call', () => {
    expect(() => classify({}, ['1'])).toThrow(UpstreamError)
  })
})

describe('X credentials', () => {
  beforeEach(() => {
    fake.addUser({ id: '12', username: 'jack' })
  })

  test('with all four OAuth 1.0a values it signs each request (the fake verifies the signature for its loopback URL)', async () => {
    const loaded = loadPlugin(twitter, fake.oauthEnv)
    expect((await loaded.resolve('12')).kind).toBe('image')
    // A second call needs a fresh nonce: the fake refuses replays.
    expect((await loaded.resolve('12')).kind).toBe('image')
    expect(fake.requests.last('users/id')!.headers.get('authorization')).toStartWith('OAuth ')
  })

  test('OAuth 1.0a wins over a bearer token when both are configured', async () => {
    await loadPlugin(twitter, { ...fake.oauthEnv, HEADSHOT_TWITTER_BEARER_TOKEN: 'unused' }).resolve('12')
    expect(fake.requests.last('users/id')!.headers.get('authorization')).toStartWith('OAuth ')
  })

  test('an incomplete OAuth set falls back to the bearer token', async () => {
    await loadPlugin(twitter, { ...fake.bearerEnv, HEADSHOT_TWITTER_CONSUMER_KEY: 'ck' }).resolve('12')
    expect(fake.requests.last('users/id')!.headers.get('authorization')).toStartWith('Bearer ')
  })

  test('no credentials at all: auth, without calling X', async () => {
    const missing = await upstreamError(loadPlugin(twitter, { HEADSHOT_TWITTER_API_URL: fake.url }).resolve('12'))
    expect(missing).toMatchObject({ code: 'auth', message: expect.stringContaining('no credentials configured') })
    const partial = await upstreamError(
      loadPlugin(twitter, { HEADSHOT_TWITTER_API_URL: fake.url, HEADSHOT_TWITTER_CONSUMER_KEY: 'ck' }).resolve('12'),
    )
    expect(partial.message).toContain('all four')
    expect(fake.requests.count()).toBe(0)
  })

  test.each([
    ['a wrong bearer token', () => ({ ...fake.bearerEnv, HEADSHOT_TWITTER_BEARER_TOKEN: 'wrong' })],
    ['a wrong consumer secret', () => ({ ...fake.oauthEnv, HEADSHOT_TWITTER_CONSUMER_SECRET: 'wrong' })],
    ['a wrong access token secret', () => ({ ...fake.oauthEnv, HEADSHOT_TWITTER_ACCESS_TOKEN_SECRET: 'wrong' })],
  ])('%s: X answers 401, which is auth', async (_case, env) => {
    expect(await upstreamError(loadPlugin(twitter, env()).resolve('12'))).toMatchObject({ code: 'auth' })
    expect(fake.requests.last('users/id')!.status).toBe(401)
  })

  test('a clock more than 5 minutes off makes the OAuth timestamp unacceptable: auth', async () => {
    const skewed = loadPlugin(twitter, fake.oauthEnv, { now: () => Date.now() - 10 * 60_000 })
    expect(await upstreamError(skewed.resolve('12'))).toMatchObject({ code: 'auth' })
  })

  test('an app not attached to a project (403 Client Forbidden) is auth', async () => {
    fake.modes.failure = 'client_forbidden'
    expect(await upstreamError(loadPlugin(twitter, fake.bearerEnv).resolve('12'))).toMatchObject({ code: 'auth' })
  })
})

describe('X failures', () => {
  beforeEach(() => {
    fake.addUser({ id: '12', username: 'jack' })
  })

  test('429: rate_limited, retrying at x-rate-limit-reset', async () => {
    fake.rateLimits['users/username'].remaining = 0
    const error = await upstreamError(loadPlugin(twitter_name, fake.bearerEnv).resolve('jack'))
    expect(error).toMatchObject({ code: 'rate_limited', retryAt: fake.rateLimits['users/username'].resetAt * 1000 })
  })

  test('5xx is unavailable', async () => {
    fake.modes.failure = 'server_error'
    expect(await upstreamError(loadPlugin(twitter, fake.bearerEnv).resolve('12'))).toMatchObject({
      code: 'unavailable',
    })
  })

  test('an HTML page instead of JSON is unavailable', async () => {
    fake.modes.failure = 'garbage'
    expect(await upstreamError(loadPlugin(twitter, fake.bearerEnv).resolve('12'))).toMatchObject({
      code: 'unavailable',
    })
  })

  test('a 404 that is not about a user (a wrong HEADSHOT_TWITTER_API_URL path) is unavailable, not "not found"', async () => {
    const env = { ...fake.bearerEnv, HEADSHOT_TWITTER_API_URL: `${fake.url}/wrong-prefix` }
    const error = await upstreamError(loadPlugin(twitter, env).resolve('12'))
    expect(error).toMatchObject({ code: 'unavailable', message: 'X: HTTP 404' })
    expect(fake.requests.last()!.route).toBe('unknown')
  })

  test('an unreachable API is unavailable', async () => {
    fake.stop()
    expect(await upstreamError(loadPlugin(twitter, fake.bearerEnv).resolve('12'))).toMatchObject({
      code: 'unavailable',
    })
  })
})
