/**
 * The S3 endpoint the S3 tests run against, from HEADSHOT_TEST_S3_* (`.ci/run` starts Ceph's RADOS
 * Gateway with scripts/ci/start-rgw.sh and exports them). Without it the S3 tests are skipped with
 * a message saying how to run them, except under CI, where its absence is a failure.
 */
import { describe, test } from 'bun:test'
import { S3Client } from 'bun'
import { randomBytes } from 'node:crypto'
import { createBucket, type S3Credentials } from '../../src/store/s3-sign.ts'
import type { S3Settings } from '../../src/store/s3-blobs.ts'

export type S3TestSettings = Omit<S3Settings, 'refreshAfterMs'> & { prefix: string }

/** Every test file shares this bucket, each test run under a prefix of its own. */
export const TEST_BUCKET = process.env.HEADSHOT_TEST_S3_BUCKET ?? 'headshot-test'

export const S3_MISSING =
  'HEADSHOT_TEST_S3_ENDPOINT is not set: start a local S3 endpoint with ' +
  '`eval "$(bash scripts/ci/start-rgw.sh)"` to run these tests (see CONTRIBUTING.md)'

export function s3TestCredentials(): S3Credentials | undefined {
  const env = process.env
  if (!env.HEADSHOT_TEST_S3_ENDPOINT) return undefined
  return {
    endpoint: env.HEADSHOT_TEST_S3_ENDPOINT,
    region: env.HEADSHOT_TEST_S3_REGION ?? 'us-east-1',
    accessKeyId: env.HEADSHOT_TEST_S3_ACCESS_KEY_ID ?? '',
    secretAccessKey: env.HEADSHOT_TEST_S3_SECRET_ACCESS_KEY ?? '',
  }
}

let bucketReady: Promise<unknown> | undefined

/** The test bucket (created on first use) and a fresh random prefix: tests never see each other's objects. */
export async function s3TestSettings(label = 'test'): Promise<S3TestSettings> {
  const credentials = s3TestCredentials()
  if (!credentials) throw new Error(S3_MISSING)
  bucketReady ??= createBucket(credentials, TEST_BUCKET)
  await bucketReady
  return { ...credentials, bucket: TEST_BUCKET, prefix: `${label}-${randomBytes(6).toString('hex')}/` }
}

/** The HEADSHOT_S3_* environment of a headshot using this settings' bucket and prefix. */
export const s3Env = (settings: S3TestSettings): Record<string, string> => ({
  HEADSHOT_S3_ENDPOINT: settings.endpoint,
  HEADSHOT_S3_BUCKET: settings.bucket,
  HEADSHOT_S3_REGION: settings.region,
  HEADSHOT_S3_ACCESS_KEY_ID: settings.accessKeyId,
  HEADSHOT_S3_SECRET_ACCESS_KEY: settings.secretAccessKey,
  HEADSHOT_S3_PREFIX: settings.prefix,
})

/** Deletes every object under the settings' prefix (afterAll; the bucket is shared by all test runs). */
export async function emptyPrefix(settings: S3TestSettings): Promise<void> {
  const client = new S3Client({ ...settings })
  for (;;) {
    const page = (await client.list({ prefix: settings.prefix, maxKeys: 1000 })).contents ?? []
    if (page.length === 0) break
    await Promise.all(page.map((object) => client.unlink(object.key)))
  }
}

/**
 * `describe` when the test endpoint is configured; otherwise one test that fails under CI (naming
 * what is missing) or a skipped one with the same message.
 */
export function describeS3(name: string, body: () => void): void {
  if (s3TestCredentials()) describe(name, body)
  else if (process.env.CI) {
    test(`${name}: S3 test endpoint configured (required under CI)`, () => {
      throw new Error(S3_MISSING)
    })
  } else {
    test.skip(`${name} (${S3_MISSING})`, () => {})
  }
}
