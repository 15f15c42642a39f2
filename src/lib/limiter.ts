/**
 * At most `total` tasks at once, and at most `perKey` for one key (a host): downloads are capped
 * globally and per upstream host, so a flood of new pictures queues instead of opening hundreds
 * of connections (and one slow host cannot take every slot). Waiting is FIFO and bounded: past
 * `maxWaiting`, a task is refused at once.
 */
export interface ConcurrencyLimiter {
  run<T>(key: string, task: () => Promise<T>): Promise<T>
  readonly active: number
  readonly waiting: number
}

export class LimiterFullError extends Error {
  override name = 'LimiterFullError'
}

export function createConcurrencyLimiter(options: {
  total: number
  perKey: number
  maxWaiting?: number
}): ConcurrencyLimiter {
  const maxWaiting = options.maxWaiting ?? 1000
  let active = 0
  const activeByKey = new Map<string, number>()
  const queue: Array<{ key: string; start: () => void }> = []

  const canStart = (key: string) => active < options.total && (activeByKey.get(key) ?? 0) < options.perKey
  // A slot is taken before the waiting task wakes up (it resumes a microtask later), so one pump
  // never hands out more slots than there are.
  const reserve = (key: string) => {
    active++
    activeByKey.set(key, (activeByKey.get(key) ?? 0) + 1)
  }

  function pump(): void {
    for (let i = 0; i < queue.length && active < options.total; ) {
      const next = queue[i]!
      if (!canStart(next.key)) {
        i++
        continue
      }
      queue.splice(i, 1)
      reserve(next.key)
      next.start()
    }
  }

  return {
    async run(key, task) {
      if (canStart(key)) reserve(key)
      else {
        if (queue.length >= maxWaiting) throw new LimiterFullError('too many downloads waiting')
        await new Promise<void>((resolve) => queue.push({ key, start: resolve }))
      }
      try {
        return await task()
      } finally {
        active--
        const left = (activeByKey.get(key) ?? 1) - 1
        if (left === 0) activeByKey.delete(key)
        else activeByKey.set(key, left)
        pump()
      }
    },
    get active() {
      return active
    },
    get waiting() {
      return queue.length
    },
  }
}
