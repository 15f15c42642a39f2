import { describe, expect, test } from 'bun:test'
import { canonicalChain } from '../../src/url/canonical.ts'
import { foldDpr, withoutGetinfo } from '../../src/url/chain.ts'
import { parseChain } from '../../src/url/component.ts'
import type { Component } from '../../src/url/types.ts'

function chainOf(text: string): Component[] {
  const parsed = parseChain(text)
  if (!parsed.ok) throw parsed.error
  return parsed.value.components
}

/** The derivative key delivery computes for a URL's chain. */
const keyOf = (text: string) => canonicalChain(foldDpr(withoutGetinfo(chainOf(text)).chain))

describe('fl_getinfo is not part of the derived image', () => {
  test('it is removed from the chain and reported on its own', () => {
    expect(withoutGetinfo(chainOf('c_fill,h_100,w_100/fl_getinfo'))).toEqual({
      chain: chainOf('c_fill,h_100,w_100'),
      getinfo: true,
    })
    expect(withoutGetinfo(chainOf('c_fill,fl_getinfo.progressive,w_100'))).toEqual({
      chain: chainOf('c_fill,fl_progressive,w_100'),
      getinfo: true,
    })
    expect(withoutGetinfo(chainOf('c_fill,w_100')).getinfo).toBe(false)
  })
  test('an image URL and its getinfo twin share the derivative key', () => {
    expect(keyOf('c_fill,h_100,w_100/fl_getinfo')).toBe(keyOf('c_fill,h_100,w_100'))
    expect(keyOf('c_fill,fl_getinfo,h_100,w_100')).toBe(keyOf('c_fill,h_100,w_100'))
    expect(keyOf('fl_getinfo')).toBe('')
  })
})

describe('a dpr component of its own', () => {
  test('is folded into the sized component before it: one key with the inline spelling', () => {
    expect(keyOf('c_fill,h_100,w_100/dpr_2.0')).toBe('c_fill,dpr_2,h_100,w_100')
    expect(keyOf('c_fill,h_100,w_100/dpr_2.0')).toBe(keyOf('c_fill,dpr_2.0,h_100,w_100'))
    // The newer URL builder's delivery components (f_, q_) may stand between.
    expect(keyOf('c_fill,h_100,w_100/f_auto/q_auto/dpr_2.0')).toBe('c_fill,dpr_2,h_100,w_100/f_auto/q_auto:good')
    expect(keyOf('w_0.5/dpr_3')).toBe('dpr_3,w_0.5')
  })
  test('stays on its own (resampling the previous result) when it cannot be folded', () => {
    // Nothing before it.
    expect(keyOf('dpr_2')).toBe('dpr_2')
    // The sized component has a dpr of its own.
    expect(keyOf('c_fill,dpr_2,w_100/dpr_2')).toBe('c_fill,dpr_2,w_100/dpr_2')
    // Pixel work stands between.
    expect(keyOf('c_fill,w_100/e_sepia/dpr_2')).toBe('c_fill,w_100/e_sepia:80/dpr_2')
    expect(keyOf('c_fill,w_100/r_max/dpr_2')).toBe('c_fill,w_100/r_max/dpr_2')
    // Not only a dpr.
    expect(keyOf('c_fill,w_100/dpr_2,q_80')).toBe('c_fill,w_100/dpr_2,q_80')
  })
  test('a fold never crosses a getinfo flag it could not see', () => {
    expect(keyOf('c_fill,h_100,w_100/fl_getinfo/dpr_2.0')).toBe('c_fill,dpr_2,h_100,w_100')
  })
})
