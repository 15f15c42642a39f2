/** The fake Libravatar and fake SRV DNS behave like the real ones, so plugin tests against them mean something. */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { sniffImage } from '../../test/support/http.ts'
import { isPictureOf } from '../../test/support/fakes/images.ts'
import { emailHashes, fakeSrv, libravatarSize, NOBODY_SEED, startFakeLibravatar, type FakeLibravatar } from './fake.ts'

const UNKNOWN = 'f'.repeat(32)
let fake: FakeLibravatar
let hashes: { md5: string; sha256: string }
beforeEach(() => {
  fake = startFakeLibravatar()
  hashes = fake.addEmail(' George@example.com')
})
afterEach(() => fake.stop())

async function avatar(path: string, init?: RequestInit) {
  const response = await fetch(`${fake.url}/avatar/${path}`, init)
  const bytes = new Uint8Array(await response.arrayBuffer())
  return { response, bytes, image: sniffImage(bytes) }
}

describe('fake Libravatar', () => {
  test('hashes like Libravatar (trim, lower-case): the wiki MD5 vector and its SHA-256', () => {
    expect(hashes).toEqual({
      md5: '40f8d096a3777232204cb3f796c577b7',
      sha256: '47508cb4512f7b46aaeb34b4a514c63d63ec240bf28cbc4410addd4867c10066',
    })
    expect(emailHashes('george@example.com')).toEqual(hashes)
  })

  test('a known hash (either kind, any case, with or without .jpg/.png) is the user picture', async () => {
    for (const path of [hashes.md5, hashes.sha256, hashes.md5.toUpperCase(), `${hashes.sha256}.png`]) {
      const { response, bytes } = await avatar(`${path}?s=48`)
      expect(response.status).toBe(200)
      expect(await isPictureOf(bytes, 'george@example.com')).toBe(true)
    }
  })

  test.each([
    ['?s=64', 64],
    ['?size=100', 100],
    ['', 80],
    ['?s=0', 1],
    ['?s=2048', 512],
    ['?s=big', 80],
  ])('size %p → %p px square', async (query, side) => {
    expect((await avatar(`${hashes.md5}${query}`)).image).toEqual({ format: 'jpg', width: side, height: side })
  })

  test('an unknown hash: 404 with d=404, nobody.png without d, a generated picture with another d', async () => {
    expect((await avatar(`${UNKNOWN}?d=404`)).response.status).toBe(404)
    expect((await avatar(`${UNKNOWN}?default=404`)).response.status).toBe(404)
    const nobody = await avatar(`${UNKNOWN}?s=40`)
    expect([nobody.response.status, nobody.image?.format]).toEqual([200, 'png'])
    expect(await isPictureOf(nobody.bytes, NOBODY_SEED)).toBe(true)
    const identicon = await avatar(`${UNKNOWN}?s=40&d=identicon`)
    expect(identicon.response.status).toBe(200)
    expect(await isPictureOf(identicon.bytes, NOBODY_SEED)).toBe(false)
  })

  test('libravatarSize clamps to 1..512 with 80 as the default', () => {
    expect([libravatarSize(null), libravatarSize('512'), libravatarSize('513'), libravatarSize('-3')]).toEqual([
      80, 512, 512, 1,
    ])
  })

  test('failure modes and per-route counters', async () => {
    fake.modes.failure = 'rate_limited'
    const limited = await avatar(hashes.md5)
    expect([limited.response.status, limited.response.headers.get('retry-after')]).toEqual([429, '120'])
    fake.modes.failure = 'server_error'
    expect((await avatar(hashes.md5)).response.status).toBe(503)
    fake.modes.failure = 'garbage'
    const garbage = await avatar(hashes.md5)
    expect([garbage.response.status, garbage.image]).toEqual([200, undefined])
    expect(fake.requests.count('avatar')).toBe(3)
  })
})

describe('fake SRV DNS', () => {
  test('answers from its table, ENOTFOUND otherwise, and logs every query', async () => {
    const dns = fakeSrv()
    dns.records.set('_avatars._tcp.example.org', [{ name: 'avatars.example.org', port: 80, priority: 0, weight: 0 }])
    expect(await dns.resolveSrv('_avatars._tcp.example.org')).toEqual([
      { name: 'avatars.example.org', port: 80, priority: 0, weight: 0 },
    ])
    await expect(dns.resolveSrv('_avatars-sec._tcp.example.org')).rejects.toMatchObject({ code: 'ENOTFOUND' })
    expect(dns.queries).toEqual(['_avatars._tcp.example.org', '_avatars-sec._tcp.example.org'])
  })
})
