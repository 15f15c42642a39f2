import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import github from './index.ts'
import { err, ok } from '../../src/plugin-host/types.ts'
import { IDENTICON_SEED, startFakeGitHub, type FakeGitHub } from './fake.ts'
import { isPictureOf } from '../../test/support/fakes/images.ts'
import { download, loadPlugin, upstreamError } from '../../test/support/plugins.ts'

const NOW = Date.UTC(2026, 8, 1)
let fake: FakeGitHub
beforeEach(() => {
  fake = startFakeGitHub()
})
afterEach(() => fake.stop())

const load = (env: Record<string, string | undefined> = fake.env) => loadPlugin(github, env, { now: () => NOW })

describe('github: ids', () => {
  test.each([
    ['Octocat', 'octocat'],
    ['a', 'a'],
    ['some-user-42', 'some-user-42'],
    ['A'.repeat(39), 'a'.repeat(39)],
  ])('%p is a login (→ %p)', (raw, normalised) => {
    expect(github.parseId(raw)).toEqual(ok(normalised))
  })

  test.each(['', '-user', 'user-', 'two--hyphens', 'a'.repeat(40), 'under_score', 'dot.ted', 'me@example.com', ' x'])(
    '%p is refused',
    (raw) => {
      expect(github.parseId(raw)).toEqual(err('expected a GitHub login'))
    },
  )
})

describe('github: resolve', () => {
  test('a user with a picture: one API call, then its avatar at 460 px, without a changeKey', async () => {
    const octocat = fake.addUser('Octocat', { seed: 'octocat', format: 'jpg' })
    const loaded = load()

    const resolution = await loaded.resolve('octocat')

    // The URL names the account (same v=4 for everyone), not the picture: no changeKey.
    expect(resolution).toEqual({ kind: 'image', url: `${fake.url}/u/${octocat.id}?v=4&s=460` })
    const image = await download(loaded, resolution)
    expect([image.format, image.width, image.height]).toEqual(['jpg', 460, 460])
    expect(await isPictureOf(image.bytes, 'octocat')).toBe(true)
    expect([fake.requests.count('user'), fake.requests.count('avatar')]).toEqual([1, 1])
    const request = fake.requests.last('user')!
    expect(request.headers.get('accept')).toBe('application/vnd.github+json')
    expect(request.headers.get('authorization')).toBeNull()
  })

  test('HEADSHOT_GITHUB_TOKEN is sent as a bearer token', async () => {
    fake.addUser('octocat')
    await load(fake.tokenEnv).resolve('octocat')
    expect(fake.requests.last('user')!.headers.get('authorization')).toBe(`Bearer ${fake.token}`)
  })

  test('no picture: GitHub cannot tell, so a user without an upload resolves to their identicon', async () => {
    const plain = fake.addUser('plain', 'identicon')
    const loaded = load()
    const resolution = await loaded.resolve('plain')
    expect(resolution.kind).toBe('image')
    expect(await isPictureOf((await download(loaded, resolution)).bytes, IDENTICON_SEED(plain.id))).toBe(true)
  })

  test('an unknown login is not_found', async () => {
    expect(await load().resolve('nobody')).toEqual({ kind: 'not_found' })
  })
})

describe('github: failures', () => {
  test.each([403, 429] as const)(
    'exhausted quota (HTTP %p) is rate_limited until x-ratelimit-reset',
    async (status) => {
      fake.addUser('octocat')
      fake.modes.remaining = 0
      fake.modes.rateLimitStatus = status
      const error = await upstreamError(load().resolve('octocat'))
      expect(error).toMatchObject({ code: 'rate_limited', retryAt: fake.resetAt * 1000 })
    },
  )

  test('a secondary limit is rate_limited until retry-after', async () => {
    fake.addUser('octocat')
    fake.modes.secondaryRetryAfter = 90
    expect(await upstreamError(load().resolve('octocat'))).toMatchObject({
      code: 'rate_limited',
      retryAt: NOW + 90_000,
    })
  })

  test('a refused token is auth', async () => {
    expect(await upstreamError(load({ ...fake.env, HEADSHOT_GITHUB_TOKEN: 'wrong' }).resolve('octocat'))).toMatchObject(
      { code: 'auth' },
    )
  })

  test.each(['server_error', 'bad_json'] as const)('%s is unavailable', async (failure) => {
    fake.addUser('octocat')
    fake.modes.failure = failure
    expect(await upstreamError(load().resolve('octocat'))).toMatchObject({ code: 'unavailable' })
  })

  test('an unreachable API is unavailable', async () => {
    fake.stop()
    expect(await upstreamError(load().resolve('octocat'))).toMatchObject({ code: 'unavailable' })
  })
})

describe('github: declaration', () => {
  test('avatar CDN host, not restricted by default, documented id', () => {
    expect(github.hosts).toEqual(['avatars.githubusercontent.com'])
    expect(github.restrictedByDefault).toBe(false)
    expect(github.parseId(github.id.example)).toEqual(ok(github.id.example))
  })
})
