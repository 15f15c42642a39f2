/**
 * Writing a file so that readers see the old content or the new one, never a mix: a unique temp
 * file in the same directory, fsynced, renamed over the target, and the directory fsynced so the
 * rename survives a power cut. Used for blobs, credentials and generated sources.
 */
import { randomBytes } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import { open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** Temp files end with this (and start with `.`), so they never look like a finished file. */
export const TEMP_SUFFIX = '.tmp'

/** Writes all of `bytes` into a freshly created, empty file. */
export type FileWriter = (file: FileHandle, bytes: Uint8Array) => Promise<void>

export interface WriteFileAtomicOptions {
  /** Permission bits for the new file (before umask). Default 0o644; use 0o600 for secrets. */
  mode?: number
  /**
   * Test seam: replaces the function that writes the bytes into the temp file, so a test can
   * fail a write half-way (a real disk-full or I/O error cannot be provoked portably).
   */
  write?: FileWriter
}

const writeAll: FileWriter = (file, bytes) => file.writeFile(bytes)

/**
 * Replaces `path` with `bytes` atomically: other processes see the old content or the new one,
 * never a mix, and a crash leaves at most a stray `.<name>.<pid>.<random>.tmp` beside it.
 * The parent directory must exist.
 */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const dir = dirname(path)
  // Same directory as the target: rename(2) is only atomic within one filesystem.
  // pid + random makes concurrent writers (threads or processes) never share a temp file,
  // and 'wx' (O_EXCL) would refuse one if they somehow did.
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`)
  const file = await open(temp, 'wx', options.mode ?? 0o644)
  try {
    try {
      await (options.write ?? writeAll)(file, bytes)
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(temp, path)
  } catch (error) {
    await rm(temp, { force: true }).catch(() => {})
    throw error
  }
  await fsyncDir(dir)
}

/** Makes a completed rename durable. Best effort: some platforms/filesystems cannot fsync a directory. */
async function fsyncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined
  try {
    handle = await open(dir, 'r')
    await handle.sync()
  } catch {
    // EISDIR/EPERM/EINVAL on platforms without directory fsync: the data itself is already synced.
  } finally {
    await handle?.close().catch(() => {})
  }
}
