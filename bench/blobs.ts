/**
 * Blob store put/get of 20 KB objects (the size of a typical derived image), disk and S3 in the
 * same run: N distinct puts, then N gets, one at a time and 8 at once, without the in-memory LRU.
 * S3 is the endpoint in HEADSHOT_TEST_S3_* (`eval "$(bash scripts/ci/start-rgw.sh)"`), under a
 * fresh prefix of the test bucket that is emptied afterwards; without it only disk is measured.
 * Run: bun run bench/blobs.ts [N=200]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDiskBlobStore } from '../src/store/blobs.ts'
import { createS3BlobStore } from '../src/store/s3-blobs.ts'
import type { BlobStore } from '../src/store/types.ts'
import { s3TestCredentials, s3TestSettings } from '../test/support/s3.ts'

const N = Number(process.argv[2] ?? 200)
const SIZE = 20_000
const payloads = (seed: number) =>
  Array.from({ length: N }, (_, i) => {
    const bytes = crypto.getRandomValues(new Uint8Array(SIZE))
    bytes[0] = seed
    bytes[1] = i & 0xff
    return bytes
  })

async function pool<T>(items: readonly T[], width: number, run: (item: T) => Promise<unknown>) {
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await run(items[next++]!)
    }),
  )
}

async function measure(name: string, store: BlobStore) {
  const rows: string[] = []
  for (const [round, width] of [
    [1, 1],
    [2, 8],
  ] as const) {
    const data = payloads(round)
    let hashes: string[] = []
    let t = performance.now()
    await pool(data, width, async (bytes) => hashes.push(await store.put(bytes)))
    const put = performance.now() - t
    hashes = hashes.sort()
    t = performance.now()
    await pool(hashes, width, async (hash) => {
      if ((await store.get(hash))?.byteLength !== SIZE) throw new Error(`lost ${hash}`)
    })
    const get = performance.now() - t
    const again = performance.now()
    await pool(data, width, (bytes) => store.put(bytes))
    const putExisting = performance.now() - again
    const per = (ms: number) => `${((ms / N) * 1000).toFixed(0).padStart(6)} µs`
    rows.push(
      `${name.padEnd(5)} ${String(width).padStart(2)} at once: put ${per(put)}  get ${per(get)}  put (exists) ${per(putExisting)}  ` +
        `(${N} × 20 KB: ${(put / 1000).toFixed(2)} s + ${(get / 1000).toFixed(2)} s)`,
    )
  }
  return rows
}

const dir = mkdtempSync(join(tmpdir(), 'headshot-bench-blobs-'))
const lines: string[] = []
try {
  lines.push(...(await measure('disk', createDiskBlobStore(join(dir, 'blobs')))))
  if (s3TestCredentials()) {
    const settings = await s3TestSettings('bench')
    const store = createS3BlobStore(settings)
    try {
      lines.push(...(await measure('s3', store)))
    } finally {
      for await (const entry of store.list()) await store.delete(entry.hash)
    }
  } else lines.push('s3: HEADSHOT_TEST_S3_ENDPOINT not set (eval "$(bash scripts/ci/start-rgw.sh)"), not measured')
} finally {
  rmSync(dir, { recursive: true, force: true })
}
console.log(lines.join('\n'))
