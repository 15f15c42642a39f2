/**
 * What every BlobStore promises (src/store/types.ts), as one suite run against each implementation:
 * the disk store (test/store/blobs.test.ts) and the S3 store (test/store/s3-blobs.test.ts).
 * Not a test file itself.
 */
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { isBlobHash } from '../../src/store/blobs.ts'
import type { BlobStore } from '../../src/store/types.ts'

export interface BlobStoreUnderTest {
  store: BlobStore
  /** Replace the stored bytes of a blob behind the store's back (damage from outside). */
  overwrite(hash: string, bytes: Uint8Array): Promise<void>
  /** Put things beside the blobs that are not blobs of this store (stray names, a misplaced blob). */
  plantStrays(hashes: readonly string[]): Promise<void>
  /** Leave what an interrupted write leaves behind (a temp file, an unfinished upload). */
  leaveLeftover(hash: string): Promise<void>
  /** Make the leftovers look as old as `ms`, when the store can; else the suite waits and sweeps with a 0 age. */
  ageLeftovers?(ms: number): Promise<void>
  cleanup(): Promise<void>
}

export const bytesOf = (text: string) => new TextEncoder().encode(text)
export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

export interface ContractOptions {
  /** Keys one listing call returns at most (S3: 1000): list() must page past it. Unset: list() has no pages. */
  listPageSize?: number
}

export function blobStoreContract(open: () => Promise<BlobStoreUnderTest>, options: ContractOptions = {}): void {
  let it: BlobStoreUnderTest
  let blobs: BlobStore
  beforeEach(async () => {
    it = await open()
    blobs = it.store
  })
  afterEach(() => it.cleanup(), 60_000)

  test('put returns the sha256 of the bytes', async () => {
    const bytes = bytesOf('a profile picture')
    expect(await blobs.put(bytes)).toBe(sha256(bytes))
  })

  test('get returns the same bytes as a plain Uint8Array; has agrees', async () => {
    const bytes = new Uint8Array(100_000).map((_, i) => (i * 31) & 0xff)
    const hash = await blobs.put(bytes)
    const back = await blobs.get(hash)
    expect(back).toBeInstanceOf(Uint8Array)
    expect(Buffer.isBuffer(back)).toBe(false)
    expect(back).toEqual(bytes)
    expect(await blobs.has(hash)).toBe(true)
  })

  test('empty content is a valid blob', async () => {
    const hash = await blobs.put(new Uint8Array())
    expect(hash).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    expect(await blobs.get(hash)).toEqual(new Uint8Array())
  })

  test('a missing blob: get is undefined, has is false, delete is a no-op', async () => {
    const hash = sha256(bytesOf('never stored'))
    expect(await blobs.get(hash)).toBeUndefined()
    expect(await blobs.has(hash)).toBe(false)
    await blobs.delete(hash)
  })

  test('delete removes the blob, and deleting it again is fine', async () => {
    const hash = await blobs.put(bytesOf('bye'))
    await blobs.delete(hash)
    expect(await blobs.get(hash)).toBeUndefined()
    expect(await blobs.has(hash)).toBe(false)
    await blobs.delete(hash)
  })

  test('putting existing content again keeps one blob', async () => {
    const bytes = bytesOf('same bytes')
    const hash = await blobs.put(bytes)
    expect(await blobs.put(bytes)).toBe(hash)
    expect((await Array.fromAsync(blobs.list())).map((e) => e.hash)).toEqual([hash])
  })

  test('list yields every blob with its size and a recent time, and nothing else found beside them', async () => {
    const a = await blobs.put(bytesOf('first'))
    const b = await blobs.put(bytesOf('second blob'))
    await it.plantStrays([a, b])
    await it.leaveLeftover(a)
    const listed = (await Array.fromAsync(blobs.list())).sort((x, y) => x.hash.localeCompare(y.hash))
    const expected: Array<[string, number]> = [
      [a, 5],
      [b, 11],
    ]
    expect(listed.map((e) => [e.hash, e.bytes])).toEqual(expected.sort((x, y) => x[0].localeCompare(y[0])))
    for (const entry of listed) expect(Math.abs(Date.now() - entry.modifiedAt)).toBeLessThan(60_000)
  })

  // Only stores whose listing comes in pages (the disk store walks directories).
  if (options.listPageSize !== undefined)
    test('list pages through more blobs than one listing call returns', async () => {
      const count = (options.listPageSize ?? 0) + 30
      const hashes = await Promise.all(
        Array.from({ length: count }, async (_, i) => blobs.put(bytesOf(`blob number ${i}`))),
      )
      const listed = new Set((await Array.fromAsync(blobs.list())).map((e) => e.hash))
      expect(listed.size).toBe(count)
      for (const hash of hashes) expect(listed.has(hash)).toBe(true)
    }, 60_000)

  test('an existing blob of the wrong size (damaged) is rewritten by the next put', async () => {
    const bytes = bytesOf('complete content')
    const hash = await blobs.put(bytes)
    await it.overwrite(hash, bytes.subarray(0, 5))
    expect(await blobs.put(bytes)).toBe(hash)
    expect(await blobs.get(hash)).toEqual(bytes)
  })

  test('hashes that are not 64 lowercase hex are rejected before any storage is touched', async () => {
    const valid = sha256(bytesOf('x'))
    const bad = [
      '../../../../etc/passwd',
      `../${valid.slice(3)}`,
      `${valid.slice(0, 63)}/`,
      valid.toUpperCase(),
      valid.slice(0, 63),
      `${valid}0`,
      '',
      `${valid.slice(0, 62)}\0a`,
    ]
    for (const hash of bad) {
      expect(isBlobHash(hash)).toBe(false)
      await expect(blobs.get(hash)).rejects.toThrow(/invalid blob hash/)
      await expect(blobs.has(hash)).rejects.toThrow(/invalid blob hash/)
      await expect(blobs.delete(hash)).rejects.toThrow(/invalid blob hash/)
    }
  })

  test('what an interrupted write left is never served as the blob', async () => {
    const bytes = bytesOf('the full picture')
    const hash = sha256(bytes)
    await it.leaveLeftover(hash)
    expect(await blobs.get(hash)).toBeUndefined()
    expect(await blobs.has(hash)).toBe(false)
    expect(await Array.fromAsync(blobs.list())).toEqual([])
    expect(await blobs.put(bytes)).toBe(hash)
    expect(await blobs.get(hash)).toEqual(bytes)
  })

  test('concurrent puts of the same and different bytes all succeed', async () => {
    const payloads = Array.from({ length: 24 }, (_, i) => new Uint8Array(50_000).fill(i % 3)) // 3 distinct contents
    const hashes = await Promise.all(payloads.map((p) => blobs.put(p)))
    expect(hashes).toEqual(payloads.map(sha256))
    for (const [i, hash] of hashes.entries()) expect(await blobs.get(hash)).toEqual(payloads[i]!)
    expect((await Array.fromAsync(blobs.list())).map((e) => e.hash).sort()).toEqual([...new Set(hashes)].sort())
  })

  test('sweepLeftovers removes leftovers older than the threshold only; a dry run only counts', async () => {
    const hash = await blobs.put(bytesOf('kept'))
    await it.leaveLeftover(hash)
    expect((await blobs.sweepLeftovers(3_600_000)).count).toBe(0) // young: a write may be under way
    let olderThan = 3_600_000
    if (it.ageLeftovers) await it.ageLeftovers(2 * 3_600_000)
    else {
      await Bun.sleep(1100) // S3 dates uploads to the second
      olderThan = 0
    }
    expect((await blobs.sweepLeftovers(olderThan, { dryRun: true })).count).toBe(1)
    expect((await blobs.sweepLeftovers(olderThan)).count).toBe(1)
    expect((await blobs.sweepLeftovers(olderThan)).count).toBe(0)
    expect(await blobs.get(hash)).toEqual(bytesOf('kept'))
  })

  test('sweepLeftovers on a store that has never been written is a no-op', async () => {
    expect(await blobs.sweepLeftovers(0)).toEqual({ count: 0, bytes: 0 })
  })
}
