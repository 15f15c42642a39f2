/**
 * The CDN purge hook: when a picture changes, is invalidated or is deleted, POST its cache tag and
 * the affected paths to `HEADSHOT_PURGE_URL`, so whatever sits in front (a Cloudflare Worker, a
 * Fastly purge proxy, a script) can drop every cached variant at once.
 *
 * It never blocks delivery or the API: events go into a bounded queue that one sender drains,
 * retrying failures with exponential backoff and jitter. Each request is signed with an HMAC of
 * the API secret over `<timestamp>.<body>`, so the receiver can tell it came from us and is fresh.
 */
import { createHmac } from 'node:crypto'

export interface PurgeEvent {
  /** `headshot:<type>/<id>` (see delivery/cache-tags.ts): what Cache-Tag / Surrogate-Key carry. */
  tag: string
  type: string
  publicId: string
  reason: 'changed' | 'invalidated' | 'deleted'
  /** Delivery paths known to be affected (hints; the tag covers every variant). */
  paths: string[]
}

export interface PurgeHookOptions {
  url: string
  secret: string
  /** Attempts per event before it is given up (default 8: about 4 minutes of retrying). */
  maxAttempts?: number
  /** First retry delay; doubles each time up to maxDelayMs (defaults 1 s and 60 s). */
  baseDelayMs?: number
  maxDelayMs?: number
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number
  /** Events waiting beyond this are dropped, oldest first (default 10,000). */
  maxQueue?: number
  fetch?: typeof fetch
  now?: () => number
  /** Told about every outcome, for metrics and logs. */
  onResult?: (outcome: 'sent' | 'retry' | 'failed' | 'dropped', event: PurgeEvent, detail?: string) => void
}

export interface PurgeHook {
  notify(event: PurgeEvent): void
  /** Resolves when the queue is empty (tests, graceful shutdown). */
  idle(): Promise<void>
  close(): void
}

export const PURGE_SIGNATURE_HEADER = 'X-Headshot-Signature'
export const PURGE_TIMESTAMP_HEADER = 'X-Headshot-Timestamp'

/** `sha256=<hex>` over `<timestamp>.<body>`, keyed with the API secret (what a receiver recomputes). */
export function signPurgeBody(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`
}

/** Statuses worth retrying: the receiver or the network may recover. Other 4xx are our mistake. */
const retryable = (status: number) => status === 408 || status === 425 || status === 429 || status >= 500

export function createPurgeHook(options: PurgeHookOptions): PurgeHook {
  const send = options.fetch ?? fetch
  const now = options.now ?? Date.now
  const maxAttempts = options.maxAttempts ?? 8
  const baseDelayMs = options.baseDelayMs ?? 1000
  const maxDelayMs = options.maxDelayMs ?? 60_000
  const timeoutMs = options.timeoutMs ?? 10_000
  const maxQueue = options.maxQueue ?? 10_000
  const queue: Array<{ event: PurgeEvent; attempt: number; notBefore: number }> = []
  let running: Promise<void> | undefined
  let closed = false
  let wake: (() => void) | undefined
  let timer: ReturnType<typeof setTimeout> | undefined

  async function deliver(event: PurgeEvent): Promise<{ ok: boolean; retry: boolean; detail: string }> {
    const body = JSON.stringify({
      tags: [event.tag],
      type: event.type,
      public_id: event.publicId,
      reason: event.reason,
      paths: event.paths,
    })
    const timestamp = Math.floor(now() / 1000)
    try {
      const response = await send(options.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          [PURGE_TIMESTAMP_HEADER]: String(timestamp),
          [PURGE_SIGNATURE_HEADER]: signPurgeBody(options.secret, timestamp, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      })
      await response.body?.cancel().catch(() => {})
      if (response.ok) return { ok: true, retry: false, detail: String(response.status) }
      return { ok: false, retry: retryable(response.status), detail: `HTTP ${response.status}` }
    } catch (error) {
      return { ok: false, retry: true, detail: (error as Error)?.name ?? 'error' }
    }
  }

  function sleepUntil(at: number): Promise<void> {
    const wait = Math.max(0, at - now())
    return new Promise((resolve) => {
      wake = resolve
      timer = setTimeout(resolve, wait)
      ;(timer as { unref?: () => void }).unref?.()
    })
  }

  async function drain(): Promise<void> {
    while (!closed && queue.length > 0) {
      // The entry due soonest goes next; a failing receiver does not hold up later events for long.
      queue.sort((a, b) => a.notBefore - b.notBefore)
      const next = queue[0]!
      if (next.notBefore > now()) {
        await sleepUntil(next.notBefore)
        continue
      }
      queue.shift()
      const result = await deliver(next.event)
      if (result.ok) options.onResult?.('sent', next.event)
      else if (result.retry && next.attempt + 1 < maxAttempts) {
        const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** next.attempt) * (0.75 + Math.random() * 0.5)
        queue.push({ event: next.event, attempt: next.attempt + 1, notBefore: now() + delay })
        options.onResult?.('retry', next.event, result.detail)
      } else options.onResult?.('failed', next.event, result.detail)
    }
  }

  function kick(): void {
    if (running || closed) return
    running = drain().finally(() => {
      running = undefined
      if (queue.length > 0 && !closed) kick()
    })
  }

  return {
    notify(event) {
      if (closed) return
      queue.push({ event, attempt: 0, notBefore: now() })
      while (queue.length > maxQueue) {
        const dropped = queue.shift()!
        options.onResult?.('dropped', dropped.event)
      }
      // A sender asleep until a retry is due looks at the queue again: this event is due now.
      if (timer) clearTimeout(timer)
      wake?.()
      kick()
    },
    async idle() {
      while (running) await running
    },
    close() {
      closed = true
      if (timer) clearTimeout(timer)
      wake?.()
    },
  }
}
