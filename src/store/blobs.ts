/**
 * Content-addressed blob store on local disk: `<dir>/ab/cd/<sha256 hex>`.
 *
 * Every write goes to a unique temp file in the final directory, is fsynced, then renamed over
 * the final name (rename is atomic within a filesystem), and the directory is fsynced so the
 * rename itself survives a power cut. A reader therefore sees either no file or the complete
 * file, never a prefix. Temp files left by a crash never match a blob name (they start with `.`
 * and end in `.tmp`), so readers ignore them; sweepLeftovers() removes old ones.
 */
import { mkdir, readFile, readdir, stat, unlink, utimes } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { sha256Hex } from '../lib/hash.ts'
import { TEMP_SUFFIX, writeFileAtomic, type FileWriter } from '../lib/atomic-write.ts'

import type { BlobEntry, BlobStore } from './types.ts'

const HASH_RE = /^[0-9a-f]{64}$/
const SHARD_RE = /^[0-9a-f]{2}$/

/** True for a blob key: exactly 64 lowercase hex characters (so it can never name another path). */
export function isBlobHash(value: unknown): value is string {
  return typeof value === 'string' && HASH_RE.test(value)
}

function assertBlobHash(hash: unknown): asserts hash is string {
  if (!isBlobHash(hash)) {
    const shown =
      typeof hash === 'string' ? JSON.stringify(hash.length > 80 ? `${hash.slice(0, 80)}…` : hash) : typeof hash
    throw new TypeError(`invalid blob hash ${shown}: expected 64 lowercase hex characters (sha256)`)
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path)
  } catch (error) {
    if (isMissing(error)) return []
    throw error
  }
}

/** Every file name in the two shard levels, with its directory: blobs and temp files alike. */
async function* shardFiles(dir: string): AsyncGenerator<{ shard: string; name: string }> {
  for (const a of await listDir(dir)) {
    if (!SHARD_RE.test(a)) continue
    for (const b of await listDir(join(dir, a))) {
      if (!SHARD_RE.test(b)) continue
      const shard = join(dir, a, b)
      for (const name of await listDir(shard)) yield { shard, name }
    }
  }
}

/** Size and time of a file, or undefined when it vanished meanwhile (renamed, deleted by another process). */
async function statFile(path: string): Promise<{ size: number; mtimeMs: number } | undefined> {
  try {
    const info = await stat(path)
    return info.isFile() ? info : undefined
  } catch (error) {
    if (isMissing(error)) return undefined
    throw error
  }
}

/**
 * Removes temp files (crash leftovers) older than `olderThanMs` from a blob directory (with
 * `dryRun`, only counts them). The age threshold keeps it from deleting a temp file that a live
 * put() is still writing.
 */
export async function sweepLeftovers(
  dir: string,
  olderThanMs: number,
  options: { dryRun?: boolean } = {},
): Promise<{ count: number; bytes: number }> {
  const cutoff = Date.now() - olderThanMs
  let count = 0
  let bytes = 0
  for await (const { shard, name } of shardFiles(dir)) {
    if (!name.startsWith('.') || !name.endsWith(TEMP_SUFFIX)) continue
    const path = join(shard, name)
    const info = await statFile(path)
    if (!info || info.mtimeMs > cutoff) continue
    if (!options.dryRun) {
      try {
        await unlink(path)
      } catch (error) {
        if (isMissing(error)) continue // renamed or swept by another process meanwhile
        throw error
      }
    }
    count++
    bytes += info.size
  }
  return { count, bytes }
}

/** sweepLeftovers() in minutes, counting files (the start-up sweep). */
export async function sweepTempFiles(dir: string, olderThanMinutes = 60): Promise<number> {
  return (await sweepLeftovers(dir, olderThanMinutes * 60_000)).count
}

export interface DiskBlobStoreOptions {
  /** Test seam, passed to writeFileAtomic (see WriteFileAtomicOptions.write). */
  write?: FileWriter
}

export interface DiskBlobStore extends BlobStore {
  readonly dir: string
  /** Where a blob lives (whether or not it exists). Throws on an invalid hash. */
  pathFor(hash: string): string
  /** sweepTempFiles() for this store's directory. */
  sweepTempFiles(olderThanMinutes?: number): Promise<number>
}

export function createDiskBlobStore(dir: string, options: DiskBlobStoreOptions = {}): DiskBlobStore {
  // Two levels of 256 shards keep directories small (~1 M blobs → ~15 per leaf directory).
  const pathFor = (hash: string): string => {
    assertBlobHash(hash)
    return join(dir, hash.slice(0, 2), hash.slice(2, 4), hash)
  }

  return {
    dir,
    pathFor,
    sweepTempFiles: (olderThanMinutes) => sweepTempFiles(dir, olderThanMinutes),
    sweepLeftovers: (olderThanMs, sweepOptions) => sweepLeftovers(dir, olderThanMs, sweepOptions),

    async *list(): AsyncGenerator<BlobEntry> {
      for await (const { shard, name } of shardFiles(dir)) {
        // Blob files are named by their hash and sit in the shard the hash names; anything else is not ours.
        if (!HASH_RE.test(name) || join(dir, name.slice(0, 2), name.slice(2, 4)) !== shard) continue
        const info = await statFile(join(shard, name))
        if (info) yield { hash: name, bytes: info.size, modifiedAt: info.mtimeMs }
      }
    },

    async put(bytes) {
      const hash = sha256Hex(bytes)
      const path = pathFor(hash)
      try {
        // Same name should mean same content, but a file damaged outside our control (a disk
        // error, a hand edit) can keep its size: an existing blob counts only when its bytes
        // still hash to its name; anything else is rewritten. Puts are rare (new originals and
        // derivatives), so the read is cheap next to the work that produced the bytes.
        const info = await stat(path)
        if (
          info.isFile() &&
          info.size === bytes.byteLength &&
          sha256Hex(new Uint8Array(await readFile(path))) === hash
        ) {
          // The bytes are about to be named by a new row: a fresh time keeps garbage collection
          // (which only takes unnamed blobs older than an hour) from deleting them before the row
          // is written. Best effort: at worst the row finds its blob gone and it is made again.
          const at = new Date()
          await utimes(path, at, at).catch(() => {})
          return hash
        }
      } catch (error) {
        if (!isMissing(error)) throw error
      }
      await mkdir(dirname(path), { recursive: true })
      // Concurrent puts of the same bytes each write their own temp file and rename it over the
      // same name with identical content: whichever rename lands last, the result is correct.
      await writeFileAtomic(path, bytes, { write: options.write })
      return hash
    },

    async get(hash) {
      const path = pathFor(hash)
      try {
        const buffer = await readFile(path)
        // A plain Uint8Array view (no copy) rather than a Node Buffer, as the interface promises.
        return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
      } catch (error) {
        if (isMissing(error)) return undefined
        throw error
      }
    },

    async has(hash) {
      const path = pathFor(hash)
      try {
        return (await stat(path)).isFile()
      } catch (error) {
        if (isMissing(error)) return false
        throw error
      }
    },

    async delete(hash) {
      const path = pathFor(hash)
      // Shard directories are left in place: removing an empty one could race with a
      // concurrent put() that just created it and is about to write its temp file there.
      await unlink(path).catch((error: unknown) => {
        if (!isMissing(error)) throw error
      })
    },
  }
}
