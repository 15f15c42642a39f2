import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { type FileWriter, writeFileAtomic } from '../../src/lib/atomic-write.ts'
import { createDiskBlobStore, type DiskBlobStore, isBlobHash } from '../../src/store/blobs.ts'
import { tempDir } from '../support/store-fixtures.ts'
import { blobStoreContract } from './blob-store-contract.ts'

const bytesOf = (text: string) => new TextEncoder().encode(text)
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** Every file below `dir`, relative, sorted. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  return (readdirSync(dir, { recursive: true }) as string[]).filter((p) => statSync(join(dir, p)).isFile()).sort()
}

/** Writes half of the bytes, then fails like a full disk would. */
const failHalfway: FileWriter = async (file, bytes) => {
  await file.write(bytes.subarray(0, bytes.length >> 1))
  throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
}

describe('BlobStore contract: disk', () => {
  blobStoreContract(async () => {
    const dir = tempDir('headshot-blobs-')
    const store = createDiskBlobStore(join(dir.path, 'blobs'))
    const shardOf = (hash: string) => join(store.dir, hash.slice(0, 2), hash.slice(2, 4))
    return {
      store,
      async overwrite(hash, bytes) {
        writeFileSync(store.pathFor(hash), bytes)
      },
      async plantStrays([a, b]) {
        const shard = shardOf(a!)
        mkdirSync(shard, { recursive: true })
        writeFileSync(join(shard, 'notes.txt'), 'hand-made')
        mkdirSync(join(store.dir, 'zz'), { recursive: true })
        // A blob-like name in the wrong shard is not a blob this store would ever read.
        writeFileSync(join(shard, b!), 'misplaced')
      },
      async leaveLeftover(hash) {
        mkdirSync(shardOf(hash), { recursive: true })
        writeFileSync(join(shardOf(hash), `.${hash}.4242.deadbeef0000.tmp`), 'torn') // a torn write
      },
      async ageLeftovers(ms) {
        const at = (Date.now() - ms) / 1000
        for (const path of filesUnder(store.dir).filter((p) => p.endsWith('.tmp')))
          utimesSync(join(store.dir, path), at, at)
      },
      async cleanup() {
        dir.cleanup()
      },
    }
  })
})

describe('disk blob store', () => {
  let dir: ReturnType<typeof tempDir>
  let blobs: DiskBlobStore
  beforeEach(() => {
    dir = tempDir('headshot-blobs-')
    blobs = createDiskBlobStore(join(dir.path, 'blobs'))
  })
  afterEach(() => dir.cleanup())

  test('put returns the sha256 and stores the bytes at <dir>/ab/cd/<hash>', async () => {
    const bytes = bytesOf('a profile picture')
    const hash = await blobs.put(bytes)
    expect(hash).toBe(sha256(bytes))
    expect(filesUnder(blobs.dir)).toEqual([join(hash.slice(0, 2), hash.slice(2, 4), hash)])
    expect(blobs.pathFor(hash)).toBe(join(blobs.dir, hash.slice(0, 2), hash.slice(2, 4), hash))
  })

  test('putting existing content again does not rewrite the stored file', async () => {
    const bytes = bytesOf('same bytes')
    const hash = await blobs.put(bytes)
    const before = statSync(blobs.pathFor(hash))
    expect(await blobs.put(bytes)).toBe(hash)
    const after = statSync(blobs.pathFor(hash))
    expect(after.ino).toBe(before.ino) // no rewrite happened
  })

  test('putting existing content again makes it look new to garbage collection (a row is about to name it)', async () => {
    const bytes = bytesOf('adopted again')
    const hash = await blobs.put(bytes)
    const twoHoursAgo = (Date.now() - 2 * 3600_000) / 1000
    utimesSync(blobs.pathFor(hash), twoHoursAgo, twoHoursAgo)
    await blobs.put(bytes)
    const [entry] = await Array.fromAsync(blobs.list())
    expect(entry?.hash).toBe(hash)
    expect(Date.now() - entry!.modifiedAt).toBeLessThan(60_000)
  })

  test('an existing blob of the right size but other bytes (damaged) is rewritten by the next put', async () => {
    const bytes = bytesOf('complete content')
    const hash = await blobs.put(bytes)
    writeFileSync(blobs.pathFor(hash), bytesOf('COMPLETE CONTENT'))
    expect(await blobs.put(bytes)).toBe(hash)
    expect(await blobs.get(hash)).toEqual(bytes)
  })

  test('pathFor refuses hashes that are not 64 lowercase hex (get, has, delete: the shared suite)', () => {
    const valid = sha256(bytesOf('x'))
    for (const hash of ['../../../../etc/passwd', `../${valid.slice(3)}`, valid.toUpperCase(), `${valid}0`, '']) {
      expect(() => blobs.pathFor(hash)).toThrow(/invalid blob hash/)
    }
    expect(isBlobHash(valid)).toBe(true)
  })

  test('a temp file left by a crash is never served as the blob', async () => {
    const bytes = bytesOf('the full picture')
    const hash = sha256(bytes)
    const shard = join(blobs.dir, hash.slice(0, 2), hash.slice(2, 4))
    mkdirSync(shard, { recursive: true })
    writeFileSync(join(shard, `.${hash}.4242.deadbeef0000.tmp`), bytes.subarray(0, 4)) // a torn write

    expect(await blobs.get(hash)).toBeUndefined()
    expect(await blobs.has(hash)).toBe(false)
    expect(await blobs.put(bytes)).toBe(hash)
    expect(await blobs.get(hash)).toEqual(bytes)
  })

  test('a write failing half-way leaves neither the blob nor a temp file', async () => {
    const failing = createDiskBlobStore(blobs.dir, { write: failHalfway })
    const bytes = bytesOf('will not make it to disk')
    await expect(failing.put(bytes)).rejects.toThrow(/ENOSPC/)
    expect(await blobs.has(sha256(bytes))).toBe(false)
    expect(filesUnder(blobs.dir)).toEqual([])
  })

  test.skipIf(process.getuid?.() === 0)('a read-only shard directory makes put fail without a final file', async () => {
    const bytes = bytesOf('read-only')
    const hash = sha256(bytes)
    const shard = join(blobs.dir, hash.slice(0, 2), hash.slice(2, 4))
    mkdirSync(shard, { recursive: true })
    chmodSync(shard, 0o555)
    try {
      await expect(blobs.put(bytes)).rejects.toThrow()
      expect(existsSync(blobs.pathFor(hash))).toBe(false)
    } finally {
      chmodSync(shard, 0o755)
    }
  })

  test('concurrent puts of the same and different bytes all succeed and leave no temp files', async () => {
    const payloads = Array.from({ length: 24 }, (_, i) => new Uint8Array(50_000).fill(i % 3)) // 3 distinct contents
    const hashes = await Promise.all(payloads.map((p) => blobs.put(p)))
    expect(hashes).toEqual(payloads.map(sha256))
    expect(new Set(hashes).size).toBe(3)
    for (const [i, hash] of hashes.entries()) expect(await blobs.get(hash)).toEqual(payloads[i]!)
    expect(
      filesUnder(blobs.dir)
        .map((p) => p.split('/').at(-1))
        .sort(),
    ).toEqual([...new Set(hashes)].sort())
  })

  test('sweepTempFiles removes only temp files older than the threshold', async () => {
    const hash = await blobs.put(bytesOf('kept'))
    const shard = join(blobs.dir, hash.slice(0, 2), hash.slice(2, 4))
    const stale = join(shard, `.${hash}.1.aaaaaaaaaaaa.tmp`)
    const fresh = join(shard, `.${hash}.2.bbbbbbbbbbbb.tmp`)
    writeFileSync(stale, 'x')
    writeFileSync(fresh, 'y')
    const twoHoursAgo = (Date.now() - 2 * 3600_000) / 1000
    utimesSync(stale, twoHoursAgo, twoHoursAgo)
    utimesSync(blobs.pathFor(hash), twoHoursAgo, twoHoursAgo) // old blobs are not temp files

    expect(await blobs.sweepTempFiles(60)).toBe(1)
    expect(existsSync(stale)).toBe(false)
    expect(existsSync(fresh)).toBe(true)
    expect(await blobs.get(hash)).toEqual(bytesOf('kept'))
  })

  test('sweepLeftovers counts old temp files and their bytes, and a dry run deletes nothing', async () => {
    const hash = await blobs.put(bytesOf('kept'))
    const shard = join(blobs.dir, hash.slice(0, 2), hash.slice(2, 4))
    const stale = join(shard, `.${hash}.1.aaaaaaaaaaaa.tmp`)
    writeFileSync(stale, 'xyz')
    const twoHoursAgo = (Date.now() - 2 * 3600_000) / 1000
    utimesSync(stale, twoHoursAgo, twoHoursAgo)
    expect(await blobs.sweepLeftovers(3_600_000, { dryRun: true })).toEqual({ count: 1, bytes: 3 })
    expect(existsSync(stale)).toBe(true)
    expect(await blobs.sweepLeftovers(3_600_000)).toEqual({ count: 1, bytes: 3 })
    expect(existsSync(stale)).toBe(false)
  })
})

describe('writeFileAtomic', () => {
  let dir: ReturnType<typeof tempDir>
  beforeEach(() => {
    dir = tempDir('headshot-atomic-')
  })
  afterEach(() => dir.cleanup())

  test('creates or replaces a file in one step', async () => {
    const path = join(dir.path, 'secret.json')
    await writeFileAtomic(path, bytesOf('{"v":1}'))
    await writeFileAtomic(path, bytesOf('{"v":2}'))
    expect(readFileSync(path, 'utf8')).toBe('{"v":2}')
    expect(readdirSync(dir.path)).toEqual(['secret.json'])
  })

  test('honours the requested mode (e.g. 0600 for a generated secret)', async () => {
    const path = join(dir.path, 'secret')
    await writeFileAtomic(path, bytesOf('s3cr3t'), { mode: 0o600 })
    expect(statSync(path).mode & 0o777).toBe(0o600)
  })

  test('a failed write keeps the previous content and leaves no temp file', async () => {
    const path = join(dir.path, 'config')
    await writeFileAtomic(path, bytesOf('old'))
    await expect(writeFileAtomic(path, bytesOf('new content'), { write: failHalfway })).rejects.toThrow(/ENOSPC/)
    expect(readFileSync(path, 'utf8')).toBe('old')
    expect(readdirSync(dir.path)).toEqual(['config'])
  })

  test('fails (without creating anything) when the parent directory is missing', async () => {
    await expect(writeFileAtomic(join(dir.path, 'missing', 'f'), bytesOf('x'))).rejects.toThrow(/ENOENT/)
    expect(readdirSync(dir.path)).toEqual([])
  })
})
