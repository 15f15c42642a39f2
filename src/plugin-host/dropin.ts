/**
 * Drop-in plugins: `*.ts` / `*.js` files in HEADSHOT_PLUGINS_DIR, loaded at start-up (also by the
 * compiled binary, which imports them by absolute path). Each file default-exports a factory
 * `(host) => plugin | plugin[]` that receives the host API (./host-api.ts): a file cannot import
 * bare packages or host sources from inside the binary.
 *
 * Failure policy: a file that does not import, has the wrong shape, claims a type that is already
 * taken or whose settings are invalid is refused, with a reason naming the file; the others load and
 * the server starts without it. A drop-in is optional by nature: one broken file must not take the
 * built-in networks down with it.
 */
import { KindGuard } from '@sinclair/typebox'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { isHostPattern } from '../fetch/client.ts'
import { pluginHost } from './host-api.ts'
import { loadPluginSettings } from './settings.ts'
import { FetchError } from './upstream.ts'
import { type Plugin, UpstreamError } from './types.ts'

/** Where a loaded plugin came from: `built-in`, or the absolute path of its file. */
export interface SourcedPlugin {
  plugin: Plugin
  source: string
}

export interface RefusedPluginFile {
  file: string
  reason: string
}

export interface DropInResult {
  plugins: SourcedPlugin[]
  refused: RefusedPluginFile[]
}

const TYPE_PATTERN = /^[a-z0-9_]+$/
const PLUGIN_FILE = /^[^.].*\.(?:ts|js|mjs)$/
const DECLARATION = /\.d\.ts$/

/** The plugin files of a folder, sorted (load order is the file names' order). Empty when the folder is absent. */
export function pluginFiles(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return []
  return readdirSync(dir)
    .filter((name) => PLUGIN_FILE.test(name) && !DECLARATION.test(name))
    .sort()
    .map((name) => join(resolve(dir), name))
}

/** Why a value is not a plugin, or undefined when it has the shape the host expects. */
export function shapeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null)
    return 'the factory must return a plugin object (or an array of them)'
  const plugin = value as Record<string, unknown>
  if (typeof plugin.type !== 'string' || !TYPE_PATTERN.test(plugin.type)) {
    return `type must be a string matching ${TYPE_PATTERN.source} (got ${JSON.stringify(plugin.type)})`
  }
  if (!KindGuard.IsObject(plugin.settings)) return 'settings must be a TypeBox object (host.Type.Object({...}))'
  if (!Array.isArray(plugin.hosts)) return 'hosts must be an array of host names'
  for (const host of plugin.hosts) {
    if (typeof host !== 'string' || !isHostPattern(host)) {
      return `host ${JSON.stringify(host)} must be a lower-case host name or *.suffix`
    }
  }
  const id = plugin.id as Record<string, unknown> | undefined
  if (typeof id !== 'object' || id === null || typeof id.syntax !== 'string' || typeof id.example !== 'string') {
    return 'id must be { syntax: string, example: string }'
  }
  if (plugin.restrictedByDefault !== undefined && typeof plugin.restrictedByDefault !== 'boolean') {
    return 'restrictedByDefault must be true or false'
  }
  if (typeof plugin.parseId !== 'function') return 'parseId must be a function'
  if (typeof plugin.resolve !== 'function') return 'resolve must be a function'
  if (plugin.resolveMany !== undefined) {
    const batch = plugin.resolveMany as Record<string, unknown> | null
    if (typeof batch?.run !== 'function' || !Number.isInteger(batch.max) || (batch.max as number) < 1) {
      return 'resolveMany must be { max: positive integer, run: function }'
    }
  }
  return undefined
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * Import every plugin file of `dir` and keep the ones that would load: right shape, a type not in
 * `taken` (nor claimed by an earlier file), settings valid in `env`. Never throws for a bad file.
 */
export async function loadDropInPlugins(
  dir: string,
  taken: Iterable<string>,
  env: Record<string, string | undefined>,
): Promise<DropInResult> {
  const types = new Set(taken)
  const result: DropInResult = { plugins: [], refused: [] }
  for (const file of pluginFiles(dir)) {
    const refuse = (reason: string) => result.refused.push({ file, reason })
    let exported: unknown
    try {
      // An absolute path: a relative one would resolve against the binary's virtual root.
      exported = ((await import(file)) as { default?: unknown }).default
    } catch (error) {
      refuse(`does not import: ${describe(error)}`)
      continue
    }
    if (typeof exported !== 'function') {
      refuse('must default-export a factory: export default (host) => plugin')
      continue
    }
    let made: unknown
    try {
      made = exported(pluginHost)
    } catch (error) {
      refuse(`the factory threw: ${describe(error)}`)
      continue
    }
    const candidates = Array.isArray(made) ? made : [made]
    if (candidates.length === 0) {
      refuse('the factory returned no plugin')
      continue
    }
    // A file is one unit: if any of its plugins is refused, none of them loads.
    const problems: string[] = []
    const fileTypes = new Set<string>()
    for (const candidate of candidates) {
      const problem = shapeProblem(candidate)
      if (problem) {
        problems.push(problem)
        continue
      }
      const plugin = candidate as Plugin
      if (types.has(plugin.type) || fileTypes.has(plugin.type)) {
        problems.push(`type "${plugin.type}" is already taken by another plugin`)
        continue
      }
      fileTypes.add(plugin.type)
      try {
        loadPluginSettings(plugin, env)
      } catch (error) {
        problems.push(describe(error))
      }
    }
    if (problems.length > 0) {
      refuse(problems.join('; '))
      continue
    }
    for (const candidate of candidates as Plugin[]) {
      types.add(candidate.type)
      result.plugins.push({ plugin: guarded(candidate), source: file })
    }
  }
  return result
}

/**
 * The host cannot tell a drop-in's bug from an upstream quirk it did not expect, so whatever such a
 * plugin throws at run time is an upstream failure (502 + X-Cld-Error naming the type), never a 500;
 * a parseId that throws refuses the id (400). FetchErrors go on to the registry, which maps them.
 */
function guarded(plugin: Plugin): Plugin {
  const asUpstream = (error: unknown): unknown =>
    error instanceof UpstreamError || error instanceof FetchError
      ? error
      : new UpstreamError('unavailable', `${plugin.type}: plugin error: ${describe(error)}`)
  const batch = plugin.resolveMany
  return {
    ...plugin,
    parseId(raw) {
      try {
        return plugin.parseId(raw)
      } catch (error) {
        return { ok: false, error: `${plugin.type} could not read this id: ${describe(error)}` }
      }
    },
    async resolve(id, ctx) {
      try {
        return await plugin.resolve(id, ctx)
      } catch (error) {
        throw asUpstream(error)
      }
    },
    resolveMany: batch && {
      max: batch.max,
      async run(ids, ctx) {
        try {
          return await batch.run(ids, ctx)
        } catch (error) {
          throw asUpstream(error)
        }
      },
    },
  }
}

/** The line an operator sees for a refused file. */
export function refusedLine(refused: RefusedPluginFile): string {
  return `plugin file ${refused.file} refused: ${refused.reason}`
}
