/**
 * Listening: every request goes through the app's access layer (request id, access log) with the
 * client's address.
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
