/**
 * Invalidation fan-out between instances sharing one PostgreSQL database (docs/architecture.md,
 * Caches): a change that drops this instance's caches (a picture changed, was invalidated, deleted
 * or evicted) is also sent as `NOTIFY headshot_invalidate, '{"type":…,"publicId":…}'` (or
 * `{"all":true}`), and every instance LISTENs on that channel and drops its own hot responses and
 * row-cache entries. Each payload names its sender (`from`), and an instance skips its own.
 *
 * The listener only drops caches: the CDN purge hook stays the business of the instance that made
 * the change. Bun's client reconnects a dropped LISTEN connection itself; notifications sent
 * meanwhile are lost, so a re-subscription logs a warning and drops everything. On SQLite (one
 * process) there is nobody to tell: `noFanout`.
 */

export const INVALIDATION_CHANNEL = 'headshot_invalidate'

/** One picture's rows and responses, or everything (a write that names no picture). */
export type InvalidationEvent = { type: string; publicId: string } | { all: true }

/** The part of Bun's SQL client the fan-out uses. */
export interface NotifyChannel {
  listen(
    channel: string,
    onnotify: (payload: string) => void,
    onlisten?: () => void,
  ): Promise<{ unlisten(): Promise<void> }>
  notify(channel: string, payload?: string): Promise<void>
}

export interface InvalidationFanout {
  /** Tell the other instances (fire and forget; a failure is logged). */
  publish(event: InvalidationEvent): void
  /** Settles once this instance listens (or listening failed, which is logged). */
  readonly listening: Promise<void>
  close(): Promise<void>
}

export interface FanoutOptions {
  /** The database's client, once connected; undefined on SQLite. */
  channel: Promise<NotifyChannel> | undefined
  /** Another instance changed a picture (or everything): drop what this instance holds of it. */
  onEvent: (event: InvalidationEvent) => void
  warn: (message: string, fields?: Record<string, unknown>) => void
  /** Names this instance in its payloads (default: random). */
  instanceId?: string
}

export function noFanout(): InvalidationFanout {
  return { publish() {}, listening: Promise.resolve(), close: async () => {} }
}

export function createInvalidationFanout(options: FanoutOptions): InvalidationFanout {
  if (!options.channel) return noFanout()
  const channel = options.channel
  const from = options.instanceId ?? crypto.randomUUID()
  let closed = false
  let subscribed = 0

  const receive = (payload: string) => {
    if (closed) return
    const event = parseEvent(payload)
    if (!event) {
      options.warn('invalidation notification ignored: not understood', { payload: payload.slice(0, 200) })
      return
    }
    if (event.from === from) return
    options.onEvent(event.event)
  }
  const subscription = channel.then((client) =>
    client
      .listen(INVALIDATION_CHANNEL, receive, () => {
        // Initially, and after each reconnect: what was sent while the connection was down is lost.
        if (subscribed++ > 0) {
          options.warn('invalidation listener reconnected to PostgreSQL: dropping all cached rows and responses')
          options.onEvent({ all: true })
        }
      })
      .catch((error: unknown) => {
        // Connected, yet no LISTEN (a pooler in transaction mode): the caches are bounded by age alone.
        options.warn('cannot LISTEN for invalidations: other instances are seen within the row cache bound', {
          error: error instanceof Error ? error.message : String(error),
        })
        return undefined
      }),
  )
  // A database that cannot be reached is reported by the app's `ready`, not here.
  const listening = subscription.then(
    () => undefined,
    () => undefined,
  )

  return {
    listening,
    publish(event) {
      if (closed) return
      let payload = JSON.stringify({ ...event, from })
      // PostgreSQL caps a payload below 8000 bytes: a picture with an id that long drops everything.
      if (Buffer.byteLength(payload) > 7000) payload = JSON.stringify({ all: true, from })
      void channel
        .then((client) => client.notify(INVALIDATION_CHANNEL, payload))
        .catch((error: unknown) =>
          options.warn('invalidation notification not sent', {
            error: error instanceof Error ? error.message : String(error),
          }),
        )
    },
    async close() {
      closed = true
      const sub = await subscription.catch(() => undefined)
      await sub?.unlisten().catch(() => {})
    },
  }
}

function parseEvent(payload: string): { event: InvalidationEvent; from: unknown } | undefined {
  let value: unknown
  try {
    value = JSON.parse(payload)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const v = value as Record<string, unknown>
  if (v.all === true) return { event: { all: true }, from: v.from }
  if (typeof v.type === 'string' && typeof v.publicId === 'string')
    return { event: { type: v.type, publicId: v.publicId }, from: v.from }
  return undefined
}
