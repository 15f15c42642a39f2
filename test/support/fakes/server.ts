/** The loopback server every fake upstream runs on, with request logging by route. */
import { RequestLog } from './request-log.ts'

export interface Routed {
  /** Route name for the request log. */
  route: string
  response: Response
}

export interface FakeServer {
  /** `http://127.0.0.1:<port>`, no trailing slash: use it as the plugin's base URL. */
  url: string
  requests: RequestLog
  stop(): void
}

export function serveFake(handle: (request: Request, url: URL) => Routed | Promise<Routed>): FakeServer {
  const requests = new RequestLog()
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const url = new URL(request.url)
      const { route, response } = await handle(request, url)
      requests.record({
        route,
        method: request.method,
        path: url.pathname,
        query: url.searchParams,
        headers: request.headers,
        status: response.status,
      })
      return response
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    stop: () => void server.stop(true),
  }
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=UTF-8', ...headers },
  })
}
