/** The fake Mastodon server answers like the real lookup API, so plugin tests against it mean something. */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { sniffImage } from '../../test/support/http.ts'
import { isPictureOf } from '../../test/support/fakes/images.ts'
import { startFakeMastodon, type FakeMastodon } from './fake.ts'

let fake: FakeMastodon
beforeEach(() => {
  fake = startFakeMastodon()
  fake.addAccount('Gargron', { seed: 'gargron', side: 400 })
  fake.addAccount('nopic', 'missing')
  fake.addAccount('animated', { seed: 'anim', side: 120, format: 'gif' })
})
afterEach(() => fake.stop())

const lookup = (acct: string) => fetch(`${fake.url}/api/v1/accounts/lookup?acct=${encodeURIComponent(acct)}`)

describe('fake Mastodon lookup', () => {
  test('a known account is the Account entity, its avatar downloadable', async () => {
    const response = await lookup('gargron')
    expect(response.status).toBe(200)
    const account = (await response.json()) as Record<string, string>
    expect(account).toMatchObject({ username: 'Gargron', acct: 'Gargron', url: `${fake.url}/@Gargron` })
    expect(account.avatar).toMatch(/\/system\/accounts\/avatars\/[0-9/]+\/original\/gargron\.png$/)
    expect(account.avatar_static).toBe(account.avatar)
    const bytes = new Uint8Array(await (await fetch(account.avatar!)).arrayBuffer())
    expect(sniffImage(bytes)).toEqual({ format: 'png', width: 400, height: 400 })
    expect(await isPictureOf(bytes, 'gargron')).toBe(true)
  })

  test('user@this-host is the local account too', async () => {
    expect((await lookup('Gargron@127.0.0.1')).status).toBe(200)
    expect((await lookup('Gargron@elsewhere.example')).status).toBe(404)
  })

  test('an animated avatar has a PNG still as avatar_static', async () => {
    const account = (await (await lookup('animated')).json()) as Record<string, string>
    expect(account.avatar).toEndWith('.gif')
    expect(account.avatar_static).toEndWith('.png')
    for (const url of [account.avatar!, account.avatar_static!]) expect((await fetch(url)).status).toBe(200)
  })

  test('an account without a picture points at /avatars/original/missing.png, which is served', async () => {
    const account = (await (await lookup('nopic')).json()) as Record<string, string>
    expect(account.avatar).toBe(`${fake.url}/avatars/original/missing.png`)
    expect(account.avatar_static).toBe(account.avatar)
    expect((await fetch(account.avatar!)).status).toBe(200)
  })

  test('an unknown account is 404 {"error":"Record not found"}', async () => {
    const response = await lookup('nobody')
    expect([response.status, await response.json()]).toEqual([404, { error: 'Record not found' }])
  })

  test('answers carry X-RateLimit-Limit/-Remaining/-Reset (ISO 8601)', async () => {
    const first = await lookup('gargron')
    const second = await lookup('gargron')
    expect(first.headers.get('x-ratelimit-limit')).toBe('300')
    expect(Number(first.headers.get('x-ratelimit-remaining'))).toBe(
      Number(second.headers.get('x-ratelimit-remaining')) + 1,
    )
    expect(Date.parse(first.headers.get('x-ratelimit-reset')!)).toBeGreaterThan(Date.now())
  })

  test('rate limited: 429 with remaining 0 and the reset time', async () => {
    fake.modes.rateLimitedForSeconds = 90
    const response = await lookup('gargron')
    expect(response.status).toBe(429)
    expect(await response.json()).toEqual({ error: 'Too many requests' })
    expect(response.headers.get('x-ratelimit-remaining')).toBe('0')
    const reset = Date.parse(response.headers.get('x-ratelimit-reset')!)
    expect(Math.abs(reset - (Date.now() + 90_000))).toBeLessThan(2000)
  })

  test('failures: a 500 HTML page, or a 200 that is not JSON', async () => {
    fake.modes.failure = 'server_error'
    const error = await lookup('gargron')
    expect([error.status, error.headers.get('content-type')]).toEqual([500, 'text/html; charset=utf-8'])
    fake.modes.failure = 'garbage'
    const garbage = await lookup('gargron')
    expect(garbage.status).toBe(200)
    await expect(garbage.json()).rejects.toThrow()
  })

  test('mediaOrigin moves avatar URLs to another host (a media CDN)', async () => {
    fake.modes.mediaOrigin = 'https://files.example.social'
    const account = (await (await lookup('gargron')).json()) as Record<string, string>
    expect(account.avatar).toStartWith('https://files.example.social/system/accounts/avatars/')
  })

  test('requests are counted per route; unknown paths are 404', async () => {
    await lookup('gargron')
    expect((await fetch(`${fake.url}/api/v2/whatever`)).status).toBe(404)
    expect([fake.requests.count('lookup'), fake.requests.count('unknown')]).toEqual([1, 1])
  })
})
