/**
 * The outermost layer of every request: a request id (the client's `X-Request-Id` when it is a sane
 * token, else a new UUID) carried by the request's trace and echoed on the response, a count of
 * requests in flight (for shutdown), and one access log line when the answer is ready. Nothing
 * thrown below reaches the server: an unexpected error is logged with its stack and answered 500.
 */
import { randomUUID } from 'node:crypto'
import { type RequestTrace, runTraced } from '../lib/request-trace.ts'
import { rawPathOf } from '../url/parse.ts'
import { errorFields, type Logger } from './log.ts'

export const REQUEST_ID_HEADER = 'X-Request-Id'

/** Ids from load balancers and tracing systems (UUIDs, hex, base64, `Root=1-…`) fit; anything else is replaced. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:~+/=-]{1,128}$/

/** Probes and scrapes arrive every few seconds: their lines are `debug`, so `info` stays readable. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics'])

/** Longer paths are cut in the log line (a hostile URL must not make a hostile log line). */
const MAX_LOGGED_PATH = 512

export function requestIdOf(header: string | null): string {
  return header !== null && SANE_REQUEST_ID.test(header) ? header : randomUUID()
}

export interface AccessOptions {
  log: Logger
  /** True while the server drains: answers ask the client to close its connection (and go elsewhere). */
  draining?: () => boolean
}

export interface AccessLayer {
  /** Serve one request; `peer` is the client's address when known (logged as `ip`). */
  handle(request: Request, peer?: string): Promise<Response>
  /** Requests being served right now. */
  readonly inFlight: number
}

export function createAccessLayer(
  inner: (request: Request) => Response | Promise<Response>,
  options: AccessOptions,
): AccessLayer {
  const { log } = options
  let inFlight = 0

  async function handle(request: Request, peer?: string): Promise<Response> {
    const started = performance.now()
    const trace: RequestTrace = { id: requestIdOf(request.headers.get(REQUEST_ID_HEADER)) }
    inFlight++
    let answer: Sized
    try {
      answer = await runTraced(trace, async () => {
        try {
          const response = await inner(request)
          return declaredSize(request, response) ?? (await readSize(response))
        } catch (error) {
          log.error(`unhandled error: ${request.method} ${rawPathOf(request.url)}`, errorFields(error, true))
          return readSize(Response.json({ error: { message: 'Internal error' } }, { status: 500 }))
        }
      })
    } finally {
      inFlight--
    }
    const { bytes } = answer
    const response = withHeaders(answer.response, trace.id, options.draining?.() === true)

    const path = rawPathOf(request.url)
    const level = QUIET_PATHS.has(path) ? 'debug' : 'info'
    if (log.enabled(level)) {
      log[level]('request', {
        requestId: trace.id,
        method: request.method,
        path: path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…` : path,
        status: response.status,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
        bytes,
        ...(trace.cache === undefined ? {} : { cache: trace.cache }),
        ...(peer === undefined ? {} : { ip: peer }),
      })
    }
    return response
  }

  return {
    handle,
    get inFlight() {
      return inFlight
    },
  }
}

interface Sized {
  response: Response
  /** Body bytes sent. */
  bytes: number
}

/** The body's size when known without reading it: none (HEAD, 204, 304), or declared (every image answer). */
function declaredSize(request: Request, response: Response): Sized | undefined {
  if (request.method === 'HEAD' || response.status === 204 || response.status === 304) return { response, bytes: 0 }
  const length = response.headers.get('content-length')
  return length === null ? undefined : { response, bytes: Number(length) }
}

/**
 * Otherwise (JSON, text, a redirect) the body is read once here, and answered from memory: every
 * such body of ours is small and complete (no route streams; one that did would need a declared
 * length or a counting stream here instead).
 */
async function readSize(response: Response): Promise<Sized> {
  const body = await response.blob()
  return { response: new Response(body, response), bytes: body.size }
}

/** Add the request id (and `Connection: close`); a response with immutable headers (e.g. one made by fetch) is copied first. */
function withHeaders(response: Response, requestId: string, close: boolean): Response {
  try {
    response.headers.set(REQUEST_ID_HEADER, requestId)
    if (close) response.headers.set('Connection', 'close')
    return response
  } catch {
    const copy = new Response(response.body, response)
    copy.headers.set(REQUEST_ID_HEADER, requestId)
    if (close) copy.headers.set('Connection', 'close')
    return copy
  }
}
