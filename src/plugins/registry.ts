/**
 * The set of delivery types this server knows. Loading a plugin binds its settings (from the
 * environment), its own HTTP client (allowed to reach only its declared hosts and base URLs) and
 * the clock, so callers just do `loaded.parseId(raw)` then `loaded.resolve(id)`.
 */
import { FetchError, type HttpClient } from '../fetch/types.ts'
import { loadPluginSettings } from './settings.ts'
import type { Plugin, PluginContext, Resolution, Result } from './types.ts'
import { toUpstreamError } from './upstream.ts'

/** What a plugin's HTTP client may reach. */
export interface HttpClientScope {
  /** Origins of base URLs the operator set explicitly: reachable even on private addresses. */
  trustedOrigins: string[]
  /** Host names (exact or `*.suffix`) reachable through the SSRF guard. */
  allowedHosts: readonly string[]
}

export type MakeHttpClient = (scope: HttpClientScope) => HttpClient

export interface LoadedPlugin {
  readonly type: string
  readonly plugin: Plugin
  /** Validated settings (defaults applied). */
  readonly settings: Readonly<Record<string, unknown>>
  /** This plugin's client: use it to download what `resolve` pointed at. */
  readonly http: HttpClient
  readonly trustedOrigins: readonly string[]
  readonly allowedHosts: readonly string[]
  parseId(raw: string): Result<string>
  /** Throws UpstreamError (transport failures a plugin let through are converted too). */
  resolve(id: string): Promise<Resolution>
}

export interface PluginRegistry {
  get(type: string): LoadedPlugin | undefined
  /** Registered delivery types, in registration order. */
  types(): string[]
}

export interface PluginRegistryOptions {
  /** Clock handed to plugins (ms since epoch). Default Date.now. */
  now?: () => number
}

const TYPE_PATTERN = /^[a-z0-9_]+$/
const HOST_PATTERN = /^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$/

function loadPlugin(
  plugin: Plugin,
  env: Record<string, string | undefined>,
  makeHttp: MakeHttpClient,
  now: () => number,
): LoadedPlugin {
  for (const host of plugin.hosts) {
    if (!HOST_PATTERN.test(host)) {
      throw new Error(`plugin "${plugin.type}": host "${host}" must be a lower-case host name or *.suffix`)
    }
  }
  const { settings, trustedOrigins, baseUrls } = loadPluginSettings(plugin, env)
  // A default base URL (e.g. https://api.x.com) must be reachable too, but only through the SSRF guard.
  const allowedHosts = [...new Set([...plugin.hosts, ...baseUrls.map((url) => new URL(url).hostname)])]
  const http = makeHttp({ trustedOrigins, allowedHosts })
  const context: PluginContext<typeof settings> = { settings, http, now }

  return {
    type: plugin.type,
    plugin,
    settings,
    http,
    trustedOrigins,
    allowedHosts,
    parseId: (raw) => plugin.parseId(raw),
    async resolve(id) {
      try {
        return await plugin.resolve(id, context)
      } catch (error) {
        // The contract says "throw UpstreamError"; a FetchError that slipped through still means "upstream failed".
        if (error instanceof FetchError) throw toUpstreamError(error, plugin.type)
        throw error
      }
    },
  }
}

/**
 * Load every plugin (settings errors surface here, at start-up, naming the variable).
 * Two plugins with the same type are a configuration error, not a silent override.
 */
export function createPluginRegistry(
  plugins: readonly Plugin[],
  env: Record<string, string | undefined>,
  makeHttp: MakeHttpClient,
  options: PluginRegistryOptions = {},
): PluginRegistry {
  const now = options.now ?? Date.now
  const loaded = new Map<string, LoadedPlugin>()
  for (const plugin of plugins) {
    if (!TYPE_PATTERN.test(plugin.type)) {
      throw new Error(`plugin type "${plugin.type}" must match ${TYPE_PATTERN.source}`)
    }
    if (loaded.has(plugin.type)) throw new Error(`two plugins declare the delivery type "${plugin.type}"`)
    loaded.set(plugin.type, loadPlugin(plugin, env, makeHttp, now))
  }
  return {
    get: (type) => loaded.get(type),
    types: () => [...loaded.keys()],
  }
}
