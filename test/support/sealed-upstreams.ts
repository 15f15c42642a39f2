/**
 * Keeps a whole headshot off the internet for adversarial tests and benches: every plugin base URL
 * that no fake claims points at one loopback "black hole" (404 unless told otherwise), and
 * host names are never resolved (the SSRF guard's resolver is replaced), so an id naming a server
 * (Mastodon `user@host`, Libravatar `hash@domain`) cannot make the process reach out either.
 */
import type { TObject } from '@sinclair/typebox'
import { builtinPlugins } from '../../plugins/index.ts'
import { createLibravatarPlugin } from '../../plugins/libravatar/index.ts'
import type { Plugin } from '../../src/plugin-host/types.ts'
import { serveFake, type FakeServer } from './fakes/server.ts'

export interface SealedUpstreams {
  /** Every built-in network, Libravatar's DNS SRV discovery answering "no record". */
  plugins: readonly Plugin[]
  /** Base URL variables of the plugins, each set to the black hole unless `claimed` sets it. */
  env: Record<string, string>
  /** The resolver to pass as `createApp`'s `resolve`: refuses every name, remembering it. */
  resolve: (hostname: string) => Promise<string[]>
  /** Names something tried to resolve. */
  resolved: string[]
  blackHole: FakeServer
  stop(): void
}

/** The environment variables of plugin settings marked `baseUrl: true`. */
export function baseUrlVariables(plugins: readonly Plugin[]): string[] {
  const names: string[] = []
  for (const plugin of plugins) {
    const schema = plugin.settings as TObject
    for (const property of Object.values(schema.properties ?? {})) {
      const { env, baseUrl } = property as { env?: unknown; baseUrl?: unknown }
      if (baseUrl === true && typeof env === 'string') names.push(env)
    }
  }
  return names
}

/**
 * `claimed`: base URL variables set by real fakes. `answer`: what the black hole says instead of a
 * 404 (e.g. an HTML page where an image should be, to see upstream errors redacted).
 */
export function sealUpstreams(
  claimed: Record<string, string> = {},
  answer: (url: URL) => Response | undefined = () => undefined,
): SealedUpstreams {
  const plugins = builtinPlugins.map((plugin) =>
    plugin.type === 'libravatar' ? createLibravatarPlugin({ resolveSrv: async () => [] }) : plugin,
  )
  const blackHole = serveFake((_, url) => ({
    route: 'black-hole',
    response: answer(url) ?? new Response('Not Found', { status: 404 }),
  }))
  const env: Record<string, string> = {}
  for (const name of baseUrlVariables(plugins)) env[name] = claimed[name] ?? blackHole.url
  const resolved: string[] = []
  return {
    plugins,
    env: { ...env, ...claimed },
    resolved,
    async resolve(hostname) {
      resolved.push(hostname)
      throw new Error(`name resolution is sealed in this test (${hostname})`)
    },
    blackHole,
    stop: () => blackHole.stop(),
  }
}
