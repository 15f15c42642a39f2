/**
 * The README's list of networks, generated from what each plugin declares (type, id syntax and
 * example, whether URLs must be signed, which variables carry credentials), so the list cannot
 * drift from the code: a test compares the README with this table.
 */
import type { TSchema } from '@sinclair/typebox'
import type { Plugin } from './types.ts'

/** Setting names that hold credentials rather than addresses or switches. */
const CREDENTIAL = /(secret|token|key|password|app_?id)/i

export function networkTable(plugins: readonly Plugin[]): string {
  const rows = plugins.map((plugin) => {
    const settings = Object.entries(plugin.settings.properties as Record<string, TSchema>)
    const credentials = settings
      .filter(([name, schema]) => CREDENTIAL.test(name) && typeof schema.env === 'string')
      .map(([, schema]) => `\`${schema.env}\``)
    const example = `\`/image/${plugin.type}/c_fill,w_80,h_80/${plugin.id.example}.jpg\``
    const signed = plugin.restrictedByDefault ? 'yes' : 'no'
    return `| \`${plugin.type}\` | ${plugin.id.syntax} | ${example} | ${signed} | ${credentials.join(', ') || 'none'} |`
  })
  return ['| type | id | example | signed URLs by default | credentials |', '|---|---|---|---|---|', ...rows].join('\n')
}
