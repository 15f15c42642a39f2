/** readRequest remembers what a parsed chain derives (chain, key, getinfo, d_), except for chains with `t_`. */
import { describe, expect, test } from 'bun:test'
import { readRequest, type RequestRules } from '../../src/delivery/request.ts'
import type { PluginRegistry } from '../../src/plugin-host/registry.ts'
import { ok } from '../../src/result.ts'

const named = new Map<string, string>()
const rules: RequestRules = {
  cloudName: 'demo',
  apiSecret: 'secret',
  restrictedTypes: new Set(),
  registry: { get: () => ({ parseId: (id: string) => ok(id) }) } as unknown as PluginRegistry,
  namedTransformation: (name) => named.get(name),
}
const read = (path: string) => readRequest(new Request(`http://localhost${path}`), rules)

describe('derived chains', () => {
  test('a repeated chain derives the same, and what it derives cannot be changed', () => {
    const path = '/demo/image/facebook/c_fill,h_100,w_100/dpr_2.0/d_avatar.png/fl_getinfo/v1/1.jpg'
    const first = read(path)
    const expected = structuredClone({ chain: first.chain, canonical: first.canonical })
    expect(first.getinfo).toBe(true)
    expect(first.placeholderName).toBe('avatar.png')
    expect(() => first.chain.push({ crop: 'fit' })).toThrow()
    const again = read(path.replace('/v1/1.jpg', '/v2/2.jpg'))
    expect({ chain: again.chain, canonical: again.canonical }).toEqual(expected)
    expect(again.getinfo).toBe(true)
    expect(again.placeholderName).toBe('avatar.png')
    expect(again.id).toBe('2')
  })

  test('a chain with a named transformation follows its current definition', () => {
    named.set('avatar', 'c_fill,h_100,w_100')
    const first = read('/demo/image/facebook/t_avatar/v1/1.jpg')
    named.set('avatar', 'c_fill,h_200,w_200')
    const second = read('/demo/image/facebook/t_avatar/v2/1.jpg')
    expect(second.canonical).not.toBe(first.canonical)
    expect(second.canonical).toContain('h_200')
  })
})
