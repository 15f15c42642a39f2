/**
 * The set of delivery types this server knows. Loading a plugin binds its settings (from the
 * environment), its own HTTP client (allowed to reach only its declared hosts and base URLs) and
 * the clock, so callers just do `loaded.parseId(raw)` then `loaded.resolve(id)`.
 */
import { isHostPattern } from '../fetch/client.ts'
import { FetchError, type HttpClient } from '../fetch/types.ts'
import { countingHttpClient } from './call-count.ts'
import { loadPluginSettings } from './settings.ts'
import type { BatchAnswer, Plugin, PluginContext, Resolution, Result } from './types.ts'
import { toUpstreamError } from './upstream.ts'

/** What a plugin's HTTP client may reach. */
export interface HttpClientScope {
  /** The plugin's delivery type (metrics of its upstream requests are labelled with it). */
  network: string
  /** Origins of base URLs the operator set explicitly: reachable even on private addresses. */
  trustedOrigins: string[]
  /** Host names (exact or `*.suffix`) reachable through the SSRF guard; undefined: any public host. */
  allowedHosts: readonly string[] | undefined
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
  /** Undefined when the plugin may reach any public host (`anyPublicHost`). */
  readonly allowedHosts: readonly string[] | undefined
  parseId(raw: string): Result<string>
  /** Throws UpstreamError (transport failures a plugin let through are converted too). */
  resolve(id: string): Promise<Resolution>
  /** Batch lookups, when the plugin has them. */
  readonly resolveMany?: LoadedBatchResolver
}

export interface LoadedBatchResolver {
  /** Most ids one call may carry. */
  readonly max: number
  /**
   * Look up 1..max distinct ids in one upstream call. The map answers every id asked (the plugin's
   * "missing = not_found" already applied) and nothing else. Throws UpstreamError like `resolve`.
   */
  run(ids: string[]): Promise<Map<string, BatchAnswer>>
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

function loadPlugin(
  plugin: Plugin,
  env: Record<string, string | undefined>,
  makeHttp: MakeHttpClient,
  now: () => number,
): LoadedPlugin {
  for (const host of plugin.hosts) {
    if (!isHostPattern(host)) {
      throw new Error(`plugin "${plugin.type}": host "${host}" must be a lower-case host name or *.suffix`)
    }
  }
  const { settings, trustedOrigins, baseUrls } = loadPluginSettings(plugin, env)
  // A default base URL (e.g. https://api.x.com) must be reachable too, but only through the SSRF guard.
  const allowedHosts = plugin.anyPublicHost
    ? undefined
    : [...new Set([...plugin.hosts, ...baseUrls.map((url) => new URL(url).hostname)])]
  // Counting lets a caller (the background re-check) charge what each piece of work really cost.
  const http = countingHttpClient(makeHttp({ network: plugin.type, trustedOrigins, allowedHosts }))
  const context: PluginContext<typeof settings> = { settings, http, now }

  /** The contract says "throw UpstreamError"; a FetchError that slipped through still means "upstream failed". */
  async function upstream<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      if (error instanceof FetchError) throw toUpstreamError(error, plugin.type)
      throw error
    }
  }

  return {
    type: plugin.type,
    plugin,
    settings,
    http,
    trustedOrigins,
    allowedHosts,
    parseId: (raw) => plugin.parseId(raw),
    resolve: (id) => upstream(() => plugin.resolve(id, context)),
    resolveMany: plugin.resolveMany && loadBatchResolver(plugin, context, upstream),
  }
}

function loadBatchResolver(
  plugin: Plugin,
  context: Parameters<Plugin['resolve']>[1],
  upstream: <T>(work: () => Promise<T>) => Promise<T>,
): LoadedBatchResolver {
  const batch = plugin.resolveMany!
  const { max } = batch
  if (!Number.isInteger(max) || max < 1) {
    throw new Error(`plugin "${plugin.type}": resolveMany.max must be a positive integer, got ${max}`)
  }
  return {
    max,
    async run(ids) {
      // Caller bugs, not upstream failures: the plugin would send a request the network refuses.
      if (ids.length === 0 || ids.length > max) {
        throw new Error(`${plugin.type}: a batch holds 1 to ${max} ids, got ${ids.length}`)
      }
      if (new Set(ids).size !== ids.length) throw new Error(`${plugin.type}: duplicate ids in a batch`)
      const answers = await upstream(() => batch.run(ids, context))
      return new Map(ids.map((id) => [id, answers.get(id) ?? { kind: 'not_found' }]))
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
