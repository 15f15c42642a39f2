/**
 * The compiled executable, as an operator runs it: from an empty folder, with nothing beside it,
 * serving a picture from a fake upstream through its real worker pool. Builds dist/headshot first
 * when it is missing (CI builds it before `npm test`).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { BINARY, ensureBinary, readUntil } from './support/binary.ts'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { probeImage } from '../src/lib/image-header.ts'
import { startFakeFacebook, type FakeFacebook } from '../plugins/facebook/fake.ts'
import { startFakeGravatar, type FakeGravatar } from '../plugins/gravatar/fake.ts'
import { loadSdk } from './support/sdk.ts'
import { createTestDatabase, havePostgres } from './support/postgres.ts'

const binary = BINARY
const SECRET = 'binary-test-secret-0123456789'

let facebook: FakeFacebook
let gravatar: FakeGravatar
let workDir: string
let server: ReturnType<typeof Bun.spawn> | undefined
let baseUrl: string

/** A minimal environment: no node_modules on any path, no inherited HEADSHOT_* settings. */
function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: '/usr/bin:/bin',
    TMPDIR: process.env.TMPDIR ?? '/tmp',
    HOME: workDir,
    HEADSHOT_API_KEY: '42',
    HEADSHOT_API_SECRET: SECRET,
    ...extra,
  }
}

async function run(args: string[], extra: Record<string, string> = {}) {
  const child = Bun.spawn([binary, ...args], { cwd: workDir, env: env(extra), stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  return { stdout, stderr, code }
}

beforeAll(async () => {
  ensureBinary()
  facebook = startFakeFacebook()
  facebook.addUser('65646572251', { seed: 'binary', side: 320 })
  gravatar = startFakeGravatar()
  workDir = mkdtempSync(join(tmpdir(), 'headshot-binary-'))
}, 120_000)

afterAll(async () => {
  server?.kill('SIGTERM')
  await server?.exited
  facebook?.stop()
  gravatar?.stop()
  if (workDir) rmSync(workDir, { recursive: true, force: true })
})

describe('dist/headshot', () => {
  test('--version and --help', async () => {
    const version = await run(['--version'])
    expect(version.code).toBe(0)
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
    const help = await run(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('headshot sign <url-path>')
  })

  test('production mode refuses to start without explicit secrets', async () => {
    const child = Bun.spawn([binary, 'serve'], {
      cwd: workDir,
      env: {
        PATH: '/usr/bin:/bin',
        TMPDIR: process.env.TMPDIR ?? '/tmp',
        NODE_ENV: 'production',
        HEADSHOT_PORT: '0',
        HEADSHOT_DATA_DIR: join(workDir, 'prod'),
      },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(await child.exited).toBe(1)
    expect(await new Response(child.stderr).text()).toContain('HEADSHOT_API_SECRET')
  })

  test('serves a signed facebook picture from an empty folder, then shuts down cleanly', async () => {
    expect(readdirSync(workDir)).toEqual([])
    server = Bun.spawn([binary], {
      cwd: workDir,
      env: env({ ...facebook.env, ...gravatar.env, HEADSHOT_PORT: '0', HEADSHOT_HOST: '127.0.0.1' }),
      stdout: 'pipe',
      stderr: 'inherit',
    })
    const listening = /listening on http:\/\/127\.0\.0\.1:(\d+)/
    const started = await readUntil(server.stdout as ReadableStream<Uint8Array>, listening, 15_000)
    baseUrl = `http://127.0.0.1:${listening.exec(started)![1]}`
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200)

    const signed = await run(['sign', '/image/facebook/c_fill,g_north,h_120,w_80/65646572251.webp'])
    expect(signed.code).toBe(0)
    const path = signed.stdout.trim()
    expect(path).toMatch(/^\/image\/facebook\/s--[A-Za-z0-9_-]{8}--\/c_fill,g_north,h_120,w_80\/65646572251\.webp$/)

    const unsigned = await fetch(`${baseUrl}/image/facebook/c_fill,g_north,h_120,w_80/65646572251.webp`)
    expect(unsigned.status).toBe(401)

    const response = await fetch(`${baseUrl}${path}`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('image/webp')
    const probe = probeImage(new Uint8Array(await response.arrayBuffer()))
    expect(probe.ok && probe.value).toMatchObject({ format: 'webp', width: 80, height: 120 })

    // A crop without resize decodes the JPEG at full size: the embedded mozjpeg decoder.
    const cropPath = (await run(['sign', '/image/facebook/c_crop,h_100,w_100/65646572251.jpg'])).stdout.trim()
    const crop = await fetch(`${baseUrl}${cropPath}`)
    expect(crop.status).toBe(200)
    const cropProbe = probeImage(new Uint8Array(await crop.arrayBuffer()))
    expect(cropProbe.ok && cropProbe.value).toMatchObject({ format: 'jpg', width: 100, height: 100 })

    const hash = gravatar.addEmail('bin@example.com').sha256
    const avatar = await fetch(`${baseUrl}/image/gravatar/c_scale,w_40/${hash}.jpg`)
    expect(avatar.status).toBe(200)
    // Face gravity runs the embedded cascades in a worker; JPEG output goes through embedded mozjpeg.
    const thumb = await fetch(`${baseUrl}/image/gravatar/c_thumb,g_face,h_48,w_48/e_sepia/${hash}.jpg`)
    expect(thumb.status).toBe(200)
    const thumbProbe = probeImage(new Uint8Array(await thumb.arrayBuffer()))
    expect(thumbProbe.ok && thumbProbe.value).toMatchObject({ format: 'jpg', width: 48, height: 48 })
    const details = await fetch(`${baseUrl}/v1_1/local/resources/image/gravatar/${hash}?faces=true`, {
      headers: { Authorization: `Basic ${Buffer.from(`42:${SECRET}`).toString('base64')}` },
    })
    expect(details.status).toBe(200)
    expect(((await details.json()) as { faces: unknown }).faces).toEqual([])

    // The Upload and Admin APIs through the official SDK, and the OpenAPI document, from the binary.
    const sdk = loadSdk({ baseUrl, cloudName: 'local', apiKey: '42', apiSecret: SECRET })
    const explicit = await sdk.uploader.explicit('65646572251', {
      type: 'facebook',
      eager: [{ crop: 'fill', width: 30, height: 30 }],
    })
    expect(explicit.eager[0]).toMatchObject({ width: 30, height: 30 })
    const eagerUnsigned = await fetch(`${baseUrl}${new URL(explicit.eager[0].secure_url).pathname}`)
    expect(eagerUnsigned.status).toBe(200)
    const listed = await sdk.api.resources({ type: 'facebook' })
    expect(listed.resources.map((r: { public_id: string }) => r.public_id)).toEqual(['65646572251'])
    const openapi = await fetch(`${baseUrl}/openapi.json`)
    expect(((await openapi.json()) as { paths: object }).paths).toHaveProperty(['/v1_1/{cloud}/image/explicit'])

    // The data folder was created where the operator started it, with the SQLite file and blobs.
    expect(readdirSync(join(workDir, 'data')).sort()).toEqual(expect.arrayContaining(['blobs', 'headshot.db']))

    server.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    server = undefined
  }, 60_000)

  test.skipIf(!havePostgres())(
    'migrates and serves from PostgreSQL with HEADSHOT_DATABASE_URL (embedded migrations)',
    async () => {
      const db = await createTestDatabase()
      const dataDir = join(workDir, 'pg-data')
      const child = Bun.spawn([binary, 'serve'], {
        cwd: workDir,
        env: env({
          ...gravatar.env,
          HEADSHOT_PORT: '0',
          HEADSHOT_HOST: '127.0.0.1',
          HEADSHOT_DATA_DIR: dataDir,
          HEADSHOT_DATABASE_URL: db.url,
        }),
        stdout: 'pipe',
        stderr: 'inherit',
      })
      try {
        const listening = /listening on http:\/\/127\.0\.0\.1:(\d+)/
        const started = await readUntil(child.stdout as ReadableStream<Uint8Array>, listening, 15_000)
        const url = `http://127.0.0.1:${listening.exec(started)![1]}`
        const ready = (await (await fetch(`${url}/readyz`)).json()) as { checks: Record<string, unknown> }
        expect(ready.checks.database).toEqual({ ok: true, detail: 'postgresql' })
        const hash = gravatar.addEmail('pg-bin@example.com').sha256
        expect((await fetch(`${url}/image/gravatar/c_scale,w_40/${hash}.jpg`)).status).toBe(200)
        // The metadata went to PostgreSQL: no SQLite file in the data folder, only the images.
        expect(readdirSync(dataDir)).not.toContain('headshot.db')
        expect(readdirSync(dataDir)).toContain('blobs')
        child.kill('SIGTERM')
        expect(await child.exited).toBe(0)
      } finally {
        child.kill('SIGKILL')
        await db.drop()
      }
    },
    60_000,
  )
})
