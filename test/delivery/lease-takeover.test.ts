/**
 * An instance dies (kill -9) while it holds the lease of a picture fetch (issue 12). A real
 * process (`bun src/main.ts serve`) on a shared PostgreSQL database and store starts downloading
 * from a slow upstream and is killed mid-download; a request to a second instance then waits for
 * the dead one's lease to run out (HEADSHOT_LEASE_TTL, 2 s here), takes the fetch over and answers
 * 200. The store is left whole: every row's blob is there, and every blob is some row's. Needs
 * HEADSHOT_TEST_DATABASE_URL (skipped without it, failing under CI=true); uses the S3 test bucket
 * when configured, else one data directory.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { SQL, S3Client } from 'bun'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { spawnServe } from '../support/binary.ts'
import { startHeadshot, TEST_SECRET, type Headshot } from '../support/headshot.ts'
import { createTestDatabase, havePostgres, type TestDatabase } from '../support/postgres.ts'
import { s3Env, s3TestCredentials, type S3TestSettings, s3TestSettings, emptyPrefix } from '../support/s3.ts'

const LEASE_TTL_MS = 2_000

describe.skipIf(!havePostgres())('an instance killed while it holds a picture lease', () => {
  let db: TestDatabase
  let gravatar: FakeGravatar
  let settings: S3TestSettings | undefined
  let survivor: Headshot
  let env: Record<string, string>

  beforeAll(async () => {
    db = await createTestDatabase()
    gravatar = startFakeGravatar()
    settings = s3TestCredentials() ? await s3TestSettings('takeover') : undefined
    env = {
      ...gravatar.env,
      HEADSHOT_DATABASE_URL: db.url,
      HEADSHOT_LEASE_TTL: `${LEASE_TTL_MS}ms`,
      ...(settings ? s3Env(settings) : {}),
    }
    survivor = await startHeadshot(env)
  })
  afterAll(async () => {
    await survivor?.close()
    gravatar?.stop()
    await db?.drop()
    if (settings) await emptyPrefix(settings)
  })

  /** Blob hashes in the shared store (the bucket's prefix, or the shared data directory). */
  async function blobsInStore(): Promise<string[]> {
    if (settings) {
      const bucket = new S3Client({ ...settings })
      const objects = (await bucket.list({ prefix: `${settings.prefix}blobs/` })).contents ?? []
      return objects.map((o) => o.key.split('/').pop()!).sort()
    }
    const root = join(survivor.dataDir, 'blobs')
    const found: string[] = []
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(join(dir, entry.name))
        else if (/^[0-9a-f]{64}$/.test(entry.name)) found.push(entry.name)
      }
    }
    try {
      walk(root)
    } catch {}
    return found.sort()
  }

  test('another instance takes the fetch over after the lease TTL; no half-written picture is left', async () => {
    const { md5 } = gravatar.addEmail('doomed@example.com')
    const path = `/image/gravatar/${md5}.jpg`
    gravatar.modes.delayMs = 20_000 // the doomed instance never gets its answer

    const { child: doomed, port } = await spawnServe(
      {
        HOME: survivor.dataDir,
        HEADSHOT_DATA_DIR: settings ? join(survivor.dataDir, 'doomed') : survivor.dataDir,
        HEADSHOT_WORKERS: '1',
        HEADSHOT_API_KEY: '123456',
        HEADSHOT_API_SECRET: TEST_SECRET,
        ...env,
      },
      { timeoutMs: 15_000 },
    )
    try {
      // Its request reaches the upstream: it holds the picture's lease and waits for the bytes.
      const lost = fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined)
      const deadline = Date.now() + 10_000
      while (gravatar.arrived === 0 && Date.now() < deadline) await Bun.sleep(20)
      expect(gravatar.arrived).toBe(1)
      process.kill(doomed.pid, 'SIGKILL')
      await doomed.exited
      await lost
    } finally {
      doomed.kill('SIGKILL')
    }

    gravatar.modes.delayMs = 0
    const asked = performance.now()
    const response = await survivor.get(path)
    const waited = performance.now() - asked
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('image/jpeg')
    // It waited for the dead instance's lease to run out (at most one TTL), then fetched itself.
    expect(waited).toBeLessThan(LEASE_TTL_MS + 3_000)
    expect(gravatar.arrived).toBe(2)
    expect(await survivor.metric('lease_waits_total')).toBe(1)
    expect(await survivor.metric('lease_takeovers_total')).toBe(1)

    // The store is whole: the picture's row names a blob that is there, and no blob is nobody's.
    const sql = new SQL({ url: db.url, max: 1 })
    try {
      const rows = (await sql.unsafe(
        `SELECT status, content_hash FROM pictures UNION ALL SELECT 'derived', content_hash FROM derivatives`,
      )) as Array<{ status: string; content_hash: string }>
      expect(rows).toEqual([{ status: 'ok', content_hash: expect.stringMatching(/^[0-9a-f]{64}$/) }])
      expect(await blobsInStore()).toEqual([rows[0]!.content_hash])
      // Nothing is held any more: the dead instance's lease was taken over, then given back.
      expect(await sql.unsafe('SELECT name FROM leases')).toEqual([])
    } finally {
      await sql.close()
    }
  }, 20_000)
})
