/**
 * The charge of one request: a token of its client's allowance, taken once however much work the
 * request starts; free for signed URLs, unknown clients and when no limit is set.
 */
import { describe, expect, test } from 'bun:test'
import { chargeFor } from '../../src/delivery/client-charge.ts'
import { HttpError } from '../../src/lib/http-error.ts'
import { TokenBuckets } from '../../src/lib/token-bucket.ts'

const at = () => 1_000_000
const buckets = (burst: number) => new TokenBuckets({ perMinute: 60, burst, maxClients: 100 })

describe('a request charge', () => {
  test('takes one token however often the request starts work', () => {
    const limits = buckets(2)
    const charge = chargeFor({ buckets: limits, client: () => 'a', signed: false, now: at })!
    charge()
    charge()
    const other = chargeFor({ buckets: limits, client: () => 'a', signed: false, now: at })!
    other() // the second of the burst of 2
    const third = chargeFor({ buckets: limits, client: () => 'a', signed: false, now: at })!
    expect(third).toThrow(HttpError)
  })

  test('over the allowance: a 429 with Retry-After, and the limit is reported', () => {
    let limited = 0
    const limits = buckets(1)
    chargeFor({ buckets: limits, client: () => 'b', signed: false, now: at })!()
    const charge = chargeFor({
      buckets: limits,
      client: () => 'b',
      signed: false,
      now: at,
      onLimited: () => limited++,
    })!
    try {
      charge()
      throw new Error('not refused')
    } catch (error) {
      expect(error).toBeInstanceOf(HttpError)
      expect((error as HttpError).status).toBe(429)
      expect(Number((error as HttpError).headers?.['Retry-After'])).toBeGreaterThanOrEqual(1)
    }
    expect(limited).toBe(1)
  })

  test('free: signed URLs, no limit set, no client known', () => {
    expect(chargeFor({ buckets: buckets(1), client: () => 'c', signed: true, now: at })).toBeUndefined()
    expect(chargeFor({ buckets: undefined, client: () => 'c', signed: false, now: at })).toBeUndefined()
    expect(chargeFor({ buckets: buckets(1), client: undefined, signed: false, now: at })).toBeUndefined()
    // Two requests from nobody known, with an allowance of one: neither is charged.
    const limits = buckets(1)
    for (let i = 0; i < 2; i++) chargeFor({ buckets: limits, client: () => undefined, signed: false, now: at })!()
  })
})
