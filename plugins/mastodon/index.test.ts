import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import mastodon, { parseAcct, serverPermitted } from './index.ts'
import { err, ok } from '../../src/plugin-host/types.ts'
import { createPluginRegistry, type LoadedPlugin } from '../../src/plugin-host/registry.ts'
import { createHttpClient } from '../../src/fetch/client.ts'
import { startFakeMastodon, type FakeMastodon } from './fake.ts'
import { isPictureOf } from '../../test/support/fakes/images.ts'
import { download, loadPlugin, upstreamError } from '../../test/support/plugins.ts'

const SERVER = 'mastodon.example'

let fake: FakeMastodon
let clock: number
beforeEach(() => {
  fake = startFakeMastodon()
  fake.addAccount('Gargron', { seed: 'gargron', side: 400 })
  fake.addAccount('nopic', 'missing')
  fake.addAccount('animated', { seed: 'anim', side: 120, format: 'gif' })
  clock = Date.now()
})
afterEach(() => fake.stop())

/** The operator's "local server" setting points mastodon.example at the loopback fake (trusted, like any base URL). */
const fakeEnv = () => ({ HEADSHOT_MASTODON_LOCAL_SERVER: SERVER, HEADSHOT_MASTODON_LOCAL_SERVER_URL: fake.url })
const load = (env: Record<string, string | undefined> = fakeEnv()) => loadPlugin(mastodon, env, { now: () => clock })

/** The plugin as the server loads it, with injected DNS answers for the SSRF guard. */
function loadWithDns(answers: Record<string, string[]>, env: Record<string, string> = {}): LoadedPlugin {
  const resolve = async (hostname: string) => {
    const found = answers[hostname]
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
    return found
  }
  const registry = createPluginRegistry([mastodon], env, (scope) => createHttpClient({ ...scope, resolve }), {
    now: () => clock,
  })
  return registry.get('mastodon')!
}

describe('mastodon: ids', () => {
  test.each([
    ['Gargron@mastodon.social', 'Gargron@mastodon.social'],
    ['Gargron@Mastodon.SOCIAL', 'Gargron@mastodon.social'],
    ['a_b_9@sub.domain-x.example', 'a_b_9@sub.domain-x.example'],
    [`${'u'.repeat(30)}@x.io`, `${'u'.repeat(30)}@x.io`],
  ])('%p is %p', (raw, id) => {
    expect(mastodon.parseId(raw)).toEqual(ok(id))
  })

  test.each([
    ['Gargron', 'expected user@server'],
    ['@Gargron@mastodon.social', 'expected user@server'],
    ['a@b@c.example', 'expected user@server'],
    ['@mastodon.social', 'user name'],
    [`${'u'.repeat(31)}@x.io`, 'user name'],
    ['gar.gron@mastodon.social', 'user name'],
    ['gar-gron@mastodon.social', 'user name'],
    ['Gargron@', 'server'],
    ['Gargron@localhost', 'server'],
    ['Gargron@mastodon.social:8443', 'server'],
    ['Gargron@127.0.0.1', 'server'],
    ['Gargron@2130706433', 'server'],
    ['Gargron@[::1]', 'server'],
    ['Gargron@mastodon.social.', 'server'],
    ['Gargron@-bad.example', 'server'],
    ['Gargron@a..example', 'server'],
    ['Gargron@mastodon.social/x', 'server'],
    ['Gargron@user:pw@x.example', 'expected user@server'],
  ])('%p is refused (%s)', (raw, reason) => {
    const result = mastodon.parseId(raw)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.error).toContain(reason)
  })

  test('parseAcct splits and lower-cases the server only', () => {
    expect(parseAcct('Gargron@Mastodon.Social')).toEqual({ user: 'Gargron', server: 'mastodon.social' })
    expect(mastodon.parseId('x')).toEqual(err('expected user@server (e.g. Gargron@mastodon.social)'))
  })
})

describe('mastodon: resolve', () => {
  test('an account with an avatar resolves to it (the URL is the change key) and downloads', async () => {
    const loaded = load()
    const resolution = await loaded.resolve(`Gargron@${SERVER}`)
    expect(resolution).toEqual({
      kind: 'image',
      url: expect.stringMatching(new RegExp(`^${fake.url}/system/accounts/avatars/.*/gargron\\.png$`)),
      changeKey: expect.any(String),
    })
    const image = await download(loaded, resolution)
    expect([image.format, image.width, image.height]).toEqual(['png', 400, 400])
    expect(await isPictureOf(image.bytes, 'gargron')).toBe(true)
    expect([fake.requests.count('lookup'), fake.requests.count('media')]).toEqual([1, 1])
    expect(Object.fromEntries(fake.requests.last('lookup')!.query)).toEqual({ acct: 'Gargron' })
  })

  test('an animated avatar: the still first, the animation as alternate', async () => {
    const resolution = await load().resolve(`animated@${SERVER}`)
    expect(resolution).toMatchObject({
      kind: 'image',
      url: expect.stringMatching(/animated\.png$/),
      alternates: [expect.stringMatching(/animated\.gif$/)],
    })
  })

  test("Mastodon's missing.png placeholder is none", async () => {
    expect(await load().resolve(`nopic@${SERVER}`)).toEqual({ kind: 'none' })
  })

  test('an unknown account (404 Record not found) is not_found', async () => {
    expect(await load().resolve(`nobody@${SERVER}`)).toEqual({ kind: 'not_found' })
  })

  test('429: rate_limited with retryAt from X-RateLimit-Reset; the server is not asked again until then', async () => {
    fake.modes.rateLimitedForSeconds = 120
    const loaded = load()
    const error = await upstreamError(loaded.resolve(`Gargron@${SERVER}`))
    expect(error.code).toBe('rate_limited')
    expect(Math.abs(error.retryAt! - (Date.now() + 120_000))).toBeLessThan(2000)

    fake.modes.rateLimitedForSeconds = undefined
    expect((await upstreamError(loaded.resolve(`nopic@${SERVER}`))).code).toBe('rate_limited')
    expect(fake.requests.count('lookup')).toBe(1)
    clock += 121_000
    expect(await loaded.resolve(`nopic@${SERVER}`)).toEqual({ kind: 'none' })
  })

  test('a 500 and a body that is not JSON are unavailable', async () => {
    for (const failure of ['server_error', 'garbage'] as const) {
      fake.modes.failure = failure
      expect(await upstreamError(load().resolve(`Gargron@${SERVER}`))).toMatchObject({ code: 'unavailable' })
    }
  })

  test('a failing server is remembered for HEADSHOT_MASTODON_FAILURE_TTL_SECONDS: no repeated slow lookups', async () => {
    fake.modes.stallMs = 1000
    const loaded = load({ ...fakeEnv(), HEADSHOT_MASTODON_TIMEOUT_MS: '150' })
    const started = performance.now()
    expect(await upstreamError(loaded.resolve(`Gargron@${SERVER}`))).toMatchObject({ code: 'timeout' })
    expect(performance.now() - started).toBeLessThan(900)

    const again = performance.now()
    const remembered = await upstreamError(loaded.resolve(`nopic@${SERVER}`))
    expect(remembered.code).toBe('timeout')
    expect(remembered.retryAt).toBe(clock + 60_000)
    expect(performance.now() - again).toBeLessThan(50)
    expect(fake.requests.count('lookup')).toBe(0) // the stalled one is still in flight, none recorded yet

    fake.modes.stallMs = 0
    clock += 61_000
    expect(await loaded.resolve(`nopic@${SERVER}`)).toEqual({ kind: 'none' })
  })

  test('an unreachable server is unavailable (and remembered)', async () => {
    fake.stop()
    const loaded = load()
    expect(await upstreamError(loaded.resolve(`Gargron@${SERVER}`))).toMatchObject({ code: 'unavailable' })
    expect(await upstreamError(loaded.resolve(`Gargron@${SERVER}`))).toMatchObject({ code: 'unavailable' })
  })
})

describe('mastodon: which servers are asked', () => {
  test.each([
    ['a.example', undefined, undefined, true],
    ['a.example', 'a.example', undefined, true],
    ['b.example', 'a.example, *.social', undefined, false],
    ['mastodon.social', 'a.example, *.social', undefined, true],
    ['social', '*.social', undefined, false],
    ['mastodon.social', undefined, '*.social', false],
    ['mastodon.social', 'mastodon.social', 'mastodon.social', false],
    ['evil.example', undefined, 'Evil.Example', false],
  ])('%p with allowed %p and denied %p: %p', (server, allowed, denied, expected) => {
    expect(serverPermitted(server, allowed, denied)).toBe(expected)
  })

  test('a denied or not-allowed server is not_found without any request', async () => {
    const denied = load({ ...fakeEnv(), HEADSHOT_MASTODON_DENIED_SERVERS: '*.evil.example' })
    expect(await denied.resolve('Gargron@mastodon.evil.example')).toEqual({ kind: 'not_found' })
    const allowed = loadWithDns(
      { 'elsewhere.example': ['10.0.0.1'] },
      {
        HEADSHOT_MASTODON_ALLOWED_SERVERS: 'mastodon.social',
      },
    )
    expect(await allowed.resolve('Gargron@elsewhere.example')).toEqual({ kind: 'not_found' })
    expect(fake.requests.count()).toBe(0)
  })

  test('the configured local server is asked even when the lists leave it out', async () => {
    const loaded = load({ ...fakeEnv(), HEADSHOT_MASTODON_ALLOWED_SERVERS: 'mastodon.social' })
    expect((await loaded.resolve(`Gargron@${SERVER}`)).kind).toBe('image')
  })

  test('a bad list stops start-up, naming the variable', () => {
    expect(() => load({ HEADSHOT_MASTODON_DENIED_SERVERS: 'http://x.example/' })).toThrow(
      'HEADSHOT_MASTODON_DENIED_SERVERS',
    )
    expect(() => load({ HEADSHOT_MASTODON_LOCAL_SERVER: 'x.example:8443' })).toThrow('HEADSHOT_MASTODON_LOCAL_SERVER')
    expect(() => load({ HEADSHOT_MASTODON_LOCAL_SERVER_URL: 'ftp://x.example' })).toThrow(
      'HEADSHOT_MASTODON_LOCAL_SERVER_URL',
    )
  })
})

describe('mastodon: SSRF', () => {
  test('any host, but only through the guard: no allow-list, and nothing trusted unless configured', () => {
    expect(mastodon.hosts).toEqual([])
    const loaded = loadPlugin(mastodon, {})
    expect(loaded.allowedHosts).toBeUndefined()
    expect(loaded.trustedOrigins).toEqual([])
    expect(load().trustedOrigins).toEqual([fake.url])
  })

  test.each([['10.0.0.7'], ['127.0.0.1'], ['169.254.169.254'], ['::1'], ['fd00::1']])(
    'a server resolving to %p is refused by the guard before any connection',
    async (address) => {
      const loaded = loadWithDns({ 'private.example': [address] })
      const error = await upstreamError(loaded.resolve('Gargron@private.example'))
      expect(error.code).toBe('unavailable')
      expect(error.message).toContain(`resolves to ${address}`)
    },
  )

  test('one private answer among public ones taints the server', async () => {
    const loaded = loadWithDns({ 'mixed.example': ['93.184.215.14', '10.1.2.3'] })
    expect((await upstreamError(loaded.resolve('Gargron@mixed.example'))).message).toContain('10.1.2.3')
  })

  test('an avatar on a private media host is refused at download', async () => {
    fake.modes.mediaOrigin = 'https://media.internal.example'
    const registry = createPluginRegistry(
      [mastodon],
      fakeEnv(),
      (scope) => createHttpClient({ ...scope, resolve: async () => ['192.168.1.5'] }),
      { now: () => clock },
    )
    const loaded = registry.get('mastodon')!
    const resolution = await loaded.resolve(`Gargron@${SERVER}`)
    expect(resolution.kind === 'image' && resolution.url).toStartWith('https://media.internal.example/')
    await expect(download(loaded, resolution)).rejects.toMatchObject({ code: 'blocked' })
  })

  test('an avatar on another origin than the trusted local server is not trusted either', async () => {
    // Same loopback address, other port: a different origin, so the guard refuses 127.0.0.1.
    const other = startFakeMastodon()
    try {
      other.addAccount('x', { seed: 'x', side: 10 })
      fake.modes.mediaOrigin = other.url
      const loaded = load()
      const resolution = await loaded.resolve(`Gargron@${SERVER}`)
      await expect(download(loaded, resolution)).rejects.toMatchObject({ code: 'blocked' })
    } finally {
      other.stop()
    }
  })
})

describe('mastodon: declaration', () => {
  test('restricted by default, with an id example that parses', () => {
    expect(mastodon.restrictedByDefault).toBe(true)
    expect(mastodon.parseId(mastodon.id.example).ok).toBe(true)
  })
})
