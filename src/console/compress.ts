/**
 * gzip for the console's text responses (page, script, stylesheet, JSON) when the browser accepts
 * it: a page of pictures is ~10 KB of JSON and the script ~20 KB, a third of that compressed.
 * Images are never touched (they are compressed already) and neither are tiny bodies.
 */
import { gzipSync } from 'node:zlib'

/** Below this, gzip's header and the CPU are not worth it. */
const MIN_BYTES = 1024
const TEXT_TYPES = /^(text\/|application\/json)/

export async function compressed(request: Request, response: Response): Promise<Response> {
  const type = response.headers.get('content-type') ?? ''
  const acceptsGzip = /\bgzip\b/.test(request.headers.get('accept-encoding') ?? '')
  if (!TEXT_TYPES.test(type) || response.body === null || response.headers.has('content-encoding')) return response
  response.headers.append('Vary', 'Accept-Encoding')
  if (!acceptsGzip) return response
  const body = new Uint8Array(await response.arrayBuffer())
  const headers = new Headers(response.headers)
  if (body.byteLength < MIN_BYTES) return new Response(body, { status: response.status, headers })
  headers.set('Content-Encoding', 'gzip')
  headers.delete('Content-Length')
  return new Response(new Uint8Array(gzipSync(body)), { status: response.status, headers })
}
