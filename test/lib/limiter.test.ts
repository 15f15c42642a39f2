import { describe, expect, test } from 'bun:test'
import { createConcurrencyLimiter, LimiterFullError } from '../../src/lib/limiter.ts'

describe('download concurrency limits', () => {
  test('never more than the total, nor more than the per-host share, and every task runs', async () => {
    const limiter = createConcurrencyLimiter({ total: 4, perKey: 2 })
    let running = 0
    let peak = 0
    const perHost = new Map<string, number>()
    let hostPeak = 0
    const task = (host: string) => async () => {
      running++
      perHost.set(host, (perHost.get(host) ?? 0) + 1)
      peak = Math.max(peak, running)
      hostPeak = Math.max(hostPeak, perHost.get(host)!)
      await Bun.sleep(5)
      running--
      perHost.set(host, perHost.get(host)! - 1)
      return host
    }
    const hosts = Array.from({ length: 30 }, (_, i) => ['a', 'b', 'c'][i % 3]!)
    const done = await Promise.all(hosts.map((host) => limiter.run(host, task(host))))
    expect(done).toEqual(hosts)
    expect(peak).toBe(4)
    expect(hostPeak).toBe(2)
    expect(limiter.active).toBe(0)
  })

  test('a slow host does not hold up the others beyond its share', async () => {
    const limiter = createConcurrencyLimiter({ total: 3, perKey: 1 })
    let release: () => void = () => {}
    const slow = limiter.run('slow', () => new Promise<void>((resolve) => (release = resolve)))
    const order: string[] = []
    await Promise.all(['x', 'y'].map((host) => limiter.run(host, async () => void order.push(host))))
    expect(order.sort()).toEqual(['x', 'y'])
    release()
    await slow
  })

  test('past the waiting bound a task is refused at once', async () => {
    const limiter = createConcurrencyLimiter({ total: 1, perKey: 1, maxWaiting: 1 })
    let release: () => void = () => {}
    const first = limiter.run('h', () => new Promise<void>((resolve) => (release = resolve)))
    const second = limiter.run('h', async () => 'queued')
    await expect(limiter.run('h', async () => 'refused')).rejects.toBeInstanceOf(LimiterFullError)
    release()
    await first
    expect(await second).toBe('queued')
  })
})
