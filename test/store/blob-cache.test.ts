import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { withBlobCache } from '../../src/store/blob-cache.ts'
import { createDiskBlobStore } from '../../src/store/blobs.ts'
import type { BlobStore } from '../../src/store/types.ts'

const dir = mkdtempSync(join(tmpdir(), 'headshot-blobcache-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function counting(store: BlobStore) {
  const counts = { get: 0 }
  return { counts, store: { ...store, get: (h: string) => (counts.get++, store.get(h)) } as BlobStore }
}

describe('blob cache', () => {
  test('serves repeated reads from memory and never changes the bytes', async () => {
    const { counts, store } = counting(createDiskBlobStore(join(dir, 'a')))
    const cached = withBlobCache(store)
    const hash = await cached.put(new Uint8Array([1, 2, 3]))
    expect(await cached.get(hash)).toEqual(new Uint8Array([1, 2, 3]))
    expect(await cached.get(hash)).toEqual(new Uint8Array([1, 2, 3]))
    expect(counts.get).toBe(0)
  })

  test('reads through on a miss, skips blobs above the size cap, and forgets deleted blobs', async () => {
    const disk = createDiskBlobStore(join(dir, 'b'))
    const hash = await disk.put(new Uint8Array(100))
    const { counts, store } = counting(disk)
    const cached = withBlobCache(store, { maxBlobBytes: 50 })
    await cached.get(hash)
    await cached.get(hash)
    expect(counts.get).toBe(2) // too big to cache
    const small = await cached.put(new Uint8Array([9]))
    await cached.delete(small)
    expect(await cached.get(small)).toBeUndefined()
    expect(await cached.has(small)).toBe(false)
  })
})
