/**
 * Load one plugin the way the server does (settings from an env record, its own scoped HTTP
 * SSRF-safe client: the fakes' loopback base URLs are trusted because the env names them), and
 * download what it resolved to, as ingest does.
 */
import type { FetchedImage } from '../../src/fetch/types.ts'
import { FetchError } from '../../src/fetch/types.ts'
import { createPluginRegistry, type LoadedPlugin } from '../../src/plugin-host/registry.ts'
import { UpstreamError, type Plugin, type Resolution } from '../../src/plugin-host/types.ts'
import { createHttpClient } from '../../src/fetch/client.ts'

export function loadPlugin(
  plugin: Plugin,
  env: Record<string, string | undefined>,
  options: { now?: () => number } = {},
): LoadedPlugin {
  const loaded = createPluginRegistry([plugin], env, (scope) => createHttpClient(scope), options).get(plugin.type)
  if (!loaded) throw new Error(`plugin ${plugin.type} did not load`)
  return loaded
}

/** The picture a resolution points at: the URL, then each alternate while the previous one is 404/410. */
export async function download(loaded: LoadedPlugin, resolution: Resolution): Promise<FetchedImage> {
  if (resolution.kind === 'fetched') return resolution.image
  if (resolution.kind !== 'image') throw new Error(`nothing to download: ${resolution.kind}`)
  let lastError: unknown
  for (const url of [resolution.url, ...(resolution.alternates ?? [])]) {
    try {
      return await loaded.http.getImage(url, { headers: resolution.headers })
    } catch (error) {
      if (
        error instanceof FetchError &&
        error.code === 'http_status' &&
        (error.status === 404 || error.status === 410)
      ) {
        lastError = error
        continue
      }
      throw error
    }
  }
  throw lastError
}

/** The UpstreamError a plugin call fails with (anything else fails the test). */
export async function upstreamError(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof UpstreamError) return error
    throw error
  }
  throw new Error('expected an UpstreamError')
}
