/**
 * Content-addressed blob store in an S3-compatible bucket, through Bun's built-in `S3Client`
 * (path-style addressing): the blob with sha256 `abcd…` is the object `<prefix>blobs/ab/abcd…`,
 * mirroring the disk layout's first shard level.
 *
 * No partial object is ever visible: every blob is written by one PUT of the complete bytes
 * (Bun sends a buffer as a single request; it only splits streams into multipart uploads), and S3
 * makes an object visible only once its PUT completed. A multipart upload, should one ever be
 * started under the prefix, is invisible until completed; sweepLeftovers() aborts unfinished ones.
 *
 * put() hashes the bytes first and uploads them under that hash, so an object under a blob key
 * was written whole by a writer that checked its content. The disk store re-reads an existing file
 * to catch damage done outside it (a disk error, a hand edit); here a HEAD with the right size is
 * trusted instead: an S3 object cannot be torn or changed in place, only replaced by another
 * complete PUT, so the size is the check left against a foreign writer. An existing object older
 * than REFRESH_AFTER_MS is uploaded again all the same: S3 cannot touch an object's time, and
 * garbage collection must see a blob about to be named by a new row as new (see BlobEntry).
 *
 * Errors name the operation, the key and S3's error code, never the credentials; to a client they
 * are a 503 (src/lib/http-error.ts, MapsToHttpError).
 *
 * Every call has a deadline (S3Settings.timeoutMs; a PUT gets more for the bytes it carries), so a
 * hung endpoint costs a request a few seconds, never forever. Bun's S3 client takes no AbortSignal,
 * so the call is raced against a timer and left to finish on its own: a late read's bytes are
 * dropped, a late PUT stores exactly the bytes its key names (content addressing makes it
 * harmless), a late DELETE removes what garbage collection had already decided to remove. Calls
 * left unanswered are counted; past MAX_UNANSWERED new calls fail at once instead of piling more
 * connections onto an endpoint that answers none (they are tried again as the late ones settle).
 */
import { S3Client } from 'bun'
import { sha256Hex } from '../lib/hash.ts'
import { HttpError, type MapsToHttpError } from '../lib/http-error.ts'
import { isBlobHash } from './blobs.ts'
import { abortMultipartUpload, listMultipartUploads, type S3Credentials } from './s3-sign.ts'
import type { BlobEntry, BlobStore } from './types.ts'

export interface S3Settings extends S3Credentials {
  bucket: string
  /** Put before every key (`headshot/` → `headshot/blobs/ab/…`); '' = the bucket's root. */
  prefix?: string
  /** Test seam: REFRESH_AFTER_MS. */
  refreshAfterMs?: number
  /** Deadline of one call (HEAD, GET, DELETE, one listing page), ms (HEADSHOT_S3_TIMEOUT); default S3_TIMEOUT_MS. */
  timeoutMs?: number
  /** Test seam: MAX_UNANSWERED. */
  maxUnanswered?: number
  /** The endpoint presigned URLs name (HEADSHOT_S3_PUBLIC_ENDPOINT); default `endpoint`. */
  publicEndpoint?: string
}

/** HEADSHOT_S3_TIMEOUT's default: a HEAD or a small GET takes milliseconds; seconds mean trouble. */
export const S3_TIMEOUT_MS = 5000

/**
 * Timed-out calls still waiting for their answer before new calls are refused outright: enough for
 * a burst of requests over a hiccup, few enough that a hung endpoint cannot collect sockets and
 * buffers without bound.
 */
export const MAX_UNANSWERED = 64

/**
 * A PUT's deadline: the call's deadline plus 1 s per started MB it uploads (it must go at 1 MB/s at
 * least), so a 10 MB original gets 15 s by default while a small derived image keeps 6 s.
 */
export function putDeadlineMs(timeoutMs: number, bytes: number): number {
  return timeoutMs + Math.ceil(bytes / 1_000_000) * 1000
}

const TIMED_OUT = Symbol('timed out')

/** An existing object this old is written again by put(), so its time says "in use" (gc's orphan age is 1 h). */
export const REFRESH_AFTER_MS = 10 * 60_000

/** A failed S3 call: the operation, the object and S3's error code, for the log; a 503 for clients. */
export class S3StoreError extends Error implements MapsToHttpError {
  override name = 'S3StoreError'
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message)
  }
  toHttpError(): HttpError {
    return new HttpError(503, 'Image store unavailable')
  }
}

/** `headshot` → `headshot/`, `/a/b/` → `a/b/`, '' stays ''. */
export function normalizeS3Prefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+/, '')
  return trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`
}

function assertBlobHash(hash: unknown): asserts hash is string {
  if (!isBlobHash(hash)) {
    const shown = typeof hash === 'string' ? JSON.stringify(hash.slice(0, 80)) : typeof hash
    throw new TypeError(`invalid blob hash ${shown}: expected 64 lowercase hex characters (sha256)`)
  }
}

const codeOf = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

export interface S3BlobStore extends BlobStore {
  readonly bucket: string
  readonly prefix: string
  /** The object key of a blob (whether or not it exists). Throws on an invalid hash. */
  keyFor(hash: string): string
  /** Throws an S3StoreError unless the bucket answers a one-key listing within `timeoutMs` (readiness). */
  check(timeoutMs?: number): Promise<void>
  /**
   * A URL that GETs the blob's object without credentials until it expires, answered with this
   * Content-Type (the object has none of its own). Computed locally: no S3 call, no check that it exists.
   */
  presign(hash: string, options: { contentType: string; expiresInSeconds: number }): string
}

export function createS3BlobStore(settings: S3Settings): S3BlobStore {
  const prefix = normalizeS3Prefix(settings.prefix)
  const root = `${prefix}blobs/`
  const refreshAfterMs = settings.refreshAfterMs ?? REFRESH_AFTER_MS
  const client = new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    bucket: settings.bucket,
    accessKeyId: settings.accessKeyId,
    secretAccessKey: settings.secretAccessKey,
  })
  // SigV4 signs the host, so a URL for another address than ours needs a client of its own.
  const publicClient =
    settings.publicEndpoint === undefined || settings.publicEndpoint === settings.endpoint
      ? client
      : new S3Client({
          endpoint: settings.publicEndpoint,
          region: settings.region,
          bucket: settings.bucket,
          accessKeyId: settings.accessKeyId,
          secretAccessKey: settings.secretAccessKey,
        })
  const keyFor = (hash: string): string => {
    assertBlobHash(hash)
    return `${root}${hash.slice(0, 2)}/${hash}`
  }
  const keyRe = new RegExp(`^${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([0-9a-f]{2})/([0-9a-f]{64})$`)

  const timeoutMs = settings.timeoutMs ?? S3_TIMEOUT_MS
  const maxUnanswered = settings.maxUnanswered ?? MAX_UNANSWERED
  let unanswered = 0
  const where = (key: string) => `s3://${settings.bucket}/${key} at ${settings.endpoint}`

  /** Any error of a call as an S3StoreError; the secret key is cut out should a message ever carry it. */
  const failure = (operation: string, key: string, error: unknown): S3StoreError => {
    if (error instanceof S3StoreError) return error
    const code = codeOf(error)
    const name = (error as Error | null)?.name
    let detail = code ?? (error instanceof Error ? error.message : String(error))
    // A HEAD answer has no body, so a refusal (wrong keys, no access) comes without a code.
    if (code === 'UnknownError') detail += ' (S3 sent no detail: wrong credentials, or no access to the bucket?)'
    if (settings.secretAccessKey) detail = detail.replaceAll(settings.secretAccessKey, '[redacted]')
    return new S3StoreError(
      `S3 ${operation} ${where(key)} failed: ${name === 'S3Error' || code ? detail : detail.slice(0, 200)}`,
      code,
    )
  }
  /** Runs one S3 call within `deadlineMs`; any failure, the deadline included, is an S3StoreError. */
  const call = async <T>(operation: string, key: string, run: () => Promise<T>, deadlineMs = timeoutMs): Promise<T> => {
    if (unanswered >= maxUnanswered)
      throw new S3StoreError(
        `S3 ${operation} ${where(key)} not tried: ${unanswered} earlier calls are still unanswered`,
        'Timeout',
      )
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      const work = run()
      const expired = new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(resolve, deadlineMs, TIMED_OUT)
      })
      const result = await Promise.race([work, expired])
      if (result !== TIMED_OUT) return result
      // Nothing can cancel the call: count it until it settles, and drop whatever it brings.
      unanswered++
      const settled = () => void unanswered--
      work.then(settled, settled)
      throw new S3StoreError(`S3 ${operation} ${where(key)} did not answer within ${deadlineMs} ms`, 'Timeout')
    } catch (error) {
      throw failure(operation, key, error)
    } finally {
      clearTimeout(timer)
    }
  }
  const notFound = (error: unknown) => codeOf(error) === 'NoSuchKey' || codeOf(error) === 'NotFound'

  /** Size and time of an object, or undefined when there is none. */
  const stat = (key: string) =>
    call('HeadObject', key, async () => {
      try {
        const info = await client.stat(key)
        return { size: info.size, modifiedAt: info.lastModified.getTime() }
      } catch (error) {
        if (notFound(error)) return undefined
        throw error
      }
    })

  return {
    bucket: settings.bucket,
    prefix,
    keyFor,

    async put(bytes) {
      const hash = sha256Hex(bytes)
      const key = keyFor(hash)
      const existing = await stat(key)
      if (existing && existing.size === bytes.byteLength && Date.now() - existing.modifiedAt < refreshAfterMs)
        return hash
      // One PUT of the whole buffer: visible complete or not at all. Concurrent puts of the same
      // bytes write identical objects; whichever lands last, the result is the same.
      await call('PutObject', key, () => client.write(key, bytes), putDeadlineMs(timeoutMs, bytes.byteLength))
      return hash
    },

    async get(hash) {
      const key = keyFor(hash)
      return call('GetObject', key, async () => {
        try {
          return new Uint8Array(await client.file(key).arrayBuffer())
        } catch (error) {
          if (notFound(error)) return undefined
          throw error
        }
      })
    },

    async has(hash) {
      const key = keyFor(hash)
      return (await stat(key)) !== undefined
    },

    async delete(hash) {
      const key = keyFor(hash)
      // S3's DELETE of a missing key succeeds: deleting twice is fine.
      await call('DeleteObject', key, () => client.unlink(key))
    },

    async *list(): AsyncGenerator<BlobEntry> {
      let continuationToken: string | undefined
      do {
        const page = await call('ListObjectsV2', root, () =>
          client.list({ prefix: root, maxKeys: 1000, ...(continuationToken ? { continuationToken } : {}) }),
        )
        for (const object of page.contents ?? []) {
          // Only `<root>ab/<hash>` with `ab` the hash's first two characters is a blob this store reads.
          const match = keyRe.exec(object.key)
          if (!match || !match[2]!.startsWith(match[1]!)) continue
          yield {
            hash: match[2]!,
            bytes: object.size ?? 0,
            modifiedAt: object.lastModified ? Date.parse(object.lastModified) : 0,
          }
        }
        continuationToken = page.isTruncated ? page.nextContinuationToken : undefined
      } while (continuationToken)
    },

    /**
     * Aborts multipart uploads under the prefix started more than `olderThanMs` ago (headshot's
     * own puts never start one, but a crashed upload of another tool or version would keep its
     * parts, and their cost, forever). Their size is not listed, so `bytes` stays 0.
     */
    async sweepLeftovers(olderThanMs, options = {}) {
      const cutoff = Date.now() - olderThanMs
      const uploads = await call('ListMultipartUploads', root, () =>
        listMultipartUploads(settings, settings.bucket, root),
      )
      let count = 0
      for (const upload of uploads) {
        if (!(upload.initiated <= cutoff)) continue
        if (!options.dryRun)
          await call('AbortMultipartUpload', upload.key, () => abortMultipartUpload(settings, settings.bucket, upload))
        count++
      }
      return { count, bytes: 0 }
    },

    presign(hash, { contentType, expiresInSeconds }) {
      // `type` becomes the signed `response-content-type` parameter.
      return publicClient.presign(keyFor(hash), { method: 'GET', expiresIn: expiresInSeconds, type: contentType })
    },

    async check(checkTimeoutMs = Math.min(timeoutMs, 2000)) {
      await call('ListObjectsV2', root, () => client.list({ prefix: root, maxKeys: 1 }), checkTimeoutMs)
    },
  }
}
