import { describe, expect, test } from 'bun:test'
import { SingleFlight } from '../../src/lib/single-flight.ts'

describe('SingleFlight', () => {
  test('concurrent callers of one key share a single execution', async () => {
    const flights = new SingleFlight<number>()
    let runs = 0
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const work = async () => {
      runs++
      await gate
      return 42
    }
    const results = Promise.all([flights.run('a', work), flights.run('a', work), flights.run('a', work)])
    expect(flights.size).toBe(1)
    release()
    expect(await results).toEqual([42, 42, 42])
    expect(runs).toBe(1)
  })

  test('has(key) tells whether work for the key is under way, so a caller can tell starting from joining', async () => {
    const flights = new SingleFlight<number>()
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    expect(flights.has('a')).toBe(false)
    const pending = flights.run('a', async () => (await gate, 1))
    expect(flights.has('a')).toBe(true)
    expect(flights.has('b')).toBe(false)
    release()
    await pending
    expect(flights.has('a')).toBe(false)
  })

  test('different keys run independently', async () => {
    const flights = new SingleFlight<string>()
    const seen: string[] = []
    await Promise.all(['a', 'b'].map((k) => flights.run(k, async () => (seen.push(k), k))))
    expect(seen.sort()).toEqual(['a', 'b'])
  })

  test('a failure is shared by the waiting callers but not remembered', async () => {
    const flights = new SingleFlight<number>()
    let runs = 0
    const failing = async () => {
      runs++
      throw new Error('upstream down')
    }
    const both = await Promise.allSettled([flights.run('k', failing), flights.run('k', failing)])
    expect(both.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(runs).toBe(1)
    expect(flights.size).toBe(0)
    expect(await flights.run('k', async () => 7)).toBe(7)
  })
})

describe('SingleFlight with callers that go away', () => {
  /** Work that waits for `release`, and reports whether it was told nobody wants it any more. */
  function gated<T>(value: T) {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const seen: { runs: number; signal?: AbortSignal } = { runs: 0 }
    const work = async (signal: AbortSignal) => {
      seen.runs++
      seen.signal = signal
      await gate
      return value
    }
    return { work, release, seen }
  }

  test('a caller whose signal aborts stops waiting; the work goes on for the others', async () => {
    const flights = new SingleFlight<number>()
    const { work, release, seen } = gated(42)
    const leaving = new AbortController()
    const gone = flights.run('k', work, leaving.signal).catch((e) => e)
    const staying = flights.run('k', work, new AbortController().signal)
    leaving.abort(new Error('client closed'))
    expect(await gone).toMatchObject({ message: 'client closed' })
    expect(seen.signal?.aborted).toBe(false)
    release()
    expect(await staying).toBe(42)
    expect(seen.runs).toBe(1)
  })

  test('when every caller has gone, the work is told and the next caller starts afresh', async () => {
    const flights = new SingleFlight<number>()
    const first = gated(1)
    const a = new AbortController()
    const b = new AbortController()
    const waits = [
      flights.run('k', first.work, a.signal).catch((e) => e),
      flights.run('k', first.work, b.signal).catch((e) => e),
    ]
    a.abort(new Error('gone'))
    expect(first.seen.signal?.aborted).toBe(false) // b still waits
    b.abort(new Error('gone'))
    expect(first.seen.signal?.aborted).toBe(true)
    await Promise.all(waits)
    expect(flights.size).toBe(0)
    const second = gated(2)
    const next = flights.run('k', second.work)
    second.release()
    expect(await next).toBe(2)
    first.release()
  })

  test('a caller without a signal waits for good: the work is never called off', async () => {
    const flights = new SingleFlight<number>()
    const { work, release, seen } = gated(7)
    const leaving = new AbortController()
    const gone = flights.run('k', work, leaving.signal).catch((e) => e)
    const patient = flights.run('k', work)
    leaving.abort(new Error('gone'))
    await gone
    expect(seen.signal?.aborted).toBe(false)
    release()
    expect(await patient).toBe(7)
  })

  test('an already aborted caller starts nothing', async () => {
    const flights = new SingleFlight<number>()
    const { work, seen } = gated(0)
    const signal = AbortSignal.abort(new Error('already gone'))
    expect(await flights.run('k', work, signal).catch((e) => e)).toMatchObject({ message: 'already gone' })
    expect(seen.runs).toBe(0)
    expect(flights.size).toBe(0)
  })
})
