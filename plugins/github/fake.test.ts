/** The fake GitHub behaves like the real users API and avatar CDN, so plugin tests against it mean something. */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { isPictureOf } from '../../test/support/fakes/images.ts'
import { sniffImage } from '../../test/support/http.ts'
import { IDENTICON_SEED, startFakeGitHub, type FakeGitHub } from './fake.ts'

let fake: FakeGitHub
beforeEach(() => {
  fake = startFakeGitHub()
})
afterEach(() => fake.stop())

const getUser = (login: string, headers: Record<string, string> = {}) =>
  fetch(`${fake.url}/users/${login}`, { headers })

describe('fake GitHub', () => {
  test('a user (any case) is its JSON with a per-account avatar_url, v=4 like everyone', async () => {
    const octocat = fake.addUser('Octocat')
    const response = await getUser('OCTOCAT')
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      login: 'Octocat',
      id: octocat.id,
      avatar_url: `${fake.url}/u/${octocat.id}?v=4`,
      type: 'User',
    })
  })

  test('an unknown login is 404 Not Found', async () => {
    const response = await getUser('nobody')
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ message: 'Not Found', status: '404' })
  })

  test('the avatar: the uploaded picture, s clamped to 460; no upload → the identicon', async () => {
    const octocat = fake.addUser('octocat', { seed: 'octocat', format: 'jpg' })
    const plain = fake.addUser('plain', 'identicon')
    const big = new Uint8Array(await (await fetch(`${fake.url}/u/${octocat.id}?v=4&s=2000`)).arrayBuffer())
    expect(sniffImage(big)).toEqual({ format: 'jpg', width: 460, height: 460 })
    expect(await isPictureOf(big, 'octocat')).toBe(true)
    const small = new Uint8Array(await (await fetch(`${fake.url}/u/${plain.id}?v=4&s=40`)).arrayBuffer())
    expect(sniffImage(small)).toEqual({ format: 'png', width: 40, height: 40 })
    expect(await isPictureOf(small, IDENTICON_SEED(plain.id))).toBe(true)
  })

  test('rate-limit headers: 60/h anonymous, 5,000/h with the token; a wrong token is 401', async () => {
    fake.addUser('octocat')
    const anonymous = await getUser('octocat')
    expect(anonymous.headers.get('x-ratelimit-limit')).toBe('60')
    expect(anonymous.headers.get('x-ratelimit-remaining')).toBe('59')
    expect(anonymous.headers.get('x-ratelimit-reset')).toBe(String(fake.resetAt))
    const withToken = await getUser('octocat', { authorization: `Bearer ${fake.token}` })
    expect([withToken.headers.get('x-ratelimit-limit'), withToken.headers.get('x-ratelimit-remaining')]).toEqual([
      '5000',
      '4999',
    ])
    expect((await getUser('octocat', { authorization: 'Bearer nope' })).status).toBe(401)
  })

  test('an exhausted quota is 403 (or 429) with remaining 0 and the reset time', async () => {
    fake.addUser('octocat')
    for (let i = 0; i < 60; i++) expect((await getUser('octocat')).status).toBe(200)
    const limited = await getUser('octocat')
    expect(limited.status).toBe(403)
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0')
    expect(((await limited.json()) as { message: string }).message).toStartWith('API rate limit exceeded')
    fake.modes.rateLimitStatus = 429
    expect((await getUser('octocat')).status).toBe(429)
  })

  test('secondary limit, server error, bad JSON', async () => {
    fake.addUser('octocat')
    fake.modes.secondaryRetryAfter = 30
    const secondary = await getUser('octocat')
    expect([secondary.status, secondary.headers.get('retry-after')]).toEqual([403, '30'])
    fake.modes.secondaryRetryAfter = undefined
    fake.modes.failure = 'server_error'
    expect((await getUser('octocat')).status).toBe(502)
    fake.modes.failure = 'bad_json'
    const bad = await getUser('octocat')
    expect(bad.status).toBe(200)
    expect(await bad.text()).toBe('{"login":"octo')
    expect(fake.requests.count('user')).toBe(3)
  })
})
