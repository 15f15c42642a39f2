/** The per-network call budget of the background sweep, and when a network is left alone. */
import { describe, expect, test } from 'bun:test'
import { UpstreamError } from '../../src/plugin-host/types.ts'
import { CallBudget } from '../../src/refresh/budget.ts'
import { FIRST_BACKOFF_MS, MAX_BACKOFF_MS, pauseAfter, nextPause } from '../../src/refresh/pause.ts'
import { memoryPauses } from '../../src/refresh/upstream-pauses.ts'

const T0 = 1_700_000_000_000

/** Reserve and spend one call at a time until the budget says no; how many went. */
function spendAll(budget: CallBudget, at: number): number {
  let calls = 0
  while (budget.tryReserve(1, at)) {
    budget.settle(1, 1, at)
    calls++
  }
  return calls
}

describe('CallBudget', () => {
  test("holds five seconds' worth (plus one) at once and refills at the per-minute rate", () => {
    const budget = new CallBudget(60, T0)
    expect(budget.burst).toBe(6)
    expect(budget.available(T0)).toBe(6)
    expect(spendAll(budget, T0)).toBe(6)
    expect(budget.available(T0 + 999)).toBe(0)
    expect(spendAll(budget, T0 + 1_000)).toBe(1)
    expect(spendAll(budget, T0 + 60_000)).toBe(6) // never more than the bucket, however long it waited
    expect(new CallBudget(1, T0).burst).toBe(1) // nor more than the minute
  })

  test('never more than perMinute calls in any sliding minute, even with a bucket as large as the minute', () => {
    const budget = new CallBudget(12, T0, 12)
    expect(spendAll(budget, T0)).toBe(12)
    expect(spendAll(budget, T0 + 30_000)).toBe(0) // the bucket has refilled half, the minute is full
    expect(spendAll(budget, T0 + 59_999)).toBe(0)
    expect(spendAll(budget, T0 + 60_000)).toBe(12)
  })

  test('over ten minutes of a round every five seconds, no minute holds more than the budget and none is lost', () => {
    const budget = new CallBudget(7, T0)
    const calls: number[] = []
    for (let at = T0; at < T0 + 600_000; at += 5_000) {
      while (budget.tryReserve(1, at)) {
        budget.settle(1, 1, at)
        calls.push(at)
      }
    }
    for (const start of calls) {
      expect(calls.filter((at) => at >= start && at < start + 60_000).length).toBeLessThanOrEqual(7)
    }
    expect(calls.length).toBeGreaterThanOrEqual(69)
  })

  test('reservations of work still running count: side-by-side work cannot overshoot together', () => {
    const budget = new CallBudget(4, T0, 4)
    budget.tryReserve(2, T0)
    budget.settle(2, 2, T0)
    const later = T0 + 30_000 // the bucket is full again; half of the minute is spent
    expect(budget.tryReserve(2, later)).toBe(true)
    expect(budget.available(later)).toBe(0)
    expect(budget.tryReserve(1, later)).toBe(false)
  })

  test('what a reservation did not spend is given back; what it overspent is owed', () => {
    const budget = new CallBudget(60, T0, 5)
    budget.tryReserve(2, T0)
    budget.settle(2, 1, T0)
    expect(budget.available(T0)).toBe(4)
    budget.tryReserve(1, T0)
    budget.settle(1, 7, T0) // an unexpected run of alternates: 3 left, 6 more spent, 3 owed
    expect(budget.available(T0)).toBe(0)
    expect(budget.available(T0 + 3_999)).toBe(0) // a call a second: four seconds before the next one
    expect(budget.available(T0 + 4_000)).toBe(1)
  })

  test('work costing more than the bucket holds still starts once it is full', () => {
    const budget = new CallBudget(12, T0, 1) // holds one call, one every five seconds
    expect(budget.tryReserve(2, T0)).toBe(true)
    budget.settle(2, 2, T0)
    expect(budget.tryReserve(2, T0 + 5_000)).toBe(false) // paying back the second call
    expect(budget.tryReserve(2, T0 + 10_000)).toBe(true)
  })

  test('a zero or fractional rate is a programming error', () => {
    expect(() => new CallBudget(0, T0)).toThrow('positive integer')
    expect(() => new CallBudget(1.5, T0)).toThrow('positive integer')
  })
})

describe('pauseAfter', () => {
  const now = T0

  test('a rate limit with a reset: until the reset, the back-off unchanged', () => {
    expect(pauseAfter(new UpstreamError('rate_limited', '429', now + 90_000), now, 240_000)).toEqual({
      until: now + 90_000,
      nextBackoffMs: 240_000,
      reason: 'rate_limited',
    })
  })

  test('a rate limit without a usable reset, or refused credentials: back off, doubling up to 15 minutes', () => {
    let backoff = FIRST_BACKOFF_MS
    const untils: number[] = []
    for (let i = 0; i < 6; i++) {
      // A reset already past is no reset at all.
      const error = new UpstreamError(i % 2 ? 'auth' : 'rate_limited', 'no', i === 0 ? now - 1 : undefined)
      const pause = pauseAfter(error, now, backoff)!
      untils.push(pause.until - now)
      backoff = pause.nextBackoffMs
    }
    expect(untils).toEqual([60_000, 120_000, 240_000, 480_000, 900_000, 900_000])
    expect(backoff).toBe(MAX_BACKOFF_MS)
  })

  test('anything else concerns one picture or one call: no pause', () => {
    const errors = [new UpstreamError('unavailable', '503'), new UpstreamError('timeout', 'slow'), new Error('bug')]
    for (const error of errors) {
      expect(pauseAfter(error, now, FIRST_BACKOFF_MS)).toBeUndefined()
    }
  })
})

describe('nextPause: what to record after a refusal, given the last pause', () => {
  const now = T0
  const limited = new UpstreamError('rate_limited', '429')

  test('none before: the first back-off; a reset wins over it', () => {
    expect(nextPause(undefined, limited, now)).toEqual({
      until: now + FIRST_BACKOFF_MS,
      nextBackoffMs: 2 * FIRST_BACKOFF_MS,
      reason: 'rate_limited',
    })
    const reset = new UpstreamError('rate_limited', '429', now + 5_000)
    expect(nextPause(undefined, reset, now)).toMatchObject({ until: now + 5_000, nextBackoffMs: FIRST_BACKOFF_MS })
    expect(nextPause(undefined, new UpstreamError('auth', '401'), now)).toMatchObject({ reason: 'auth' })
  })

  test('a pause in force: nothing to record (calls under way come back with the same refusal)', () => {
    const pause = nextPause(undefined, limited, now)!
    expect(nextPause(pause, limited, now + 1_000)).toBeUndefined()
    expect(nextPause(pause, new UpstreamError('auth', '401'), now + 1_000)).toBeUndefined()
    expect(nextPause(pause, new UpstreamError('rate_limited', '429', now + 5_000), now + 1_000)).toBeUndefined()
  })

  test('... unless the network names a reset beyond it: then until that reset, the back-off unchanged', () => {
    const pause = nextPause(undefined, limited, now)!
    expect(nextPause(pause, new UpstreamError('rate_limited', '429', now + 3_600_000), now + 1_000)).toEqual({
      until: now + 3_600_000,
      nextBackoffMs: pause.nextBackoffMs,
      reason: 'rate_limited',
    })
  })

  test('refused again right after a pause: the back-off doubles; after a calm spell it starts over', () => {
    const first = nextPause(undefined, limited, now)!
    const second = nextPause(first, limited, first.until)!
    expect(second.until - first.until).toBe(2 * FIRST_BACKOFF_MS)
    const later = second.until + MAX_BACKOFF_MS
    expect(nextPause(second, limited, later)!.until - later).toBe(FIRST_BACKOFF_MS)
  })

  test('anything else: no pause', () => {
    expect(nextPause(undefined, new UpstreamError('unavailable', '503'), now)).toBeUndefined()
  })
})

describe('memoryPauses: one process', () => {
  test('records once while in force, reports the pause in force, and forgets the back-off after a working call', async () => {
    let clock = T0
    const pauses = memoryPauses(() => clock)
    const limited = new UpstreamError('rate_limited', '429')
    expect(await pauses.record('gravatar', new UpstreamError('timeout', 'slow'))).toBeUndefined()
    expect(await pauses.get('gravatar')).toBeUndefined()
    const first = await pauses.record('gravatar', limited)
    expect(first).toMatchObject({ until: T0 + FIRST_BACKOFF_MS })
    expect(await pauses.record('gravatar', limited)).toEqual(first!) // in force: the same pause
    expect(await pauses.get('github')).toBeUndefined() // per network
    clock = first!.until
    expect((await pauses.record('gravatar', limited))!.until).toBe(clock + 2 * FIRST_BACKOFF_MS)
    clock += 2 * FIRST_BACKOFF_MS
    await pauses.recovered('gravatar')
    expect((await pauses.record('gravatar', limited))!.until).toBe(clock + FIRST_BACKOFF_MS)
  })
})
