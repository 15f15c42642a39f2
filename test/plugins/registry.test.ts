import { describe, expect, test } from 'bun:test'
import { Type } from '@sinclair/typebox'
import { builtinPlugins } from '../../plugins/index.ts'
import { FetchError, type HttpClient } from '../../src/fetch/types.ts'
import { createPluginRegistry, type HttpClientScope } from '../../src/plugins/registry.ts'
import { definePlugin, err, ok, UpstreamError, type PluginContext } from '../../src/plugins/types.ts'
import { PluginSettingsError } from '../../src/plugins/settings.ts'

const unusedHttp: HttpClient = {
  request: () => Promise.reject(new Error('no network in this test')),
  getImage: () => Promise.reject(new Error('no network in this test')),
}

/** A minimal plugin that records the context it was given and fails the way it is told. */
function probePlugin(type: string, behaviour: { fail?: unknown } = {}) {
  const seen: Array<PluginContext<{ url: string }>> = []
  const plugin = definePlugin({
    type,
    settings: Type.Object({ url: Type.String({ env: `HEADSHOT_${type.toUpperCase()}_URL`, default: `https://api.${type}.example`, baseUrl: true }) }),
    hosts: [`cdn.${type}.example`, `*.img.${type}.example`],
    parseId: (raw) => (raw === 'bad' ? err('bad id') : ok(raw.toLowerCase())),
    async resolve(id, ctx) {
      seen.push(ctx)
      if (behaviour.fail !== undefined) throw behaviour.fail
      return { kind: 'image', url: `https://cdn.${type}.example/${id}.jpg` }
    },
  })
  return { plugin, seen }
}

describe('createPluginRegistry', () => {
  test('registers the built-in networks by type, in order', () => {
    const registry = createPluginRegistry(builtinPlugins, {}, () => unusedHttp)
    expect(registry.types()).toEqual(['facebook', 'twitter', 'twitter_name', 'gravatar'])
    expect(registry.get('twitter_name')?.type).toBe('twitter_name')
  })

  test('an unknown type (including Object.prototype names) is undefined', () => {
    const registry = createPluginRegistry(builtinPlugins, {}, () => unusedHttp)
    for (const type of ['instagram', '__proto__', 'constructor', 'toString', '']) expect(registry.get(type)).toBeUndefined()
  })

  test('two plugins with the same type are refused', () => {
    expect(() => createPluginRegistry([probePlugin('dup').plugin, probePlugin('dup').plugin], {}, () => unusedHttp)).toThrow(
      'two plugins declare the delivery type "dup"',
    )
  })

  test('a type outside [a-z0-9_]+ or a malformed host pattern is refused', () => {
    expect(() => createPluginRegistry([probePlugin('Bad-Type').plugin], {}, () => unusedHttp)).toThrow('must match')
    const badHosts = { ...probePlugin('ok').plugin, hosts: ['https://cdn.example'] }
    expect(() => createPluginRegistry([badHosts], {}, () => unusedHttp)).toThrow('host "https://cdn.example"')
  })

  test('an invalid setting stops start-up with the variable named', () => {
    expect(() => createPluginRegistry(builtinPlugins, { HEADSHOT_TWITTER_API_URL: 'api.x.com' }, () => unusedHttp)).toThrow(PluginSettingsError)
  })
})

describe('a loaded plugin', () => {
  test('gets its own HTTP client, scoped to its hosts, its default base URL host, and explicitly set origins only', () => {
    const scopes: HttpClientScope[] = []
    const registry = createPluginRegistry(
      [probePlugin('alpha').plugin, probePlugin('beta').plugin],
      { HEADSHOT_BETA_URL: 'http://127.0.0.1:9999/beta' },
      (scope) => {
        scopes.push(scope)
        return unusedHttp
      },
    )
    expect(scopes).toEqual([
      { trustedOrigins: [], allowedHosts: ['cdn.alpha.example', '*.img.alpha.example', 'api.alpha.example'] },
      { trustedOrigins: ['http://127.0.0.1:9999'], allowedHosts: ['cdn.beta.example', '*.img.beta.example', '127.0.0.1'] },
    ])
    expect(registry.get('beta')!.trustedOrigins).toEqual(['http://127.0.0.1:9999'])
  })

  test('binds settings, its client and the clock, so callers only pass the id', async () => {
    const { plugin, seen } = probePlugin('gamma')
    const http = { ...unusedHttp }
    const loaded = createPluginRegistry([plugin], { HEADSHOT_GAMMA_URL: 'http://10.0.0.7' }, () => http, { now: () => 1234 }).get('gamma')!

    expect(loaded.parseId('ABC')).toEqual(ok('abc'))
    expect(loaded.parseId('bad')).toEqual(err('bad id'))
    expect(await loaded.resolve('abc')).toEqual({ kind: 'image', url: 'https://cdn.gamma.example/abc.jpg' })
    expect(seen[0]!.settings).toEqual({ url: 'http://10.0.0.7' })
    expect(seen[0]!.http).toBe(http)
    expect(seen[0]!.now()).toBe(1234)
    expect(loaded.http).toBe(http)
    expect(loaded.settings).toEqual({ url: 'http://10.0.0.7' })
  })

  test('a FetchError a plugin let through becomes an UpstreamError (timeout stays timeout)', async () => {
    const network = createPluginRegistry([probePlugin('net', { fail: new FetchError('network', 'connection refused') }).plugin], {}, () => unusedHttp)
    await expect(network.get('net')!.resolve('x')).rejects.toMatchObject({ name: 'UpstreamError', code: 'unavailable' })
    const slow = createPluginRegistry([probePlugin('slow', { fail: new FetchError('timeout', 'too slow') }).plugin], {}, () => unusedHttp)
    await expect(slow.get('slow')!.resolve('x')).rejects.toMatchObject({ name: 'UpstreamError', code: 'timeout' })
  })

  test('UpstreamErrors and plugin bugs pass through unchanged', async () => {
    const limited = new UpstreamError('rate_limited', 'slow down', 99)
    const registry = createPluginRegistry(
      [probePlugin('limited', { fail: limited }).plugin, probePlugin('buggy', { fail: new TypeError('oops') }).plugin],
      {},
      () => unusedHttp,
    )
    await expect(registry.get('limited')!.resolve('x')).rejects.toBe(limited)
    await expect(registry.get('buggy')!.resolve('x')).rejects.toBeInstanceOf(TypeError)
  })
})
