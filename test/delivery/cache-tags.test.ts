import { describe, expect, test } from 'bun:test'
import { cacheTagOf, unversionedCacheControl } from '../../src/delivery/cache-tags.ts'

describe('cache tags', () => {
  test('name the picture, with the id encoded so CDN tag separators (comma, space) cannot appear', () => {
    expect(cacheTagOf('facebook', '65646572251')).toBe('headshot:facebook/65646572251')
    expect(cacheTagOf('twitter_name', 'a b,c/d')).toBe('headshot:twitter_name/a%20b%2Cc%2Fd')
  })
})

describe('Cache-Control of unversioned URLs', () => {
  test('browsers keep a copy no longer than the refresh TTL, capped at 30 days', () => {
    expect(unversionedCacheControl(7 * 86_400_000, false)).toBe('public, max-age=604800')
    expect(unversionedCacheControl(90 * 86_400_000, false)).toBe('public, max-age=2592000')
    expect(unversionedCacheControl(1000, false)).toBe('public, max-age=60')
  })

  test('a CDN that is purged through the hook may keep it 30 days', () => {
    expect(unversionedCacheControl(7 * 86_400_000, true)).toBe('public, max-age=604800, s-maxage=2592000')
    expect(unversionedCacheControl(60 * 86_400_000, true)).toBe('public, max-age=2592000')
  })
})
