/**
 * Boots a whole headshot (config → app) on a temp data dir, wired to fake upstreams on loopback.
 * Requests go through `app.handle`, so no port is needed.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp, type App, type AppOptions } from '../../src/app.ts'
import { loadConfig, type Config } from '../../src/config.ts'
import { createLogger } from '../../src/ops/log.ts'
import { signDeliveryPath } from '../../src/url/signature.ts'

export const TEST_SECRET = 'test-secret-0123456789abcdef'

export interface Headshot {
  app: App
  config: Config
  dataDir: string
  /** Every log line written so far (JSON, parsed), oldest first; kept here instead of cluttering test output. */
  logs: Array<Record<string, unknown>>
  get(path: string, init?: RequestInit): Promise<Response>
  head(path: string, init?: RequestInit): Promise<Response>
  /** The path with a valid signature for TEST_SECRET. */
  sign(path: string): string
  metric(name: string): Promise<number>
  /** Serve the app on a loopback port (for real HTTP clients: SDKs, browsers); returns the base URL. */
  listen(): string
  close(): Promise<void>
}

export async function startHeadshot(
  env: Record<string, string>,
  options: Omit<AppOptions, 'env'> = {},
): Promise<Headshot> {
  const dataDir = mkdtempSync(join(tmpdir(), 'headshot-test-'))
  const fullEnv = { HEADSHOT_DATA_DIR: dataDir, HEADSHOT_API_KEY: '123456', HEADSHOT_API_SECRET: TEST_SECRET, ...env }
  const config = await loadConfig(fullEnv)
  const logs: Array<Record<string, unknown>> = []
  const log = createLogger({ level: config.logLevel, write: (line) => void logs.push(JSON.parse(line)) })
  // No sweeper timer: tests that move the clock must not see background rounds; they tick it.
  const app = createApp(config, { inlineDerive: true, sweep: false, log, ...options, env: fullEnv })
  await app.ready
  const request =
    (method: string) =>
    (path: string, init: RequestInit = {}) =>
      app.handle(new Request(`http://localhost${path}`, { ...init, method }))
  let server: ReturnType<typeof Bun.serve> | undefined
  return {
    app,
    config,
    dataDir,
    logs,
    get: request('GET'),
    head: request('HEAD'),
    sign(path) {
      const signed = signDeliveryPath(path, TEST_SECRET)
      if (!signed.ok) throw new Error(signed.error.message)
      return signed.value
    },
    async metric(name) {
      const text = await (await app.handle(new Request('http://localhost/metrics'))).text()
      let total = 0
      for (const line of text.split('\n')) {
        if (line.startsWith(`headshot_${name}`)) total += Number(line.split(' ').pop())
      }
      return total
    },
    listen() {
      server ??= Bun.serve({
        port: 0,
        hostname: '127.0.0.1',
        fetch: (req, bun) => app.handle(req, bun.requestIP(req)?.address),
      })
      return `http://127.0.0.1:${server.port}`
    },
    async close() {
      server?.stop(true)
      await app.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** Decode just the dimensions of a PNG/JPEG/WebP/GIF response body. */
export { probeImage } from '../../src/lib/image-header.ts'
