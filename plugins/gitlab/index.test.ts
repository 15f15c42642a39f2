import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import gitlab from './index.ts'
import { err, ok } from '../../src/plugin-host/types.ts'
import { gravatarHash, startFakeGitLab, type FakeGitLab } from './fake.ts'
import { isPictureOf } from '../../test/support/fakes/images.ts'
import { download, loadPlugin, upstreamError } from '../../test/support/plugins.ts'

const NOW = Date.UTC(2026, 8, 1)
const BAD_ID = err('expected a GitLab username or email')
let fake: FakeGitLab
beforeEach(() => {
  fake = startFakeGitLab()
})
afterEach(() => fake.stop())

const load = (env: Record<string, string | undefined> = fake.env) => loadPlugin(gitlab, env, { now: () => NOW })

describe('gitlab: ids', () => {
  test.each([
    ['Jane.Doe', 'jane.doe'],
    ['_bot', '_bot'],
    ['a-b_c.d', 'a-b_c.d'],
    ['Jane@Example.com', 'jane@example.com'],
    ['first.last+tag@sub.example.org', 'first.last+tag@sub.example.org'],
  ])('%p is an id (→ %p)', (raw, normalised) => {
    expect(gitlab.parseId(raw)).toEqual(ok(normalised))
  })

  test.each([
    '',
    '-jane',
    '.jane',
    'jane.',
    'repo.git',
    'feed.atom',
    'sp ace',
    'a/b',
    '@example.com',
    'jane@',
    'jane@localhost',
    'a@b@c.d',
  ])('%p is refused', (raw) => {
    expect(gitlab.parseId(raw)).toEqual(BAD_ID)
  })
})

describe('gitlab: resolve by username', () => {
  test('an upload: one API call, then the upload itself, without a changeKey', async () => {
    const jane = fake.addUser('Jane.Doe', { picture: { seed: 'jane', side: 400, format: 'jpg' } })
    const loaded = load()

    const resolution = await loaded.resolve('jane.doe')

    expect(resolution).toEqual({ kind: 'image', url: `${fake.url}/uploads/-/system/user/avatar/${jane.id}/avatar.png` })
    const image = await download(loaded, resolution)
    expect([image.format, image.width, image.height]).toEqual(['jpg', 400, 400])
    expect(await isPictureOf(image.bytes, 'jane')).toBe(true)
    expect(fake.requests.last('users')!.query.get('username')).toBe('jane.doe')
    expect([fake.requests.count('users'), fake.requests.count('upload')]).toEqual([1, 1])
  })

  test('no upload, but a Gravatar picture: that picture, the largest Gravatar has', async () => {
    fake.addUser('plain', { picture: 'none' })
    fake.gravatars.add('plain@example.com')
    const resolution = await load().resolve('plain')
    if (resolution.kind !== 'fetched') throw new Error(`expected fetched, got ${resolution.kind}`)
    expect(resolution.image.url).toBe(`${fake.url}/avatar/${gravatarHash('plain@example.com')}?s=2048&d=404`)
    expect(resolution.image.width).toBe(2048)
    expect(await isPictureOf(resolution.image.bytes, 'plain@example.com')).toBe(true)
  })

  test('no picture: no upload and only the Gravatar identicon is none', async () => {
    fake.addUser('plain', { picture: 'none' })
    expect(await load().resolve('plain')).toEqual({ kind: 'none' })
    expect(fake.requests.last('gravatar')!.status).toBe(404)
  })

  test('no picture: the no_avatar placeholder (Gravatar disabled) is none, without downloading it', async () => {
    fake.modes.gravatar = false
    fake.addUser('plain', { picture: 'none' })
    expect(await load().resolve('plain')).toEqual({ kind: 'none' })
    expect(fake.requests.count('placeholder')).toBe(0)
  })

  test('an unknown username is not_found', async () => {
    expect(await load().resolve('nobody')).toEqual({ kind: 'not_found' })
  })

  test('HEADSHOT_GITLAB_TOKEN goes in PRIVATE-TOKEN and opens a restricted instance', async () => {
    fake.modes.restricted = true
    fake.addUser('jane')
    expect(await upstreamError(load().resolve('jane'))).toMatchObject({ code: 'auth' })
    expect((await load(fake.tokenEnv).resolve('jane')).kind).toBe('image')
    expect(fake.requests.last('users')!.headers.get('private-token')).toBe(fake.token)
  })
})

describe('gitlab: resolve by email', () => {
  test('the public email of an account with an upload: the upload', async () => {
    const jane = fake.addUser('jane', { email: 'jane@example.com' })
    expect(await load().resolve('jane@example.com')).toEqual({
      kind: 'image',
      url: `${fake.url}/uploads/-/system/user/avatar/${jane.id}/avatar.png`,
    })
    expect(fake.requests.last('avatar_api')!.query.get('email')).toBe('jane@example.com')
  })

  test('an address GitLab does not show, with a Gravatar picture: that picture', async () => {
    fake.gravatars.add('someone@example.com')
    const resolution = await load().resolve('someone@example.com')
    expect(resolution.kind).toBe('fetched')
  })

  test('an address with neither: none (the avatar API cannot say not found)', async () => {
    expect(await load().resolve('nobody@example.com')).toEqual({ kind: 'none' })
  })
})

describe('gitlab: failures', () => {
  test('429 is rate_limited until RateLimit-Reset', async () => {
    fake.addUser('jane')
    fake.modes.rateLimitedFor = 30
    expect(await upstreamError(load().resolve('jane'))).toMatchObject({
      code: 'rate_limited',
      retryAt: fake.resetAt * 1000,
    })
    expect(await upstreamError(load().resolve('jane@example.com'))).toMatchObject({ code: 'rate_limited' })
  })

  test('a refused token is auth', async () => {
    expect(await upstreamError(load({ ...fake.env, HEADSHOT_GITLAB_TOKEN: 'wrong' }).resolve('jane'))).toMatchObject({
      code: 'auth',
    })
  })

  test.each(['server_error', 'bad_json'] as const)('%s is unavailable', async (failure) => {
    fake.addUser('jane')
    fake.modes.failure = failure
    expect(await upstreamError(load().resolve('jane'))).toMatchObject({ code: 'unavailable' })
    expect(await upstreamError(load().resolve('jane@example.com'))).toMatchObject({ code: 'unavailable' })
  })

  test('an unreachable GitLab is unavailable', async () => {
    fake.stop()
    expect(await upstreamError(load().resolve('jane'))).toMatchObject({ code: 'unavailable' })
  })
})

describe('gitlab: declaration', () => {
  test('Gravatar/Libravatar hosts, not restricted by default, documented id', () => {
    expect(gitlab.hosts).toEqual(['gravatar.com', '*.gravatar.com', 'seccdn.libravatar.org'])
    expect(gitlab.restrictedByDefault).toBe(false)
    expect(gitlab.parseId(gitlab.id.example)).toEqual(ok(gitlab.id.example))
  })
})
