/**
 * Work shared across instances (issue 12): three instances on one PostgreSQL database and one
 * store (the S3 bucket when the test endpoint is configured, as scale-out uses it; else one data
 * directory), and a slow upstream. A herd of 200 requests for the same new derived image, spread
 * over the three, makes exactly one upstream download and one derivation, and every answer is the
 * same image. Needs HEADSHOT_TEST_DATABASE_URL (skipped without it, failing under CI=true).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { startFakeGravatar, type FakeGravatar } from '../../plugins/gravatar/fake.ts'
import { startHeadshot, type Headshot } from '../support/headshot.ts'
import { createTestDatabase, havePostgres, type TestDatabase } from '../support/postgres.ts'
import { s3Env, s3TestCredentials, type S3TestSettings, s3TestSettings, emptyPrefix } from '../support/s3.ts'

const HERD = 200

describe.skipIf(!havePostgres())('a herd over three instances sharing one database and one store', () => {
  let db: TestDatabase
  let gravatar: FakeGravatar
  let settings: S3TestSettings | undefined
  const instances: Headshot[] = []

  beforeAll(async () => {
    db = await createTestDatabase()
    gravatar = startFakeGravatar()
    settings = s3TestCredentials() ? await s3TestSettings('herd') : undefined
    const env = { ...gravatar.env, HEADSHOT_DATABASE_URL: db.url, ...(settings ? s3Env(settings) : {}) }
    instances.push(await startHeadshot(env))
    // Without S3 the three share the first one's data directory, as instances share a volume.
    const shared: Record<string, string> = settings ? {} : { HEADSHOT_DATA_DIR: instances[0]!.dataDir }
    for (let i = 1; i < 3; i++) instances.push(await startHeadshot({ ...env, ...shared }))
  })
  afterAll(async () => {
    // The first last: without S3 the others use its data directory, which its close removes.
    for (const instance of instances.reverse()) await instance.close()
    gravatar?.stop()
    await db?.drop()
    if (settings) await emptyPrefix(settings)
  })

  const total = async (metric: string) => {
    let sum = 0
    for (const instance of instances) sum += await instance.metric(metric)
    return sum
  }

  test(`${HERD} requests for one new derived image: one upstream download, one derivation, one answer`, async () => {
    const { md5 } = gravatar.addEmail('herd@example.com')
    // Slow enough that the whole herd arrives while the first download is under way.
    gravatar.modes.delayMs = 400
    const path = `/image/gravatar/c_fill,h_64,w_64/${md5}.png`

    const answers = await Promise.all(
      Array.from({ length: HERD }, async (_, i) => {
        const response = await instances[i % 3]!.get(path)
        const bytes = new Uint8Array(await response.arrayBuffer())
        return { status: response.status, digest: createHash('sha256').update(bytes).digest('hex') }
      }),
    )

    expect(answers.filter((a) => a.status !== 200)).toEqual([])
    expect(new Set(answers.map((a) => a.digest)).size).toBe(1)
    expect(gravatar.requests.count('avatar')).toBe(1)
    expect(await total('derives_total')).toBe(1)
    // The two instances that did neither waited for the one that did (once per piece of work).
    expect(await total('lease_waits_total')).toBeGreaterThanOrEqual(2)
    expect(await total('lease_takeovers_total')).toBe(0)
  })
})
