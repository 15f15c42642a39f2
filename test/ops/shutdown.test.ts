/**
 * Shutdown, through the real process (`bun src/main.ts serve`) and a fake upstream that answers
 * slowly: on SIGTERM the request under way is answered and the process exits 0; new connections
 * are refused; past the deadline open connections are cut and the exit code says so; with a delay,
 * /readyz answers 503 while everything else is still served.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFakeFacebook, type FakeFacebook } from '../../plugins/facebook/fake.ts'
import { probeImage } from '../../src/lib/image-header.ts'
import { spawnServe } from '../support/binary.ts'

let facebook: FakeFacebook
let dir: string

beforeAll(() => {
  facebook = startFakeFacebook()
  facebook.addUser('4', { seed: 'zuck', side: 200 })
  dir = mkdtempSync(join(tmpdir(), 'headshot-shutdown-'))
})

afterAll(() => {
  facebook.stop()
  rmSync(dir, { recursive: true, force: true })
})

interface Running {
  child: ReturnType<typeof Bun.spawn>
  base: string
  port: number
  /** Everything the process wrote on stdout, parsed, once it exited. */
  lines(): Promise<Array<Record<string, unknown>>>
}

async function start(name: string, env: Record<string, string>): Promise<Running> {
  const { child, port, started } = await spawnServe({
    HOME: dir,
    HEADSHOT_DATA_DIR: join(dir, name),
    HEADSHOT_RESTRICTED_TYPES: 'none',
    HEADSHOT_API_KEY: '42',
    HEADSHOT_API_SECRET: 'shutdown-test-secret-0123456789',
    ...facebook.env,
    ...env,
  })
  return {
    child,
    port,
    base: `http://127.0.0.1:${port}`,
    async lines() {
      const reader = child.stdout.getReader()
      const decoder = new TextDecoder()
      let rest = ''
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        rest += decoder.decode(chunk.value, { stream: true })
      }
      return `${started}${rest}`
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line))
    },
  }
}

/** Does a new TCP connection to the port get accepted? */
function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.on('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.on('error', () => resolve(false))
  })
}

/** Wait until the server is serving another request than the scrape asking: the slow one is under way. */
async function underWay(server: Running): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const text = await (await fetch(`${server.base}/metrics`)).text()
    if (Number(/^headshot_requests_in_flight (\S+)$/m.exec(text)?.[1]) >= 2) return
    if (Date.now() > deadline) throw new Error('the slow request never started')
    await Bun.sleep(20)
  }
}

test('SIGTERM: the request under way is answered, new connections are refused, exit 0', async () => {
  const server = await start('drained', {})
  facebook.modes.stallMs = 1500
  try {
    const slow = fetch(`${server.base}/image/facebook/c_fill,h_40,w_40/4.jpg`)
    await underWay(server)
    const signalledAt = Date.now()
    server.child.kill('SIGTERM')
    await Bun.sleep(200)
    expect(await connects(server.port)).toBe(false)

    const response = await slow
    expect(response.status).toBe(200)
    const probe = probeImage(new Uint8Array(await response.arrayBuffer()))
    expect(probe.ok && probe.value).toMatchObject({ format: 'jpg', width: 40, height: 40 })
    expect(await server.child.exited).toBe(0)
    expect(Date.now() - signalledAt).toBeGreaterThan(800) // it did wait for the upstream

    const lines = await server.lines()
    const index = (pattern: RegExp) => lines.findIndex((line) => pattern.test(String(line.msg)))
    const shutting = index(/^SIGTERM: shutting down$/)
    expect(lines[shutting]).toMatchObject({ level: 'info', inFlight: 1, timeoutMs: 10_000 })
    const answered = lines.findIndex((line) => line.msg === 'request' && line.status === 200)
    const stopped = index(/^stopped: every request under way was answered$/)
    expect(shutting).toBeLessThan(answered)
    expect(answered).toBeLessThan(stopped)
    expect(stopped).toBe(lines.length - 1)
  } finally {
    facebook.modes.stallMs = 0
    server.child.kill('SIGKILL')
  }
}, 40_000)

test('past HEADSHOT_SHUTDOWN_TIMEOUT the open connection is cut and the exit code is 1', async () => {
  const server = await start('forced', { HEADSHOT_SHUTDOWN_TIMEOUT: '300ms' })
  facebook.modes.stallMs = 8000
  try {
    const slow = fetch(`${server.base}/image/facebook/4.png`).then(
      (response) => response.status,
      () => 'cut',
    )
    await underWay(server)
    const signalledAt = Date.now()
    server.child.kill('SIGTERM')
    expect(await server.child.exited).toBe(1)
    expect(Date.now() - signalledAt).toBeLessThan(5000)
    expect(await slow).toBe('cut')
    const last = (await server.lines()).at(-1)!
    expect(last).toMatchObject({ level: 'warn', msg: expect.stringContaining('open connections were cut') })
  } finally {
    facebook.modes.stallMs = 0
    server.child.kill('SIGKILL')
  }
}, 40_000)

test('with HEADSHOT_SHUTDOWN_DELAY, /readyz answers 503 at once while requests are still served', async () => {
  const server = await start('delayed', { HEADSHOT_SHUTDOWN_DELAY: '1500ms' })
  try {
    expect((await fetch(`${server.base}/readyz`)).status).toBe(200)
    server.child.kill('SIGTERM')
    await Bun.sleep(200)
    const ready = await fetch(`${server.base}/readyz`)
    expect(ready.status).toBe(503)
    expect(await ready.json()).toMatchObject({ status: 'not ready', checks: { shutdown: { ok: false } } })
    // Still served, each answer asking the client to take its next request elsewhere.
    const picture = await fetch(`${server.base}/image/facebook/c_fill,h_20,w_20/4.jpg`)
    expect(picture.status).toBe(200)
    expect(picture.headers.get('connection')).toBe('close')
    await picture.arrayBuffer()

    expect(await server.child.exited).toBe(0)
    expect(await connects(server.port)).toBe(false)
  } finally {
    server.child.kill('SIGKILL')
  }
}, 40_000)

test('a second signal while draining stops at once', async () => {
  const server = await start('insisted', { HEADSHOT_SHUTDOWN_DELAY: '30s' })
  try {
    server.child.kill('SIGTERM')
    await Bun.sleep(300)
    const signalledAt = Date.now()
    server.child.kill('SIGINT')
    expect(await server.child.exited).toBe(1)
    expect(Date.now() - signalledAt).toBeLessThan(5000)
  } finally {
    server.child.kill('SIGKILL')
  }
}, 40_000)
