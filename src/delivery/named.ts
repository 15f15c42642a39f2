/**
 * Named transformations (`t_<name>`) from HEADSHOT_TRANSFORMATIONS_FILE: a JSON object
 * `{"avatar": "c_thumb,g_face,w_150,h_150/r_max"}`, validated on load (shape and every definition)
 * and reloaded on SIGHUP.
 * A bad file at reload keeps the previous set (and says why) rather than breaking delivery.
 */
import { Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { readFileSync } from 'node:fs'
import { validateNamed } from '../url/named.ts'

export const NamedTransformationsSchema = Type.Record(
  Type.String({ pattern: '^[A-Za-z0-9_-]+$' }),
  Type.String({ minLength: 1, maxLength: 1024 }),
)

export interface NamedTransformations {
  get(name: string): string | undefined
  /** Re-read the file; returns an error message and keeps the old set when the file is invalid. */
  reload(): string | undefined
  readonly size: number
}

export function parseNamedTransformations(text: string): Map<string, string> {
  const parsed: unknown = JSON.parse(text)
  if (!Value.Check(NamedTransformationsSchema, parsed)) {
    const first = Value.Errors(NamedTransformationsSchema, parsed).First()
    throw new Error(`invalid named transformations: ${first?.path || '/'} ${first?.message ?? ''}`.trim())
  }
  const definitions = new Map(Object.entries(parsed))
  // Each definition is expanded as a request would expand it (syntax, nested names, cycles,
  // limits), so a bad file is refused when it is loaded instead of failing every URL that uses it.
  for (const name of definitions.keys()) {
    const checked = validateNamed(name, (other) => definitions.get(other))
    if (!checked.ok) throw new Error(`t_${name}: ${checked.error.message}`)
  }
  return definitions
}

export function loadNamedTransformations(path: string | undefined): NamedTransformations {
  let current = new Map<string, string>()
  const reload = (): string | undefined => {
    if (!path) return undefined
    try {
      current = parseNamedTransformations(readFileSync(path, 'utf8'))
      return undefined
    } catch (error) {
      return `${path}: ${(error as Error).message}`
    }
  }
  const failure = reload()
  if (failure) throw new Error(failure)
  return {
    get: (name) => current.get(name),
    reload,
    get size() {
      return current.size
    },
  }
}
