/**
 * Drop-in plugins through the compiled executable (docs/plugins.md): `headshot plugin init` writes
 * a starter that type-checks against the shipped headshot-plugin.d.ts; dist/headshot loads it from
 * HEADSHOT_PLUGINS_DIR and serves its pictures from a loopback JSON API exactly like a built-in's
 * (signature enforced when restricted); `headshot plugins` lists it; a broken file beside it is
 * reported by name and the server serves anyway. Builds dist/headshot when it is missing.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { BINARY, ensureBinary, readUntil, ROOT } from './support/binary.ts'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { probeImage } from '../src/lib/image-header.ts'
import { type FakeJsonApi, startFakeJsonApi } from './support/fakes/json-api.ts'

const root = ROOT
const binary = BINARY
const SECRET = 'binary-test-secret-0123456789'

let api: FakeJsonApi
let workDir: string
let pluginsDir: string
let server: ReturnType<typeof Bun.spawn> | undefined

/** A minimal environment: no node_modules on any path, no inherited HEADSHOT_* settings. */
function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: '/usr/bin:/bin',
    TMPDIR: process.env.TMPDIR ?? '/tmp',
    HOME: workDir,
    HEADSHOT_API_KEY: '42',
    HEADSHOT_API_SECRET: SECRET,
    HEADSHOT_PLUGINS_DIR: pluginsDir,
    HEADSHOT_DEMO_URL: api.url,
    HEADSHOT_DEMO_TOKEN: 'demo-token-value',
    HEADSHOT_RESTRICTED_TYPES: 'demo',
    ...extra,
  }
}

async function run(args: string[], cwd = workDir) {
  const child = Bun.spawn([binary, ...args], { cwd, env: env(), stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  return { stdout, stderr, code }
}

beforeAll(async () => {
  ensureBinary()
  api = startFakeJsonApi()
  api.addUser('jane', { seed: 'jane', side: 300 })
  workDir = mkdtempSync(join(tmpdir(), 'headshot-binary-plugins-'))
  pluginsDir = join(workDir, 'plugins')
  mkdirSync(pluginsDir)
}, 120_000)

afterAll(async () => {
  server?.kill('SIGTERM')
  await server?.exited
  api?.stop()
  if (workDir) rmSync(workDir, { recursive: true, force: true })
})

describe('dist/headshot with drop-in plugins', () => {
  test('plugin init writes a starter that type-checks against the shipped headshot-plugin.d.ts', async () => {
    const author = join(workDir, 'author')
    mkdirSync(author)
    const init = await run(['plugin', 'init', 'demo'], author)
    expect(init.code).toBe(0)
    expect(init.stdout).toContain('wrote demo.ts and headshot-plugin.d.ts')
    expect(readFileSync(join(author, 'demo.ts'), 'utf8')).toContain("env: 'HEADSHOT_DEMO_URL'")
    expect((await run(['plugin', 'init', 'demo'], author)).code).toBe(1) // never overwrites a plugin
    expect((await run(['plugin', 'init', 'Bad-Name'], author)).code).toBe(2)

    // An author's folder: the two files and a tiny tsconfig, no node_modules, no bun or DOM types.
    writeFileSync(
      join(author, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ESNext',
          module: 'Preserve',
          lib: ['ESNext'],
          types: [],
        },
        files: ['demo.ts'],
      }),
    )
    const tsc = Bun.spawnSync([join(root, 'node_modules', '.bin', 'tsc'), '-p', author], {
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(`${tsc.stdout}${tsc.stderr}`).toBe('')
    expect(tsc.exitCode).toBe(0)

    // Install it, with its declaration (ignored by the loader) and a broken file beside it.
    copyFileSync(join(author, 'demo.ts'), join(pluginsDir, 'demo.ts'))
    copyFileSync(join(author, 'headshot-plugin.d.ts'), join(pluginsDir, 'headshot-plugin.d.ts'))
    writeFileSync(join(pluginsDir, 'broken.ts'), "import 'elysia'\nexport default () => []\n")
    writeFileSync(join(pluginsDir, 'shapeless.js'), "export default () => ({ type: 'shapeless' })\n")
  }, 30_000)

  test('headshot plugins lists built-ins and the drop-in, secrets masked, and names the refused files', async () => {
    const listed = await run(['plugins'])
    expect(listed.code).toBe(0)
    expect(listed.stdout).toContain('gravatar (built-in)')
    const demo = listed.stdout.slice(listed.stdout.indexOf(`demo (${join(pluginsDir, 'demo.ts')})`))
    expect(demo).toStartWith(`demo (${join(pluginsDir, 'demo.ts')})
  id: user name: letters, digits, _ and -, e.g. jane_doe
  restricted by default: no
  hosts: *.example.com
  settings:
    HEADSHOT_DEMO_URL = ${api.url}
    HEADSHOT_DEMO_TOKEN = ****
`)
    expect(listed.stdout).not.toContain('demo-token-value')
    expect(listed.stdout).not.toContain('shapeless (')
    expect(listed.stderr).toContain(`plugin file ${join(pluginsDir, 'broken.ts')} refused: does not import: `)
    expect(listed.stderr).toContain(
      `plugin file ${join(pluginsDir, 'shapeless.js')} refused: settings must be a TypeBox object (host.Type.Object({...}))`,
    )
  })

  test('serves a signed, transformed drop-in picture like a built-in; the broken file does not stop it', async () => {
    server = Bun.spawn([binary, 'serve'], {
      cwd: workDir,
      env: env({ HEADSHOT_PORT: '0', HEADSHOT_HOST: '127.0.0.1' }),
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const started = await readUntil(
      server.stdout as ReadableStream<Uint8Array>,
      /listening on http:\/\/127\.0\.0\.1:\d+/,
      15_000,
    )
    const baseUrl = `http://127.0.0.1:${/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(started)![1]}`
    // Start-up events are JSON log lines on stdout, before the listening line: refusals are warnings.
    const lines = started
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { level: string; msg: string })
    const said = (level: string, text: string) => lines.some((l) => l.level === level && l.msg.includes(text))
    expect(said('info', `${join(pluginsDir, 'demo.ts')} loaded: type demo`)).toBe(true)
    expect(said('warn', `plugin file ${join(pluginsDir, 'broken.ts')} refused: does not import: `)).toBe(true)
    expect(said('warn', `plugin file ${join(pluginsDir, 'shapeless.js')} refused: `)).toBe(true)

    const path = '/image/demo/c_fill,g_north,h_120,w_80/jane.webp'
    expect((await fetch(`${baseUrl}${path}`)).status).toBe(401) // restricted: HEADSHOT_RESTRICTED_TYPES=demo
    const signed = await run(['sign', path])
    expect(signed.code).toBe(0)
    expect(signed.stdout.trim()).toMatch(
      /^\/image\/demo\/s--[A-Za-z0-9_-]{8}--\/c_fill,g_north,h_120,w_80\/jane\.webp$/,
    )
    const response = await fetch(`${baseUrl}${signed.stdout.trim()}`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('image/webp')
    const probe = probeImage(new Uint8Array(await response.arrayBuffer()))
    expect(probe.ok && probe.value).toMatchObject({ format: 'webp', width: 80, height: 120 })
    // The token reached the API as the starter sends it.
    expect(api.requests.to('user').some((r) => r.headers.get('authorization') === 'Bearer demo-token-value')).toBe(true)

    const missing = await fetch(`${baseUrl}${(await run(['sign', '/image/demo/nobody.jpg'])).stdout.trim()}`)
    expect(missing.status).toBe(404)
    // Built-ins are untouched.
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200)

    server.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    server = undefined
  }, 60_000)
})
