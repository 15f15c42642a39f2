/**
 * The blob store a configuration names: an S3-compatible bucket when HEADSHOT_S3_* are set,
 * otherwise `<data dir>/blobs` on local disk (the default). Shared by the server and `headshot gc`.
 */
import { join } from 'node:path'
import type { Config } from '../config.ts'
import { createDiskBlobStore, type DiskBlobStore } from './blobs.ts'
import { createS3BlobStore, type S3BlobStore } from './s3-blobs.ts'

export type ConfiguredBlobStore = { kind: 'disk'; store: DiskBlobStore } | { kind: 's3'; store: S3BlobStore }

export function openBlobStore(config: Pick<Config, 'dataDir' | 's3'>): ConfiguredBlobStore {
  if (config.s3) return { kind: 's3', store: createS3BlobStore(config.s3) }
  return { kind: 'disk', store: createDiskBlobStore(join(config.dataDir, 'blobs')) }
}

/** Where the blobs are, for messages: a directory or `s3://bucket/prefix` at its endpoint. */
export function describeBlobStore(config: Pick<Config, 'dataDir' | 's3'>): string {
  if (!config.s3) return join(config.dataDir, 'blobs')
  return `s3://${config.s3.bucket}/${config.s3.prefix ?? ''} at ${config.s3.endpoint}`
}
