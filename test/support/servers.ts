/** Loopback servers and certificates for the client tests. Nothing here touches a non-loopback address. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Server } from 'bun'

export interface SeenRequest {
  method: string
  path: string
  host: string | null
  headers: Headers
  body: string
}

export interface TestServer {
  server: Server<undefined>
  /** `http://127.0.0.1:<port>` (or https / another loopback address). */
  origin: string
  port: number
  seen: SeenRequest[]
  stop(): void
}

/** `body` is the request body, already read (the Request's own body is used up). */
type Handler = (req: Request, url: URL, body: string) => Response | Promise<Response>

export async function startServer(
  handler: Handler,
  options: { hostname?: string; port?: number; tls?: Bun.TLSOptions | Bun.TLSOptions[] } = {},
): Promise<TestServer> {
  const seen: SeenRequest[] = []
  const hostname = options.hostname ?? '127.0.0.1'
  const server = Bun.serve({
    hostname,
    port: options.port ?? 0,
    ...(options.tls ? { tls: options.tls } : {}),
    async fetch(req) {
      const url = new URL(req.url)
      const body = req.method === 'GET' || req.method === 'HEAD' ? '' : await req.text()
      seen.push({
        method: req.method,
        path: url.pathname + url.search,
        host: req.headers.get('host'),
        headers: req.headers,
        body,
      })
      return handler(req, url, body)
    },
  })
  const port = server.port ?? 0
  const scheme = options.tls ? 'https' : 'http'
  const host = hostname.includes(':') ? `[${hostname}]` : hostname
  return { server, origin: `${scheme}://${host}:${port}`, port, seen, stop: () => void server.stop(true) }
}

/** A body that sends `first` and then never ends (until the server is stopped). */
export function stallingBody(first: Uint8Array | string): ReadableStream<Uint8Array> {
  const bytes = typeof first === 'string' ? new TextEncoder().encode(first) : first
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes)
    },
  })
}

/** A chunked body (no Content-Length) of `total` bytes in `chunk`-sized pieces. */
export function chunkedBody(total: number, chunk = 16 * 1024): ReadableStream<Uint8Array> {
  let sent = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close()
      const n = Math.min(chunk, total - sent)
      sent += n
      controller.enqueue(new Uint8Array(n))
    },
  })
}

export interface TestPki {
  ca: string
  /** Certificate for DNS:pinned.test. */
  pinned: { cert: string; key: string }
  /** Certificate for DNS:decoy.test: what the server presents when SNI does not say pinned.test. */
  decoy: { cert: string; key: string }
}

/** A throw-away CA and two leaf certificates, made with the openssl CLI. Undefined when openssl is missing. */
export function makeTestPki(): TestPki | undefined {
  if (!Bun.which('openssl')) return undefined
  const dir = mkdtempSync(join(tmpdir(), 'headshot-pki-'))
  const run = (...args: string[]): void => {
    const r = Bun.spawnSync(['openssl', ...args], { cwd: dir, stderr: 'pipe', stdout: 'pipe' })
    if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString()}`)
  }
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
    run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=headshot test CA')
    const leaf = (name: string): { cert: string; key: string } => {
      writeFileSync(join(dir, `${name}.ext`), `subjectAltName=DNS:${name}\nextendedKeyUsage=serverAuth\n`)
      run('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`)
      run(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.pem`,
        '-days',
        '2',
        '-extfile',
        `${name}.ext`,
      )
      return {
        cert: readFileSync(join(dir, `${name}.pem`), 'utf8'),
        key: readFileSync(join(dir, `${name}.key`), 'utf8'),
      }
    }
    return { ca: readFileSync(join(dir, 'ca.pem'), 'utf8'), pinned: leaf('pinned.test'), decoy: leaf('decoy.test') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
