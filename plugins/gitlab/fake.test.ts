/** The fake GitLab behaves like the real API v4 (users, avatar) and its Gravatar fallback. */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { isPictureOf } from '../../test/support/fakes/images.ts'
import { sniffImage } from '../../test/support/http.ts'
import { gravatarHash, startFakeGitLab, type FakeGitLab } from './fake.ts'

let fake: FakeGitLab
beforeEach(() => {
  fake = startFakeGitLab()
})
afterEach(() => fake.stop())

const api = (path: string, headers: Record<string, string> = {}) => fetch(`${fake.url}/api/v4/${path}`, { headers })
const bytesOf = async (url: string) => new Uint8Array(await (await fetch(url)).arrayBuffer())

describe('fake GitLab', () => {
  test('users?username= (any case) is a one-user list with the upload URL; unknown is []', async () => {
    const jane = fake.addUser('Jane.Doe')
    const found = (await (await api('users?username=JANE.DOE')).json()) as Array<Record<string, unknown>>
    expect(found).toHaveLength(1)
    expect(found[0]).toMatchObject({
      id: jane.id,
      username: 'Jane.Doe',
      avatar_url: `${fake.url}/uploads/-/system/user/avatar/${jane.id}/avatar.png`,
    })
    const image = await bytesOf(found[0]!.avatar_url as string)
    expect(sniffImage(image)).toEqual({ format: 'png', width: 400, height: 400 })
    expect(await isPictureOf(image, 'jane.doe')).toBe(true)
    expect(await (await api('users?username=nobody')).json()).toEqual([])
  })

  test('no upload: the Gravatar URL of the email, or the placeholder with Gravatar off', async () => {
    fake.addUser('plain', { picture: 'none' })
    const read = async () => ((await (await api('users?username=plain')).json()) as Array<{ avatar_url: string }>)[0]!
    expect((await read()).avatar_url).toBe(`${fake.url}/avatar/${gravatarHash('plain@example.com')}?s=80&d=identicon`)
    fake.modes.gravatar = false
    expect((await read()).avatar_url).toMatch(/\/assets\/no_avatar-[0-9a-f]+\.png$/)
  })

  test('avatar?email=: the public account upload, else the address Gravatar URL (size as s)', async () => {
    const jane = fake.addUser('jane', { email: 'Jane@Example.com' })
    fake.addUser('hidden', { publicEmail: false })
    const answer = async (email: string) =>
      ((await (await api(`avatar?email=${email}&size=64`)).json()) as { avatar_url: string }).avatar_url
    expect(await answer('jane@example.com')).toBe(`${fake.url}/uploads/-/system/user/avatar/${jane.id}/avatar.png`)
    expect(await answer('hidden@example.com')).toBe(
      `${fake.url}/avatar/${gravatarHash('hidden@example.com')}?s=64&d=identicon`,
    )
    expect((await api('avatar')).status).toBe(400)
  })

  test('the Gravatar route: a known email picture, 404 with d=404, else an identicon', async () => {
    fake.gravatars.add('someone@example.com')
    const known = await bytesOf(`${fake.url}/avatar/${gravatarHash('someone@example.com')}?s=2048&d=404`)
    expect(sniffImage(known)).toEqual({ format: 'jpg', width: 2048, height: 2048 })
    expect(await isPictureOf(known, 'someone@example.com')).toBe(true)
    const unknown = gravatarHash('nobody@example.com')
    expect((await fetch(`${fake.url}/avatar/${unknown}?d=404`)).status).toBe(404)
    expect((await fetch(`${fake.url}/avatar/${unknown}?d=identicon`)).status).toBe(200)
  })

  test('tokens, restricted visibility, throttling with RateLimit-* and Retry-After, failures', async () => {
    fake.addUser('jane')
    expect((await api('users?username=jane', { 'private-token': 'wrong' })).status).toBe(401)
    fake.modes.restricted = true
    expect((await api('users?username=jane')).status).toBe(403)
    expect((await api('users?username=jane', { 'private-token': fake.token })).status).toBe(200)
    expect((await api('users?username=jane', { authorization: `Bearer ${fake.token}` })).status).toBe(200)
    fake.modes.restricted = false

    fake.modes.rateLimitedFor = 42
    const throttled = await api('users?username=jane')
    expect(throttled.status).toBe(429)
    expect([throttled.headers.get('retry-after'), throttled.headers.get('ratelimit-reset')]).toEqual([
      '42',
      String(fake.resetAt),
    ])
    fake.modes.rateLimitedFor = undefined

    fake.modes.failure = 'server_error'
    expect((await api('users?username=jane')).status).toBe(500)
    fake.modes.failure = 'bad_json'
    const bad = await api('users?username=jane')
    expect([bad.status, bad.headers.get('content-type')]).toEqual([200, 'text/html'])
    expect(fake.requests.count('users')).toBe(7)
  })
})
