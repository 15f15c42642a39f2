/**
 * `headshot migrate` end to end: a populated SQLite + disk instance moved into a real PostgreSQL
 * and a real S3 bucket by the command, verified, and served from there without asking the network
 * or transforming again. Needs HEADSHOT_TEST_DATABASE_URL and HEADSHOT_TEST_S3_* (skipped without
 * them, failing under CI=true).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { S3Client, SQL } from 'bun'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { type FakeGravatar, startFakeGravatar } from '../plugins/gravatar/fake.ts'
import { openSqliteRepository } from '../src/store/sqlite.ts'
import { signApiParams } from '../src/url/api-signature.ts'
import { type Headshot, startHeadshot, TEST_SECRET } from './support/headshot.ts'
import { createTestDatabase, havePostgres, type TestDatabase } from './support/postgres.ts'
import { describeS3, s3Env, type S3TestSettings, s3TestSettings } from './support/s3.ts'

const root = resolve(import.meta.dir, '..')
// The test server trusts loopback, so any password logs in: this one must never be printed.
const PASSWORD = 'pw-Not-In-Output-73'

test('usage: --help explains it, an unknown option is exit 2, a missing source or target exit 1', () => {
  const run = (args: string[], extra: Record<string, string> = {}) => {
    const child = Bun.spawnSync([process.execPath, 'src/main.ts', 'migrate', ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HEADSHOT_DATA_DIR: '/nonexistent/headshot-data', ...extra },
    })
    return { code: child.exitCode, stdout: child.stdout.toString(), stderr: child.stderr.toString() }
  }
  const help = run(['--help'])
  expect(help.code).toBe(0)
  expect(help.stdout).toContain('usage: headshot migrate [--from <data dir>] [--dry-run | --verify-only] [--force]')
  expect(run(['--dry-run', '--verify-only']).code).toBe(2)
  expect(run(['--bogus']).code).toBe(2)
  const credentials = { HEADSHOT_API_KEY: '123456', HEADSHOT_API_SECRET: TEST_SECRET }
  const dir = mkdtempSync(join(tmpdir(), 'headshot-migrate-usage-'))
  try {
    const noTarget = run([], { ...credentials, HEADSHOT_DATA_DIR: dir })
    expect(noTarget.code).toBe(1)
    expect(noTarget.stderr).toContain('HEADSHOT_DATABASE_URL is unset')
    const url = `postgres://headshot:${PASSWORD}@127.0.0.1:1/headshot`
    const noSource = run(['--from', join(dir, 'missing')], {
      ...credentials,
      HEADSHOT_DATA_DIR: dir,
      HEADSHOT_DATABASE_URL: url,
    })
    expect(noSource.code).toBe(1)
    expect(noSource.stderr).toContain(`no database at ${join(dir, 'missing', 'headshot.db')}`)
    expect(noSource.stderr + noSource.stdout).not.toContain(PASSWORD)
    // A source, but a database that cannot be reached: exit 1, saying so, the password unsaid.
    openSqliteRepository(join(dir, 'headshot.db')).close()
    const unreachable = run([], { ...credentials, HEADSHOT_DATA_DIR: dir, HEADSHOT_DATABASE_URL: url })
    expect(unreachable.code).toBe(1)
    expect(unreachable.stderr).toContain(
      'headshot migrate: cannot open the target database postgresql://127.0.0.1:1/headshot',
    )
    expect(unreachable.stderr + unreachable.stdout).not.toContain(PASSWORD)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

describeS3('headshot migrate: SQLite + disk → PostgreSQL + S3', () => {
  if (!havePostgres()) {
    test.skip('needs HEADSHOT_TEST_DATABASE_URL', () => {})
    return
  }
  let gravatar: FakeGravatar
  let settings: S3TestSettings
  let bucket: S3Client
  let db: TestDatabase
  let source: Headshot
  let targetUrl: string
  /** Every URL delivered by the source instance, with the bytes it answered. */
  const delivered = new Map<string, Uint8Array>()
  let upstreamCalls = 0

  const env = () => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: source.dataDir,
    HEADSHOT_DATA_DIR: source.dataDir,
    HEADSHOT_API_KEY: '123456',
    HEADSHOT_API_SECRET: TEST_SECRET,
    HEADSHOT_DATABASE_URL: targetUrl,
    ...s3Env(settings),
  })
  const migrate = async (...args: string[]) => {
    const child = Bun.spawn([process.execPath, 'src/main.ts', 'migrate', ...args], {
      cwd: root,
      env: env(),
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ])
    // Neither the database password nor the S3 secret is ever printed.
    for (const secret of [PASSWORD, settings.secretAccessKey]) expect(stdout + stderr).not.toContain(secret)
    return { stdout, stderr, code }
  }
  const query = async (text: string) => {
    const sql = new SQL({ url: targetUrl, max: 1 })
    try {
      return await sql.unsafe(text)
    } finally {
      await sql.close()
    }
  }

  beforeAll(async () => {
    gravatar = startFakeGravatar()
    settings = await s3TestSettings('migrate')
    bucket = new S3Client({ ...settings })
    db = await createTestDatabase()
    const url = new URL(db.url)
    url.password = PASSWORD
    targetUrl = url.toString()

    // A SQLite + disk instance used as in production: several pictures, derived images in several
    // formats, face-gravity crops (face records), an eager derived image, a "no picture" answer.
    source = await startHeadshot({ ...gravatar.env })
    const hashes = ['one', 'two', 'three', 'four', 'five'].map((name) => gravatar.addEmail(`${name}@example.com`).md5)
    const paths = [
      ...hashes.map((md5) => `/image/gravatar/c_fill,h_80,w_80/${md5}.jpg`),
      ...hashes.slice(0, 3).map((md5) => `/image/gravatar/c_thumb,g_face,h_40,w_40/${md5}.png`),
      `/image/gravatar/w_50/${hashes[0]}.webp`,
      `/image/gravatar/${hashes[1]}.jpg`,
    ]
    for (const path of paths) {
      const response = await source.get(path)
      expect(response.status).toBe(200)
      delivered.set(path, new Uint8Array(await response.arrayBuffer()))
    }
    const nobody = 'f'.repeat(32)
    expect((await source.get(`/image/gravatar/w_20/${nobody}.jpg`)).status).toBe(404)
    const params = {
      public_id: hashes[4]!,
      type: 'gravatar',
      eager: 'c_fill,h_30,w_30',
      timestamp: `${Math.floor(Date.now() / 1000)}`,
    }
    const explicit = await source.app.handle(
      new Request('http://localhost/v1_1/local/image/explicit', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...params, api_key: '123456', signature: signApiParams(params, TEST_SECRET) }),
      }),
    )
    expect(explicit.status).toBe(200)
    const eagerPath = `/image/gravatar/c_fill,h_30,w_30/${hashes[4]}.jpg`
    delivered.set(eagerPath, new Uint8Array(await (await source.get(eagerPath)).arrayBuffer()))
    // Closed, not removed: its data directory is the source.
    await source.app.close()
    upstreamCalls = gravatar.requests.count()
  }, 30_000)

  afterAll(async () => {
    gravatar?.stop()
    await db?.drop()
    if (source) rmSync(source.dataDir, { recursive: true, force: true })
    const keys = settings ? ((await bucket.list({ prefix: settings.prefix })).contents ?? []) : []
    for (const object of keys) await bucket.unlink(object.key)
  })

  test('a dry run counts what it would copy and writes no row and no image', async () => {
    const { stdout, code } = await migrate('--dry-run')
    expect(code).toBe(0)
    expect(stdout).toMatch(/pictures: 6 in the source, 6 to copy, 0 already there/)
    expect(stdout).toMatch(/blobs: \d+ to copy, 0 to repair/)
    expect((await query('SELECT count(*)::int AS n FROM pictures'))[0].n).toBe(0)
    expect((await bucket.list({ prefix: settings.prefix })).contents ?? []).toHaveLength(0)
  }, 20_000)

  test('copies every picture, derived image and face record with their images, and verifies them', async () => {
    const { stdout, stderr, code } = await migrate()
    expect(stderr).toContain('verifying')
    expect(code).toBe(0)
    // 5 held pictures and 1 remembered "no picture" answer; 10 derived images (9 transformed URLs and
    // the eager one; the untransformed URL is the original itself).
    expect(stdout).toContain('pictures: 6 in the source, 6 copied, 0 already there, 6 in the target')
    expect(stdout).toContain('derived images: 10 in the source, 10 copied, 0 already there, 10 in the target')
    expect((await query('SELECT count(*)::int AS n FROM derivatives'))[0].n).toBe(10)
    expect(stdout).toContain('verification: ok')
    expect(stdout).toMatch(/faces: 3 pictures with detected faces/)
    const [absent] = await query(`SELECT status, content_hash FROM pictures WHERE public_id = '${'f'.repeat(32)}'`)
    expect(absent).toEqual({ status: 'none', content_hash: null })
    const [eager] = await query(`SELECT count(*)::int AS n FROM derivatives WHERE eager`)
    expect(eager.n).toBe(1)
    // Every image the rows name is in the bucket.
    const objects = (await bucket.list({ prefix: settings.prefix })).contents ?? []
    const [totals] = await query('SELECT blobs::int AS blobs FROM store_totals')
    expect(objects).toHaveLength(totals.blobs)
  }, 20_000)

  test('run again: nothing is copied, and the verification passes', async () => {
    const { stdout, code } = await migrate()
    expect(code).toBe(0)
    expect(stdout).toMatch(/pictures: 6 in the source, 0 copied, 6 already there/)
    expect(stdout).toMatch(/blobs: 0 copied, 0 repaired .*; \d+ already there with the right hash/)
    expect(stdout).toContain('verification: ok')
  }, 20_000)

  test('an image damaged in the bucket fails the verification (exit 1); the next run repairs it', async () => {
    const [row] = await query(`SELECT content_hash FROM pictures WHERE status = 'ok' LIMIT 1`)
    const hash = row.content_hash as string
    await bucket.write(`${settings.prefix}blobs/${hash.slice(0, 2)}/${hash}`, 'not the picture')
    const verify = await migrate('--verify-only')
    expect(verify.code).toBe(1)
    expect(verify.stdout).toContain(`blob ${hash} is damaged in the target`)
    expect(verify.stdout).toContain('verification: FAILED')

    const repair = await migrate()
    expect(repair.code).toBe(0)
    expect(repair.stdout).toMatch(/blobs: 0 copied, 1 repaired/)
    expect(repair.stdout).toContain('verification: ok')
  }, 30_000)

  test('a target row that differs stops the run before it writes; --force makes the target a copy', async () => {
    await query(
      `UPDATE pictures SET etag = '"edited"' WHERE status = 'ok' AND public_id = (SELECT min(public_id) FROM pictures WHERE status = 'ok')`,
    )
    await query(
      `INSERT INTO pictures (type, public_id, version, status, created_at, fetched_at, checked_at) VALUES ('gravatar', 'only-here', 1, 'none', 1, 1, 1)`,
    )
    const refused = await migrate()
    expect(refused.code).toBe(1)
    expect(refused.stdout).toContain('refused')
    expect(refused.stdout).toMatch(/differs in etag/)
    expect(refused.stdout).toContain('"only-here"] is in the target only')
    expect((await query(`SELECT count(*)::int AS n FROM pictures WHERE etag = '"edited"'`))[0].n).toBe(1)

    const forced = await migrate('--force')
    expect(forced.code).toBe(0)
    expect(forced.stdout).toContain('1 different (replaced), 1 in the target only (deleted)')
    expect(forced.stdout).toContain('verification: ok')
    expect(
      (await query(`SELECT count(*)::int AS n FROM pictures WHERE etag = '"edited"' OR public_id = 'only-here'`))[0].n,
    ).toBe(0)
  }, 30_000)

  test('an instance on PostgreSQL + S3 with the same secrets serves the same bytes, asking no network and deriving nothing', async () => {
    const target = await startHeadshot({ ...gravatar.env, HEADSHOT_DATABASE_URL: db.url, ...s3Env(settings) })
    try {
      for (const [path, bytes] of delivered) {
        const response = await target.get(path)
        expect(response.status).toBe(200)
        expect(new Uint8Array(await response.arrayBuffer())).toEqual(new Uint8Array(bytes))
      }
      expect((await target.get(`/image/gravatar/w_20/${'f'.repeat(32)}.jpg`)).status).toBe(404)
      expect(gravatar.requests.count()).toBe(upstreamCalls)
      expect(await target.metric('derives_total')).toBe(0)
      expect(await target.metric('face_detections_total')).toBe(0)
    } finally {
      await target.close()
    }
  }, 20_000)
})
