/**
 * The CDN purge hook: a signed POST per event, retried with backoff on failures the receiver may
 * recover from, given up on refusals, and never in the caller's way.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { createHmac } from 'node:crypto'
import { createPurgeHook, type PurgeEvent } from '../../src/manage/purge.ts'

const event: PurgeEvent = {
  tag: 'headshot:facebook/4',
  type: 'facebook',
  publicId: '4',
  reason: 'changed',
  paths: ['/image/facebook/4'],
}

let receiver: ReturnType<typeof Bun.serve> | undefined
afterEach(() => receiver?.stop(true))

function receive(statuses: number[]) {
  const seen: Array<{ body: string; headers: Headers; at: number }> = []
  receiver = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      seen.push({ body: await request.text(), headers: request.headers, at: Date.now() })
      return new Response(null, { status: statuses[Math.min(seen.length - 1, statuses.length - 1)] })
    },
  })
  return { url: `http://127.0.0.1:${receiver.port}/purge`, seen }
}

describe('purge hook', () => {
  test('POSTs the tag and paths as JSON, signed with an HMAC of the secret over timestamp and body', async () => {
    const { url, seen } = receive([204])
    const hook = createPurgeHook({ url, secret: 's3cret' })
    hook.notify(event)
    await hook.idle()
    expect(seen).toHaveLength(1)
    const { body, headers } = seen[0]!
    expect(JSON.parse(body)).toEqual({
      tags: ['headshot:facebook/4'],
      type: 'facebook',
      public_id: '4',
      reason: 'changed',
      paths: ['/image/facebook/4'],
    })
    const timestamp = headers.get('x-headshot-timestamp')!
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(5)
    const expected = createHmac('sha256', 's3cret').update(`${timestamp}.${body}`).digest('hex')
    expect(headers.get('x-headshot-signature')).toBe(`sha256=${expected}`)
    hook.close()
  })

  test('retries 5xx, 429 and network failures with growing delays until it gets through', async () => {
    const { url, seen } = receive([503, 429, 500, 200])
    const outcomes: string[] = []
    const hook = createPurgeHook({ url, secret: 'k', baseDelayMs: 20, onResult: (outcome) => outcomes.push(outcome) })
    hook.notify(event)
    await hook.idle()
    expect(seen).toHaveLength(4)
    expect(outcomes).toEqual(['retry', 'retry', 'retry', 'sent'])
    const gaps = seen.slice(1).map((s, i) => s.at - seen[i]!.at)
    expect(gaps[2]!).toBeGreaterThan(gaps[0]!) // backoff grows (20, 40, 80 ms ± 25 %)
    hook.close()
  })

  test('gives up on a refusal (4xx) and after the last attempt', async () => {
    const refused = receive([403])
    const outcomes: string[] = []
    const hook = createPurgeHook({ url: refused.url, secret: 'k', baseDelayMs: 5, onResult: (o) => outcomes.push(o) })
    hook.notify(event)
    await hook.idle()
    expect(refused.seen).toHaveLength(1)
    expect(outcomes).toEqual(['failed'])
    hook.close()

    const down = createPurgeHook({
      url: 'http://127.0.0.1:9/nothing-listens',
      secret: 'k',
      baseDelayMs: 5,
      maxAttempts: 3,
      onResult: (o) => outcomes.push(o),
    })
    down.notify(event)
    await down.idle()
    expect(outcomes.slice(1)).toEqual(['retry', 'retry', 'failed'])
    down.close()
  })

  test('notify never waits for the receiver', async () => {
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => (release = resolve))
    receiver = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: async () => (await held, new Response(null, { status: 200 })),
    })
    const hook = createPurgeHook({ url: `http://127.0.0.1:${receiver.port}/`, secret: 'k' })
    const started = performance.now()
    for (let i = 0; i < 100; i++) hook.notify({ ...event, publicId: String(i) })
    expect(performance.now() - started).toBeLessThan(50)
    release()
    await hook.idle()
    hook.close()
  })

  test('a full queue drops the oldest events and says so', async () => {
    const outcomes: string[] = []
    const hook = createPurgeHook({
      url: 'http://127.0.0.1:9/',
      secret: 'k',
      maxQueue: 2,
      fetch: (() => new Promise(() => {})) as unknown as typeof fetch,
      onResult: (o) => outcomes.push(o),
    })
    for (let i = 0; i < 5; i++) hook.notify({ ...event, publicId: String(i) })
    expect(outcomes.filter((o) => o === 'dropped').length).toBeGreaterThanOrEqual(2)
    hook.close()
  })
})
