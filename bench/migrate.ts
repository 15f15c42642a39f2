/**
 * `headshot migrate`'s copy (src/store/copy.ts) from a SQLite + disk store into PostgreSQL + S3:
 * N pictures, each a 20 KB original and three 5 KB derived images, copied, copied again (nothing to
 * write: every image read back and checked) and verified only. Baseline, same run: the same images
 * put straight into the bucket 8 at once, without reading back, hashing or rows.
 * Needs HEADSHOT_TEST_DATABASE_URL and HEADSHOT_TEST_S3_* (a fresh database and prefix, removed after).
 * Run: bun run bench/migrate.ts [N=1000]
 */
import { Database } from 'bun:sqlite'
import { S3Client } from 'bun'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDiskBlobStore } from '../src/store/blobs.ts'
import { type CopyMode, copyStore, copySucceeded } from '../src/store/copy.ts'
import { openPostgresDatabase } from '../src/store/postgres.ts'
import { createS3BlobStore } from '../src/store/s3-blobs.ts'
import { openSqliteRepository } from '../src/store/sqlite.ts'
import { createTestDatabase, PG_TEST_URL } from '../test/support/postgres.ts'
import { emptyPrefix, s3TestCredentials, s3TestSettings } from '../test/support/s3.ts'

const N = Number(process.argv[2] ?? 1000)
if (!PG_TEST_URL || !s3TestCredentials()) {
  console.log('bench/migrate.ts needs HEADSHOT_TEST_DATABASE_URL and HEADSHOT_TEST_S3_* (CONTRIBUTING.md)')
  process.exit(0)
}

const dir = mkdtempSync(join(tmpdir(), 'headshot-bench-migrate-'))
const db = await createTestDatabase()
const settings = await s3TestSettings('bench-migrate')
const baselineSettings = await s3TestSettings('bench-migrate-baseline')
try {
  const repo = openSqliteRepository(join(dir, 'headshot.db'))
  const blobs = createDiskBlobStore(join(dir, 'blobs'))
  const random = (size: number) => crypto.getRandomValues(new Uint8Array(size))
  const all: Uint8Array[] = []
  let totalBytes = 0
  for (let i = 0; i < N; i++) {
    const original = random(20_000)
    all.push(original)
    const publicId = `user-${i}`
    await repo.putPicture({
      type: 'gravatar',
      publicId,
      version: 1,
      status: 'ok',
      upstreamUrl: null,
      changeKey: null,
      etag: null,
      lastModified: null,
      contentHash: await blobs.put(original),
      format: 'jpg',
      width: 200,
      height: 200,
      bytes: original.byteLength,
      faces: [{ x: 50, y: 40, w: 80, h: 90 }],
      createdAt: i,
      fetchedAt: i,
      checkedAt: i,
    })
    for (const width of [40, 80, 120]) {
      const derived = random(5_000)
      all.push(derived)
      await repo.putDerivative({
        type: 'gravatar',
        publicId,
        version: 1,
        key: `c_fill,h_${width},w_${width}/jpg`,
        format: 'jpg',
        contentHash: await blobs.put(derived),
        bytes: derived.byteLength,
        width,
        height: width,
        createdAt: i,
        lastServedAt: i,
        eager: false,
      })
    }
  }
  for (const bytes of all) totalBytes += bytes.byteLength
  repo.close()

  // Baseline: the same bytes, plain PUTs, 8 at once.
  const bucket = new S3Client({ ...baselineSettings })
  let next = 0
  const baselineStart = performance.now()
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < all.length) {
        const i = next++
        await bucket.write(`${baselineSettings.prefix}${i}`, all[i]!)
      }
    }),
  )
  const baselineMs = performance.now() - baselineStart

  const source = new Database(join(dir, 'headshot.db'), { readonly: true })
  const target = await openPostgresDatabase(db.url, { maxConnections: 4 })
  const s3 = createS3BlobStore({ ...settings, refreshAfterMs: 0 })
  const run = async (mode: CopyMode) => {
    const started = performance.now()
    const report = await copyStore(
      { db: source, blobs: createDiskBlobStore(join(dir, 'blobs')) },
      { client: target.client, blobs: s3 },
      { mode },
    )
    if (!copySucceeded(report)) throw new Error(`${mode} failed: ${JSON.stringify(report.verification)}`)
    return performance.now() - started
  }
  const first = await run('copy')
  const again = await run('copy')
  const verify = await run('verify-only')
  source.close()
  await target.repo.close()

  const mb = totalBytes / 1e6
  const row = (label: string, ms: number) =>
    `| ${label} | ${(ms / 1000).toFixed(1)} s | ${((N * 1000) / ms).toFixed(0)} | ${((mb * 1000) / ms).toFixed(1)} | ${(ms / baselineMs).toFixed(1)}× |`
  console.log(`${N} pictures, ${all.length} images, ${mb.toFixed(1)} MB\n`)
  console.log('| run | time | pictures/s | MB/s | × baseline |')
  console.log('|---|---|---|---|---|')
  console.log(row('baseline: plain PUTs, 8 at once', baselineMs))
  console.log(row('migrate (copy, read back, verify)', first))
  console.log(row('migrate again (nothing to copy)', again))
  console.log(row('migrate --verify-only', verify))
  for (const prefixed of [settings, baselineSettings]) await emptyPrefix(prefixed)
} finally {
  await db.drop()
  rmSync(dir, { recursive: true, force: true })
}
