/**
 * Listening, and stopping without dropping requests. `listen` serves every request through the
 * app's access layer (request id, access log) with the client's address. `shutdown` is what a
 * SIGTERM does: /readyz turns 503 and answers ask clients to close their connections (for the
 * optional delay, everything else is still served), then the listener closes (new connections are
 * refused), the requests under way get until the deadline to finish, and the rest of the app
 * (sweeper, purge queue, workers, database) is closed (docs/operations.md, Shutdown).
 */
import type { Server } from 'bun'
import type { App } from '../app.ts'

export interface ListenOptions {
  port: number
  hostname: string
}

export function listen(headshot: App, options: ListenOptions): Server<undefined> {
  const server = Bun.serve({
    port: options.port,
    hostname: options.hostname,
    // As Elysia's own `listen` sets them: idle keep-alive connections are closed after 30 s, and a
    // new process can bind the port while an old one drains (a restart without refused connections).
    idleTimeout: 30,
    reusePort: true,
    // Never Bun's development error page: every error is answered by the app.
    development: false,
    fetch: (request, server) => headshot.handle(request, server.requestIP(request)?.address),
  })
  // Elysia hands its routes `server` (the Media Library's sign-in throttle reads the client address from it).
  headshot.app.server = server as unknown as NonNullable<App['app']['server']>
  return server
}

const CLOSE_GRACE_MS = 1000

export type ShutdownOutcome = 'drained' | 'forced'

export interface ShutdownOptions {
  /** How long to keep serving, /readyz at 503, before the listener closes (a load balancer's time to notice). */
  delayMs?: number
  /** From the listener's close: how long requests under way may take to finish, and the rest of the app to close. */
  deadlineMs: number
  /** Settles when the operator insists (a second signal): stop waiting, cut what is open. */
  forceNow?: Promise<unknown>
}

/**
 * Stop serving: `drained` when every request under way finished and the app closed within the
 * deadline, `forced` when open connections had to be cut or closing did not finish in time.
 */
export async function shutdown(
  headshot: App,
  server: Pick<Server<undefined>, 'stop'>,
  options: ShutdownOptions,
): Promise<ShutdownOutcome> {
  let insisted = false
  void options.forceNow?.then(() => {
    insisted = true
  })
  /** Resolves 'late' after `ms`, or at once when the operator insists. */
  const late = (ms: number) =>
    new Promise<'late'>((resolve) => {
      const timer = setTimeout(() => resolve('late'), Math.max(0, ms))
      void options.forceNow?.then(() => {
        clearTimeout(timer)
        resolve('late')
      })
    })

  headshot.drain()
  if (options.delayMs) await late(options.delayMs)
  const deadline = Date.now() + options.deadlineMs
  // Without force, Bun's stop closes the listener and idle connections, and resolves once the
  // requests under way are answered.
  const stopped = insisted
    ? 'late'
    : await Promise.race([server.stop(false).then(() => 'done' as const), late(deadline - Date.now())])
  if (stopped === 'late') await server.stop(true)
  // Closing gets what is left of the deadline, and a second at least: the database is closed cleanly if it can be.
  const closing = late(Math.max(deadline - Date.now(), CLOSE_GRACE_MS))
  const closed = await Promise.race([headshot.close().then(() => 'done' as const), closing])
  return stopped === 'done' && closed === 'done' ? 'drained' : 'forced'
}
