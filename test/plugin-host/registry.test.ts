import { describe, expect, test } from 'bun:test'
import { Type } from '@sinclair/typebox'
import { builtinPlugins } from '../../plugins/index.ts'
import { FetchError, type HttpClient } from '../../src/fetch/types.ts'
import { createPluginRegistry, type HttpClientScope } from '../../src/plugin-host/registry.ts'
import {
  definePlugin,
  err,
  ok,
  UpstreamError,
  type BatchAnswer,
  type PluginContext,
} from '../../src/plugin-host/types.ts'
import { countUpstreamCalls } from '../../src/plugin-host/call-count.ts'
import { PluginSettingsError } from '../../src/plugin-host/settings.ts'

const unusedHttp: HttpClient = {
  request: () => Promise.reject(new Error('no network in this test')),
  getImage: () => Promise.reject(new Error('no network in this test')),
}

/** A minimal plugin that records the context it was given and fails the way it is told. */
function probePlugin(type: string, behaviour: { fail?: unknown } = {}) {
  const seen: Array<PluginContext<{ url: string }>> = []
  const plugin = definePlugin({
    id: { syntax: 'a test id', example: 'x' },
    type,
    settings: Type.Object({
      url: Type.String({
        env: `HEADSHOT_${type.toUpperCase()}_URL`,
        default: `https://api.${type}.example`,
        baseUrl: true,
      }),
    }),
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
    // The original four first, in order; networks added later follow them.
    expect(registry.types().slice(0, 4)).toEqual(['facebook', 'twitter', 'twitter_name', 'gravatar'])
    expect(registry.get('twitter_name')?.type).toBe('twitter_name')
  })

  test('an unknown type (including Object.prototype names) is undefined', () => {
    const registry = createPluginRegistry(builtinPlugins, {}, () => unusedHttp)
    for (const type of ['instagram', '__proto__', 'constructor', 'toString', ''])
      expect(registry.get(type)).toBeUndefined()
  })

  test('two plugins with the same type are refused', () => {
    expect(() =>
      createPluginRegistry([probePlugin('dup').plugin, probePlugin('dup').plugin], {}, () => unusedHttp),
    ).toThrow('two plugins declare the delivery type "dup"')
  })

  test('a type outside [a-z0-9_]+ or a malformed host pattern is refused', () => {
    expect(() => createPluginRegistry([probePlugin('Bad-Type').plugin], {}, () => unusedHttp)).toThrow('must match')
    const badHosts = { ...probePlugin('ok').plugin, hosts: ['https://cdn.example'] }
    expect(() => createPluginRegistry([badHosts], {}, () => unusedHttp)).toThrow('host "https://cdn.example"')
  })

  test('an invalid setting stops start-up with the variable named', () => {
    expect(() =>
      createPluginRegistry(builtinPlugins, { HEADSHOT_TWITTER_API_URL: 'api.x.com' }, () => unusedHttp),
    ).toThrow(PluginSettingsError)
  })
})

describe('a loaded plugin', () => {
  test('gets its own HTTP client, named after it, scoped to its hosts, its default base URL host, and explicitly set origins only', () => {
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
      {
        network: 'alpha',
        trustedOrigins: [],
        allowedHosts: ['cdn.alpha.example', '*.img.alpha.example', 'api.alpha.example'],
      },
      {
        network: 'beta',
        trustedOrigins: ['http://127.0.0.1:9999'],
        allowedHosts: ['cdn.beta.example', '*.img.beta.example', '127.0.0.1'],
      },
    ])
    expect(registry.get('beta')!.trustedOrigins).toEqual(['http://127.0.0.1:9999'])
  })

  test('binds settings, its client and the clock, so callers only pass the id', async () => {
    const { plugin, seen } = probePlugin('gamma')
    const asked: string[] = []
    const http: HttpClient = {
      request: async (url) => {
        asked.push(url)
        throw new FetchError('network', 'offline')
      },
      getImage: unusedHttp.getImage,
    }
    const loaded = createPluginRegistry([plugin], { HEADSHOT_GAMMA_URL: 'http://10.0.0.7' }, () => http, {
      now: () => 1234,
    }).get('gamma')!

    expect(loaded.parseId('ABC')).toEqual(ok('abc'))
    expect(loaded.parseId('bad')).toEqual(err('bad id'))
    expect(await loaded.resolve('abc')).toEqual({ kind: 'image', url: 'https://cdn.gamma.example/abc.jpg' })
    expect(seen[0]!.settings).toEqual({ url: 'http://10.0.0.7' })
    expect(seen[0]!.now()).toBe(1234)
    // The plugin and its callers share one client, which forwards to the one made for this plugin's scope.
    expect(seen[0]!.http).toBe(loaded.http)
    await loaded.http.request('http://10.0.0.7/x').catch(() => {})
    expect(asked).toEqual(['http://10.0.0.7/x'])
    expect(loaded.settings).toEqual({ url: 'http://10.0.0.7' })
  })

  test('a FetchError a plugin let through becomes an UpstreamError (timeout stays timeout)', async () => {
    const network = createPluginRegistry(
      [probePlugin('net', { fail: new FetchError('network', 'connection refused') }).plugin],
      {},
      () => unusedHttp,
    )
    await expect(network.get('net')!.resolve('x')).rejects.toMatchObject({ name: 'UpstreamError', code: 'unavailable' })
    const slow = createPluginRegistry(
      [probePlugin('slow', { fail: new FetchError('timeout', 'too slow') }).plugin],
      {},
      () => unusedHttp,
    )
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

describe('batch lookups (resolveMany)', () => {
  function batchPlugin(type: string, run: (ids: string[]) => Promise<Map<string, BatchAnswer>>, max = 3) {
    return definePlugin({
      ...probePlugin(type).plugin,
      resolveMany: { max, run: (ids) => run(ids) },
    })
  }

  test('a plugin without resolveMany has none once loaded', () => {
    const loaded = createPluginRegistry([probePlugin('single').plugin], {}, () => unusedHttp).get('single')!
    expect(loaded.resolveMany).toBeUndefined()
  })

  test('every id asked gets an answer: ids the plugin left out are not_found, extra ones are dropped', async () => {
    const failure = new UpstreamError('unavailable', 'odd answer for b')
    const loaded = createPluginRegistry(
      [
        batchPlugin(
          'many',
          async () =>
            new Map<string, BatchAnswer>([
              ['a', { kind: 'none' }],
              ['b', failure],
              ['zz', { kind: 'none' }],
            ]),
        ),
      ],
      {},
      () => unusedHttp,
    ).get('many')!
    expect(loaded.resolveMany!.max).toBe(3)
    expect(await loaded.resolveMany!.run(['a', 'b', 'c'])).toEqual(
      new Map<string, BatchAnswer>([
        ['a', { kind: 'none' }],
        ['b', failure],
        ['c', { kind: 'not_found' }],
      ]),
    )
  })

  test("more ids than max, none, or duplicates are the caller's bug and never reach the plugin", async () => {
    let calls = 0
    const counting = batchPlugin('strict', async () => (calls++, new Map()))
    const loaded = createPluginRegistry([counting], {}, () => unusedHttp).get('strict')!
    for (const ids of [[], ['a', 'b', 'c', 'd'], ['a', 'a']]) {
      await expect(loaded.resolveMany!.run(ids)).rejects.toThrow('strict:')
    }
    expect(calls).toBe(0)
  })

  test('a FetchError it let through becomes an UpstreamError, as with resolve', async () => {
    const loaded = createPluginRegistry(
      [batchPlugin('leaky', () => Promise.reject(new FetchError('timeout', 'too slow')))],
      {},
      () => unusedHttp,
    ).get('leaky')!
    await expect(loaded.resolveMany!.run(['a'])).rejects.toMatchObject({ name: 'UpstreamError', code: 'timeout' })
  })

  test('max must be a positive integer', () => {
    expect(() => createPluginRegistry([batchPlugin('zero', async () => new Map(), 0)], {}, () => unusedHttp)).toThrow(
      'resolveMany.max must be a positive integer',
    )
  })
})

describe('counting upstream calls', () => {
  const answering: HttpClient = {
    request: async (url) => ({
      status: 200,
      headers: new Headers(),
      url,
      body: new Uint8Array(),
      text: () => '',
      json: <T>() => ({}) as T,
    }),
    getImage: () => Promise.reject(new FetchError('http_status', 'gone', 404)),
  }

  test('work run through countUpstreamCalls sees the requests it started, even when it fails', async () => {
    const http = createPluginRegistry([probePlugin('counted').plugin], {}, () => answering).get('counted')!.http
    const ok = await countUpstreamCalls(async () => {
      await http.request('https://api.counted.example/1')
      await http.request('https://api.counted.example/2')
      return 'done'
    })
    expect(ok).toEqual({ ok: true, value: 'done', calls: 2 })
    const failed = await countUpstreamCalls(() => http.getImage('https://cdn.counted.example/1.jpg'))
    expect(failed).toMatchObject({ ok: false, calls: 1 })
  })

  test('requests made by other work at the same time are not counted', async () => {
    const http = createPluginRegistry([probePlugin('shared').plugin], {}, () => answering).get('shared')!.http
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const counted = countUpstreamCalls(async () => {
      await http.request('https://api.shared.example/mine')
      await gate
    })
    const other = () => http.request('https://api.shared.example/other')
    await Promise.all([other(), other()])
    release()
    expect((await counted).calls).toBe(1)
  })
})
