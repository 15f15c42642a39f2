import { describe, expect, test } from 'bun:test'
import { parseChain } from '../../src/url/component.ts'
import { MAX_EXPANDED_COMPONENTS, MAX_NAMED_DEPTH, expandNamed, validateNamed } from '../../src/url/named.ts'
import { component, expectError, unwrap } from '../support/url.ts'

const registry =
  (entries: Record<string, string>) =>
  (name: string): string | undefined =>
    Object.hasOwn(entries, name) ? entries[name] : undefined
const chain = (text: string) => unwrap(parseChain(text)).components
const expand = (url: string, entries: Record<string, string>) => expandNamed(chain(url), registry(entries))

const named = {
  avatar: 'c_thumb,g_face,h_150,w_150/r_max',
  round: 'r_max',
  gray: 'e_grayscale',
}

describe('expanding t_', () => {
  test('t_<name> alone is replaced by the parsed named chain', () => {
    expect(unwrap(expand('t_avatar', named))).toEqual(chain('c_thumb,g_face,h_150,w_150/r_max'))
  })

  test('t_a.b expands the names in order', () => {
    expect(unwrap(expand('t_gray.round', named))).toEqual(chain('e_grayscale/r_max'))
    expect(unwrap(expand('t_round.gray', named))).toEqual(chain('r_max/e_grayscale'))
  })

  test('with other params in the component: the named chain first, then the rest as its own component', () => {
    expect(unwrap(expand('c_fill,t_gray,w_100', named))).toEqual([component('e_grayscale'), component('c_fill,w_100')])
  })

  test('components without t_ pass through, in place', () => {
    expect(unwrap(expand('w_200/t_round/e_sepia', named))).toEqual(chain('w_200/r_max/e_sepia'))
  })

  test('a named transformation may use another one', () => {
    const nested = { ...named, framed: 't_avatar/bo_2px_solid_white' }
    expect(unwrap(expand('t_framed', nested))).toEqual(chain('c_thumb,g_face,h_150,w_150/r_max/bo_2px_solid_white'))
  })

  test('a name used twice in a row is fine (not a cycle)', () => {
    expect(unwrap(expand('t_round.round', named))).toEqual(chain('r_max/r_max'))
    expect(unwrap(expand('t_round/t_round', named))).toEqual(chain('r_max/r_max'))
  })

  test('an empty definition expands to nothing', () => {
    expect(unwrap(expand('t_nothing/r_max', { nothing: '' }))).toEqual(chain('r_max'))
  })
})

describe('errors', () => {
  test('unknown name → 400 Unknown transformation <name>', () => {
    expectError(expand('t_nope_xyz', named), 400, 'Unknown transformation nope_xyz')
    expectError(expand('t_avatar.nope', named), 400, 'Unknown transformation nope')
    expectError(expand('t_toString', named), 400, 'Unknown transformation toString')
  })

  test('a definition that does not parse names the definition', () => {
    expectError(
      expand('t_bad', { bad: 'w_abc' }),
      400,
      'Invalid named transformation bad: Invalid width in transformation: abc',
    )
    expectError(
      expand('t_bad', { bad: 'c_fill/pic' }),
      400,
      'Invalid named transformation bad: Invalid transformation parameter: pic',
    )
  })

  test('cycles → 400, showing the loop', () => {
    expectError(expand('t_a', { a: 't_a' }), 400, 'Named transformation cycle: a -> a')
    expectError(expand('t_a', { a: 'w_1/t_b', b: 'c_fill,t_a' }), 400, 'Named transformation cycle: a -> b -> a')
  })

  test(`nesting deeper than ${MAX_NAMED_DEPTH} levels → 400`, () => {
    const levels: Record<string, string> = {}
    for (let i = 1; i <= 8; i++) levels[`n${i}`] = i === 8 ? 'r_max' : `t_n${i + 1}`
    expect(expand(`t_n${8 - MAX_NAMED_DEPTH + 1}`, levels).ok).toBe(true)
    expectError(expand(`t_n${8 - MAX_NAMED_DEPTH}`, levels), 400, 'Named transformations nested too deeply: n8')
  })

  test(`fan-out beyond ${MAX_EXPANDED_COMPONENTS} components → 400`, () => {
    const fanOut = { a: 't_b.b.b.b.b', b: 't_c.c.c.c.c', c: 'w_1/h_1' } // 5 × 5 × 2 = 50
    expectError(expand('t_a', fanOut), 400, 'Too many transformation components')
  })
})

describe('validateNamed (config time)', () => {
  test('returns the full expansion of a good definition', () => {
    expect(unwrap(validateNamed('avatar', registry(named)))).toEqual(chain(named.avatar))
  })

  test('reports the same errors a request would', () => {
    expectError(validateNamed('a', registry({ a: 't_b' })), 400, 'Unknown transformation b')
  })
})
