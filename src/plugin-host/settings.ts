/**
 * Plugin settings from the environment. A plugin's TypeBox schema is the whole declaration:
 * each property names its variable (`env: 'HEADSHOT_…'`), carries its `default`, and base URLs
 * say `baseUrl: true`. Only a base URL the operator set explicitly is trusted (it may point at a
 * private or loopback address); a default never is, it has to pass the SSRF guard like any host.
 */
import type { Static, TObject, TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

export interface LoadedPluginSettings<S> {
  settings: S
  /** Origins (`scheme://host[:port]`) of base URLs that were set explicitly in the environment. */
  trustedOrigins: string[]
  /** Every effective base URL, explicit or default (the registry allows their hosts). */
  baseUrls: string[]
}

/** A setting the operator got wrong; the message names the environment variable. */
export class PluginSettingsError extends Error {
  constructor(
    readonly pluginType: string,
    /** The environment variable (or, for a property without one, the setting's name). */
    readonly variable: string,
    message: string,
  ) {
    super(`plugin "${pluginType}": ${message}`)
    this.name = 'PluginSettingsError'
  }
}

/** The extra schema options headshot reads on a settings property. */
interface SettingAnnotations {
  env?: unknown
  baseUrl?: unknown
  default?: unknown
  type?: unknown
}

function annotationsOf(schema: TSchema): SettingAnnotations {
  return schema as SettingAnnotations
}

/** Environment variables are text; turn them into what the property's schema expects. */
function coerce(raw: string, schema: TSchema): unknown {
  switch (annotationsOf(schema).type) {
    case 'integer':
    case 'number': {
      const number = Number(raw.trim())
      return raw.trim() === '' || Number.isNaN(number) ? raw : number
    }
    case 'boolean': {
      const text = raw.trim().toLowerCase()
      if (['true', '1', 'yes', 'on'].includes(text)) return true
      if (['false', '0', 'no', 'off'].includes(text)) return false
      return raw
    }
    default:
      return raw
  }
}

/**
 * A base URL in canonical form (no trailing slash, so plugins can append `/path`), or an error text.
 * Credentials, queries and fragments are refused: they would be silently dropped or leak into logs.
 */
function normaliseBaseUrl(value: string): string | { error: string } {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return { error: 'is not a URL' }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { error: 'must use http or https' }
  if (url.username !== '' || url.password !== '') return { error: 'must not contain credentials' }
  if (url.search !== '' || url.hash !== '') return { error: 'must not contain a query or fragment' }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}

/**
 * Read a plugin's settings from `env`. Empty variables count as unset (a common artefact of
 * `VAR=` in compose files). Throws PluginSettingsError naming the variable on any invalid value.
 */
export function loadPluginSettings<S extends TObject>(
  plugin: { readonly type: string; readonly settings: S },
  env: Record<string, string | undefined>,
): LoadedPluginSettings<Static<S>> {
  const values: Record<string, unknown> = {}
  const variableOf = new Map<string, string>()
  const trustedOrigins: string[] = []
  const baseUrls: string[] = []

  for (const [name, schema] of Object.entries(plugin.settings.properties)) {
    const { env: envName, baseUrl, default: fallback } = annotationsOf(schema)
    const variable = typeof envName === 'string' ? envName : name
    variableOf.set(name, variable)

    const raw = typeof envName === 'string' ? env[envName] : undefined
    const explicit = raw !== undefined && raw !== ''
    let value: unknown = explicit ? coerce(raw, schema) : structuredClone(fallback)
    if (value === undefined) continue

    if (baseUrl === true) {
      if (typeof value !== 'string') {
        throw new PluginSettingsError(plugin.type, variable, `${variable} must be a URL`)
      }
      const normalised = normaliseBaseUrl(value)
      if (typeof normalised !== 'string') {
        throw new PluginSettingsError(plugin.type, variable, `${variable} ${normalised.error} (got "${value}")`)
      }
      value = normalised
      baseUrls.push(normalised)
      if (explicit) trustedOrigins.push(new URL(normalised).origin)
    }
    values[name] = value
  }

  if (!Value.Check(plugin.settings, values)) {
    const first = Value.Errors(plugin.settings, values).First()
    const name = first?.path.split('/')[1] ?? ''
    const variable = variableOf.get(name) ?? (name || 'settings')
    if (name !== '' && values[name] === undefined) {
      throw new PluginSettingsError(plugin.type, variable, `${variable} is required`)
    }
    // The value itself is left out on purpose: it may be a secret.
    const reason = first?.message ?? 'is invalid'
    throw new PluginSettingsError(plugin.type, variable, `invalid ${variable}: ${reason}`)
  }
  return { settings: values as Static<S>, trustedOrigins: [...new Set(trustedOrigins)], baseUrls }
}

/** Setting names (and variables) that say they hold a credential. */
const SECRET_SETTING = /secret|token|key|password/i

/** Does this setting hold a credential? (`headshot plugins` masks it; the log never writes its value.) */
export function isSecretSetting(name: string, variable: string): boolean {
  return SECRET_SETTING.test(name) || SECRET_SETTING.test(variable.replace(/^HEADSHOT_/, ''))
}

/** The values of a plugin's credential settings, as loaded. */
export function secretSettingValues(
  plugin: { readonly settings: TObject },
  settings: Readonly<Record<string, unknown>>,
): string[] {
  const values: string[] = []
  for (const [name, schema] of Object.entries(plugin.settings.properties)) {
    const { env } = annotationsOf(schema)
    const value = settings[name]
    if (typeof value === 'string' && isSecretSetting(name, typeof env === 'string' ? env : name)) values.push(value)
  }
  return values
}
