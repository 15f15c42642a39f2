/**
 * Expansion of named transformations (`t_avatar`, `t_a.b`; docs/compatibility.md, Transformation parameters).
 *
 * Placement rule (our choice; Cloudinary does not document it): a component holding `t_…`
 * becomes the named chains, in the order listed, followed by the rest of that component's
 * parameters as one more component of its own. So `c_fill,t_avatar,w_100` runs `avatar` first
 * and then `c_fill,w_100` on its output. The named text is parsed by the same parser as URLs and
 * may itself use `t_`, up to MAX_NAMED_DEPTH levels; a name that (indirectly) uses itself is a
 * cycle. Both are 400s, as is an expansion longer than MAX_EXPANDED_COMPONENTS.
 */
import { HttpError } from '../lib/http-error.ts'
import { ok, err, type Result } from '../result.ts'
import { parseChain } from './component.ts'
import { shown } from './errors.ts'
import type { Component, DeliveryError } from './types.ts'

/** How deep `t_` may nest inside named transformations (the URL's own `t_` is level 1). */
export const MAX_NAMED_DEPTH = 5
/** Longest chain an expansion may produce; guards against fan-out (`a = t_b.b.b`, `b = t_c.c.c`…). */
export const MAX_EXPANDED_COMPONENTS = 40

export type NamedLookup = (name: string) => string | undefined

/** Everything of the component except `named` (undefined when nothing is left). */
function withoutNamed(component: Component): Component | undefined {
  const { named: _named, ...rest } = component
  return Object.keys(rest).length > 0 ? rest : undefined
}

/** Appends the expansion of `components` to `out`. `ancestry` = names being expanded, outermost first. */
function expandInto(
  components: readonly Component[],
  lookup: NamedLookup,
  ancestry: readonly string[],
  out: Component[],
): DeliveryError | undefined {
  for (const component of components) {
    if (component.named === undefined || component.named.length === 0) {
      out.push(component)
    } else {
      for (const name of component.named) {
        const problem = expandName(name, lookup, ancestry, out)
        if (problem !== undefined) return problem
      }
      const rest = withoutNamed(component)
      if (rest !== undefined) out.push(rest)
    }
    if (out.length > MAX_EXPANDED_COMPONENTS) return new HttpError(400, 'Too many transformation components')
  }
  return undefined
}

function expandName(
  name: string,
  lookup: NamedLookup,
  ancestry: readonly string[],
  out: Component[],
): DeliveryError | undefined {
  if (ancestry.includes(name)) {
    return new HttpError(400, `Named transformation cycle: ${[...ancestry, name].map(shown).join(' -> ')}`)
  }
  if (ancestry.length >= MAX_NAMED_DEPTH) {
    return new HttpError(400, `Named transformations nested too deeply: ${shown(name)}`)
  }
  const text = lookup(name)
  if (text === undefined) return new HttpError(400, `Unknown transformation ${shown(name)}`)
  const parsed = parseChain(text)
  if (!parsed.ok) {
    // A broken definition is a configuration problem; say which one.
    return new HttpError(400, `Invalid named transformation ${shown(name)}: ${parsed.error.message}`)
  }
  return expandInto(parsed.value.components, lookup, [...ancestry, name], out)
}

/** Replaces every `t_` by the chain it names. Components without `t_` pass through untouched. */
export function expandNamed(components: readonly Component[], lookup: NamedLookup): Result<Component[], DeliveryError> {
  const out: Component[] = []
  const problem = expandInto(components, lookup, [], out)
  return problem === undefined ? ok(out) : err(problem)
}

/**
 * Checks one named-transformation definition at configuration time, with the same rules as a
 * request (parse, nested names, cycles, limits), so a bad config fails at startup, not per URL.
 */
export function validateNamed(name: string, lookup: NamedLookup): Result<Component[], DeliveryError> {
  return expandNamed([{ named: [name] }], lookup)
}
