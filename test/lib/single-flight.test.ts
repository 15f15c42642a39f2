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
