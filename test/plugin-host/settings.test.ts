import { describe, expect, test } from 'bun:test'
import { Type } from '@sinclair/typebox'
import facebook from '../../plugins/facebook/index.ts'
import gravatar from '../../plugins/gravatar/index.ts'
import twitter from '../../plugins/twitter/index.ts'
import { loadPluginSettings, PluginSettingsError } from '../../src/plugin-host/settings.ts'

describe('loadPluginSettings: defaults', () => {
  test('with an empty environment every default applies and nothing is trusted', () => {
    expect(loadPluginSettings(facebook, {})).toEqual({
      settings: { graphUrl: 'https://graph.facebook.com', graphVersion: 'v25.0' },
      trustedOrigins: [],
      baseUrls: ['https://graph.facebook.com'],
    })
    expect(loadPluginSettings(twitter, {}).settings).toEqual({ apiUrl: 'https://api.x.com' })
    expect(loadPluginSettings(gravatar, {}).settings).toEqual({ url: 'https://gravatar.com' })
  })

  test('an empty variable counts as unset', () => {
    const loaded = loadPluginSettings(facebook, { HEADSHOT_FACEBOOK_GRAPH_URL: '', HEADSHOT_FACEBOOK_APP_ID: '' })
    expect(loaded.settings).toEqual({ graphUrl: 'https://graph.facebook.com', graphVersion: 'v25.0' })
    expect(loaded.trustedOrigins).toEqual([])
  })
})

describe('loadPluginSettings: explicit values', () => {
  test('each property is read from its own HEADSHOT_ variable', () => {
    const loaded = loadPluginSettings(facebook, {
      HEADSHOT_FACEBOOK_GRAPH_VERSION: 'v26.0',
      HEADSHOT_FACEBOOK_APP_ID: '42',
      HEADSHOT_FACEBOOK_APP_SECRET: 's3cret',
      HEADSHOT_TWITTER_API_URL: 'http://ignored.example', // another plugin's variable
    })
    expect(loaded.settings).toEqual({
      graphUrl: 'https://graph.facebook.com',
      graphVersion: 'v26.0',
      appId: '42',
      appSecret: 's3cret',
    })
  })

  test('an explicitly set base URL is trusted by origin, even on loopback, and normalised without a trailing slash', () => {
    const loaded = loadPluginSettings(twitter, { HEADSHOT_TWITTER_API_URL: 'http://127.0.0.1:8123/x-proxy/' })
    expect(loaded.settings.apiUrl).toBe('http://127.0.0.1:8123/x-proxy')
    expect(loaded.trustedOrigins).toEqual(['http://127.0.0.1:8123'])
    expect(loaded.baseUrls).toEqual(['http://127.0.0.1:8123/x-proxy'])
  })

  test('setting a base URL to its default value still counts as explicit (the operator chose it)', () => {
    expect(loadPluginSettings(gravatar, { HEADSHOT_GRAVATAR_URL: 'https://gravatar.com/' }).trustedOrigins).toEqual([
      'https://gravatar.com',
    ])
  })
})

describe('loadPluginSettings: invalid values fail with the variable named', () => {
  test.each([
    ['not a URL', 'gravatar.com', 'HEADSHOT_GRAVATAR_URL is not a URL'],
    ['another scheme', 'ftp://gravatar.com', 'HEADSHOT_GRAVATAR_URL must use http or https'],
    ['credentials', 'https://user:pw@gravatar.com', 'HEADSHOT_GRAVATAR_URL must not contain credentials'],
    ['a query', 'https://gravatar.com/?s=1', 'HEADSHOT_GRAVATAR_URL must not contain a query or fragment'],
  ])('a base URL with %s', (_case, value, message) => {
    expect(() => loadPluginSettings(gravatar, { HEADSHOT_GRAVATAR_URL: value })).toThrow(message)
  })

  test('a value that breaks the schema names the variable and the rule, not the value', () => {
    let thrown: unknown
    try {
      loadPluginSettings(facebook, { HEADSHOT_FACEBOOK_GRAPH_VERSION: '25' })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(PluginSettingsError)
    expect((thrown as PluginSettingsError).variable).toBe('HEADSHOT_FACEBOOK_GRAPH_VERSION')
    expect((thrown as Error).message).toStartWith('plugin "facebook": invalid HEADSHOT_FACEBOOK_GRAPH_VERSION: ')
  })

  test('a required setting without a default is reported as required', () => {
    const plugin = {
      type: 'needs_key',
      settings: Type.Object({ apiKey: Type.String({ env: 'HEADSHOT_NEEDS_KEY_API_KEY' }) }),
    }
    expect(() => loadPluginSettings(plugin, {})).toThrow('plugin "needs_key": HEADSHOT_NEEDS_KEY_API_KEY is required')
    expect(loadPluginSettings(plugin, { HEADSHOT_NEEDS_KEY_API_KEY: 'k' }).settings).toEqual({ apiKey: 'k' })
  })
})

describe('loadPluginSettings: typed settings for further plugins', () => {
  const plugin = {
    type: 'typed',
    settings: Type.Object({
      pageSize: Type.Integer({ env: 'HEADSHOT_TYPED_PAGE_SIZE', default: 20, minimum: 1 }),
      verbose: Type.Boolean({ env: 'HEADSHOT_TYPED_VERBOSE', default: false }),
    }),
  }

  test('numbers and booleans are converted from text', () => {
    expect(
      loadPluginSettings(plugin, { HEADSHOT_TYPED_PAGE_SIZE: '50', HEADSHOT_TYPED_VERBOSE: 'true' }).settings,
    ).toEqual({ pageSize: 50, verbose: true })
    expect(loadPluginSettings(plugin, { HEADSHOT_TYPED_VERBOSE: '0' }).settings).toEqual({
      pageSize: 20,
      verbose: false,
    })
  })

  test.each([
    ['HEADSHOT_TYPED_PAGE_SIZE', 'many'],
    ['HEADSHOT_TYPED_PAGE_SIZE', '0'],
    ['HEADSHOT_TYPED_PAGE_SIZE', '1.5'],
    ['HEADSHOT_TYPED_VERBOSE', 'maybe'],
  ])('%s=%p is refused, naming the variable', (variable, value) => {
    expect(() => loadPluginSettings(plugin, { [variable]: value })).toThrow(`invalid ${variable}`)
  })
})
