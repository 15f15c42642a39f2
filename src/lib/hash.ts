/** Content hashes: blobs are stored under, and ETags made from, the SHA-256 of their bytes. */
import { createHash } from 'node:crypto'

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}
