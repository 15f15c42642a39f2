import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import libravatar, {
  createLibravatarPlugin,
  type LibravatarOptions,
  normaliseDomain,
  pickSrv,
  srvBaseUrl,
  type SrvRecord,
} from './index.ts'
import { err, ok } from '../../src/plugin-host/types.ts'
import { createHttpClient } from '../../src/fetch/client.ts'
import { createPluginRegistry, type LoadedPlugin } from '../../src/plugin-host/registry.ts'
import { emailHashes, fakeSrv, srvRecord, startFakeLibravatar, type FakeLibravatar, type FakeSrv } from './fake.ts'
import { isPictureOf } from '../../test/support/fakes/images.ts'
import { loadPlugin, upstreamError } from '../../test/support/plugins.ts'

// The Libravatar wiki's vector: George@example.com.
const MD5 = '40f8d096a3777232204cb3f796c577b7'
const SHA256 = '47508cb4512f7b46aaeb34b4a514c63d63ec240bf28cbc4410addd4867c10066'
const FEDERATED_HOST = 'avatars.example.org'

let central: FakeLibravatar
let federated: FakeLibravatar
let dns: FakeSrv
beforeEach(() => {
  central = startFakeLibravatar()
  federated = startFakeLibravatar()
  dns = fakeSrv()
})
afterEach(() => {
  central.stop()
  federated.stop()
})

function port(fake: FakeLibravatar): number {
  return Number(new URL(fake.url).port)
}

/** The plugin with the fake DNS, loaded the way the server loads it (SSRF guard with an injected A/AAAA resolver). */
function load(
  options: LibravatarOptions = {},
  client: { resolve?: (host: string) => Promise<string[]>; trust?: string[] } = {},
): LoadedPlugin {
  const plugin = createLibravatarPlugin({ resolveSrv: dns.resolveSrv, srvTimeoutMs: 200, ...options })
  if (client.resolve === undefined && client.trust === undefined) return loadPlugin(plugin, central.env)
  const loaded = createPluginRegistry([plugin], central.env, (scope) =>
    createHttpClient({
      ...scope,
      trustedOrigins: [...scope.trustedOrigins, ...(client.trust ?? [])],
      ...(client.resolve ? { resolve: client.resolve } : {}),
    }),
  ).get('libravatar')
  if (!loaded) throw new Error('libravatar did not load')
  return loaded
}

/**
 * The federated fake stands in for a domain's public server: its loopback address would fail the
 * SSRF guard, so these tests trust its origin under the SRV target's name (the private-address test
 * below runs without that trust).
 */
function loadWithFederatedServer(options: LibravatarOptions = {}): LoadedPlugin {
  return load(options, { resolve: async () => ['127.0.0.1'], trust: [`http://${FEDERATED_HOST}:${port(federated)}`] })
}

describe('libravatar: ids', () => {
  test.each([
    ['an MD5', MD5, MD5],
    ['a SHA-256', SHA256, SHA256],
    ['upper case (normalised)', SHA256.toUpperCase(), SHA256],
    ['a trailing .jpg', `${MD5}.jpg`, MD5],
    ['a hash with its domain', `${MD5}@example.com`, `${MD5}@example.com`],
    ['a domain in upper case with a trailing dot', `${MD5.toUpperCase()}@Mail.Example.COM.`, `${MD5}@mail.example.com`],
  ])('%s is an id', (_case, raw, normalised) => {
    expect(libravatar.parseId(raw)).toEqual(ok(normalised))
  })

  test.each([
    ['empty', ''],
    ['an email address', 'George@example.com'],
    ['31 hex digits', MD5.slice(1)],
    ['a hash and an empty domain', `${MD5}@`],
    ['a one-label domain', `${MD5}@localhost`],
    ['an IP literal', `${MD5}@10.0.0.7`],
    ['a label starting with a hyphen', `${MD5}@-bad.example`],
    ['two @', `${MD5}@a.example@b.example`],
    ['a non-ASCII domain', `${MD5}@bücher.example`],
    ['a domain with a port', `${MD5}@example.com:8080`],
    ['a domain with a path', `${MD5}@example.com/x`],
  ])('%s is refused', (_case, raw) => {
    expect(libravatar.parseId(raw)).toEqual(err('expected an MD5 or SHA-256 hex hash, optionally followed by @domain'))
  })

  test('the documented example parses', () => {
    expect(libravatar.parseId(libravatar.id.example).ok).toBe(true)
  })
})

describe('libravatar: SRV helpers', () => {
  test('base URLs: _avatars-sec is https, _avatars is http (https on 443), default ports omitted', () => {
    expect(srvBaseUrl(srvRecord('Avatars.Example.org.', 443), true)).toBe('https://avatars.example.org')
    expect(srvBaseUrl(srvRecord('avatars.example.org', 8443), true)).toBe('https://avatars.example.org:8443')
    expect(srvBaseUrl(srvRecord('avatars.example.org', 80), false)).toBe('http://avatars.example.org')
    expect(srvBaseUrl(srvRecord('avatars.example.org', 443), false)).toBe('https://avatars.example.org')
    expect(srvBaseUrl(srvRecord('avatars.example.org', 8080), false)).toBe('http://avatars.example.org:8080')
    expect(srvBaseUrl(srvRecord('.', 443), true)).toBeUndefined()
    expect(srvBaseUrl(srvRecord('avatars.example.org', 0), true)).toBeUndefined()
  })

  test('pickSrv: lowest priority first, then weighted by weight', () => {
    const records: SrvRecord[] = [
      srvRecord('b.example', 443, 10, 1),
      srvRecord('a.example', 443, 5, 1),
      srvRecord('c.example', 443, 5, 3),
    ]
    expect(pickSrv(records, () => 0)?.name).toBe('a.example')
    expect(pickSrv(records, () => 0.5)?.name).toBe('c.example')
    expect(pickSrv([], () => 0)).toBeUndefined()
  })

  test('normaliseDomain', () => {
    expect([normaliseDomain('Example.COM.'), normaliseDomain('example'), normaliseDomain('1.2.3.4')]).toEqual([
      'example.com',
      undefined,
      undefined,
    ])
  })
})

describe('libravatar: central service', () => {
  test('a bare hash is fetched from the central service at 512×512 with d=404, without DNS', async () => {
    central.addEmail('George@example.com')
    const resolution = await load().resolve(MD5)
    if (resolution.kind !== 'fetched') throw new Error(`expected fetched, got ${resolution.kind}`)
    expect(resolution.image).toMatchObject({
      format: 'jpg',
      width: 512,
      height: 512,
      url: `${central.url}/avatar/${MD5}?s=512&d=404`,
    })
    expect(await isPictureOf(resolution.image.bytes, 'george@example.com')).toBe(true)
    expect(central.requests.count('avatar')).toBe(1)
    expect(dns.queries).toEqual([])
  })

  test('no avatar (404 with d=404) is none', async () => {
    expect(await load().resolve(SHA256)).toEqual({ kind: 'none' })
    expect(central.requests.last('avatar')!.status).toBe(404)
  })

  test('a domain without SRV records uses the central service after asking for both records', async () => {
    central.addEmail('George@example.com')
    expect(await load().resolve(`${SHA256}@example.com`)).toMatchObject({ kind: 'fetched', image: { width: 512 } })
    expect(dns.queries).toEqual(['_avatars-sec._tcp.example.com', '_avatars._tcp.example.com'])
  })

  test('an SRV lookup that does not answer in time falls back to the central service', async () => {
    central.addEmail('George@example.com')
    dns.hang = true
    const started = Date.now()
    const resolution = await load({ srvTimeoutMs: 50 }).resolve(`${MD5}@example.com`)
    expect(resolution).toMatchObject({ kind: 'fetched', image: { url: `${central.url}/avatar/${MD5}?s=512&d=404` } })
    expect(Date.now() - started).toBeLessThan(1_000)
  })

  test('an SRV target of "." (no service) falls back to the central service', async () => {
    central.addEmail('George@example.com')
    dns.records.set('_avatars-sec._tcp.example.com', [srvRecord('.', 0)])
    expect(await load().resolve(`${MD5}@example.com`)).toMatchObject({ kind: 'fetched' })
    expect(central.requests.count('avatar')).toBe(1)
  })
})

describe('libravatar: federated servers', () => {
  test("a domain's own server (SRV _avatars._tcp) serves the picture; the central service is not asked", async () => {
    federated.addEmail('George@example.org', { format: 'png' })
    central.addEmail('George@example.org', { seed: 'someone else' })
    dns.records.set('_avatars._tcp.example.org', [srvRecord(FEDERATED_HOST, port(federated))])

    const resolution = await loadWithFederatedServer().resolve(`${emailHashes('george@example.org').md5}@example.org`)

    if (resolution.kind !== 'fetched') throw new Error(`expected fetched, got ${resolution.kind}`)
    expect(resolution.image).toMatchObject({ format: 'png', width: 512, height: 512 })
    expect(resolution.image.url).toStartWith(`http://${FEDERATED_HOST}:${port(federated)}/avatar/`)
    expect(await isPictureOf(resolution.image.bytes, 'george@example.org')).toBe(true)
    expect(federated.requests.count('avatar')).toBe(1)
    expect(central.requests.count('avatar')).toBe(0)
    expect(dns.queries).toEqual(['_avatars-sec._tcp.example.org', '_avatars._tcp.example.org'])
  })

  test('_avatars-sec is asked first and, when present, wins (an HTTPS URL)', async () => {
    dns.records.set('_avatars-sec._tcp.example.org', [srvRecord(FEDERATED_HOST, port(federated))])
    dns.records.set('_avatars._tcp.example.org', [srvRecord('other.example.org', 80)])
    // The fake speaks plain HTTP, so the TLS handshake fails: the point is which URL was tried.
    const error = await upstreamError(loadWithFederatedServer().resolve(`${MD5}@example.org`))
    expect(error).toMatchObject({ code: 'unavailable' })
    expect(error.message).toContain(`https://${FEDERATED_HOST}:${port(federated)}`)
    expect(dns.queries).toEqual(['_avatars-sec._tcp.example.org'])
  })

  test("no picture on the domain's server is none (no second opinion from the central service)", async () => {
    central.addEmail('George@example.com')
    dns.records.set('_avatars._tcp.example.com', [srvRecord(FEDERATED_HOST, port(federated))])
    expect(await loadWithFederatedServer().resolve(`${MD5}@example.com`)).toEqual({ kind: 'none' })
    expect(central.requests.count('avatar')).toBe(0)
  })

  test('an SRV target on a private address is refused: never contacted, unavailable', async () => {
    federated.addEmail('George@example.com')
    central.addEmail('George@example.com')
    dns.records.set('_avatars._tcp.example.com', [srvRecord(FEDERATED_HOST, port(federated))])
    const loaded = load({}, { resolve: async () => ['127.0.0.1'] })

    const error = await upstreamError(loaded.resolve(`${MD5}@example.com`))

    expect(error).toMatchObject({ code: 'unavailable' })
    expect(error.message).toContain('127.0.0.1')
    expect(federated.requests.count('avatar')).toBe(0)
    expect(central.requests.count('avatar')).toBe(0)
  })

  test("the plugin's client may reach any public host (no host allow-list), its base URL trusted", () => {
    const loaded = load()
    expect(loaded.allowedHosts).toBeUndefined()
    expect(loaded.trustedOrigins).toEqual([central.url])
    expect(libravatar.restrictedByDefault).toBeFalsy()
  })
})

describe('libravatar: failures', () => {
  test('429 is rate_limited', async () => {
    central.modes.failure = 'rate_limited'
    expect(await upstreamError(load().resolve(MD5))).toMatchObject({ code: 'rate_limited' })
  })

  test('a 429 from a federated server is rate_limited too', async () => {
    federated.modes.failure = 'rate_limited'
    dns.records.set('_avatars._tcp.example.com', [srvRecord(FEDERATED_HOST, port(federated))])
    expect(await upstreamError(loadWithFederatedServer().resolve(`${MD5}@example.com`))).toMatchObject({
      code: 'rate_limited',
    })
  })

  test('5xx is unavailable', async () => {
    central.modes.failure = 'server_error'
    expect(await upstreamError(load().resolve(MD5))).toMatchObject({ code: 'unavailable' })
  })

  test('a 200 that is not an image is unavailable', async () => {
    central.modes.failure = 'garbage'
    expect(await upstreamError(load().resolve(MD5))).toMatchObject({ code: 'unavailable' })
  })

  test('an unreachable central service is unavailable', async () => {
    central.stop()
    expect(await upstreamError(load().resolve(MD5))).toMatchObject({ code: 'unavailable' })
  })
})
