/**
 * What a scale-out store (PostgreSQL rows + S3 objects) must look like once the work on it has
 * settled, whatever happened to the instances that did it (issue 12): every row names an object
 * that is there, whole, under the key of its own content; no row is in a state no writer leaves
 * behind; the blob reference counts agree with the rows. Objects no row names are listed apart:
 * they are allowed (a blob is written before its row, so a writer killed in between leaves one,
 * which garbage collection removes after an hour).
 */
import { SQL, S3Client } from 'bun'
import { createHash } from 'node:crypto'
import type { S3TestSettings } from './s3.ts'

export interface StoreReport {
  /** Every violation found, one readable line each: `[]` when the store is whole. */
  problems: string[]
  pictures: number
  derivatives: number
  /** Object keys under the prefix's `blobs/` that no row names. */
  orphans: string[]
}

/** The key of a blob in the bucket (src/store/s3-blobs.ts): `<prefix>blobs/ab/abcd…`. */
export const blobKey = (settings: S3TestSettings, hash: string) => `${settings.prefix}blobs/${hash.slice(0, 2)}/${hash}`

/** Every object key under the prefix's `blobs/`. */
export async function blobKeys(settings: S3TestSettings): Promise<string[]> {
  const bucket = new S3Client({ ...settings })
  const keys: string[] = []
  let continuationToken: string | undefined
  do {
    const page = await bucket.list({
      prefix: `${settings.prefix}blobs/`,
      maxKeys: 1000,
      ...(continuationToken ? { continuationToken } : {}),
    })
    for (const object of page.contents ?? []) keys.push(object.key)
    continuationToken = page.isTruncated ? page.nextContinuationToken : undefined
  } while (continuationToken)
  return keys.sort()
}

interface PictureRow {
  type: string
  public_id: string
  version: string
  status: string
  content_hash: string | null
  format: string | null
  width: number | null
  height: number | null
  bytes: number | null
}

interface DerivativeRow {
  type: string
  public_id: string
  version: string
  key: string
  content_hash: string
  bytes: number
  width: number
  height: number
}

export async function checkStore(databaseUrl: string, settings: S3TestSettings): Promise<StoreReport> {
  const sql = new SQL({ url: databaseUrl, max: 1 })
  const bucket = new S3Client({ ...settings })
  const problems: string[] = []
  try {
    const pictures = (await sql.unsafe(
      'SELECT type, public_id, version, status, content_hash, format, width, height, bytes FROM pictures',
    )) as PictureRow[]
    const derivatives = (await sql.unsafe(
      'SELECT type, public_id, version, key, content_hash, bytes, width, height FROM derivatives',
    )) as DerivativeRow[]
    const byId = new Map(pictures.map((p) => [`${p.type}/${p.public_id}`, p]))
    /** Rows naming each hash, with the size they say it has. */
    const named = new Map<string, { refs: number; bytes: number; by: string }>()
    const name = (hash: string, bytes: number, by: string) => {
      const seen = named.get(hash)
      if (seen && seen.bytes !== bytes) problems.push(`${by}: ${bytes} bytes, but ${seen.by} says ${seen.bytes}`)
      named.set(hash, { refs: (seen?.refs ?? 0) + 1, bytes, by: seen?.by ?? by })
    }

    for (const p of pictures) {
      const what = `picture ${p.type}/${p.public_id} v${p.version} (${p.status})`
      if (p.status === 'ok') {
        const missing = (['content_hash', 'format', 'width', 'height', 'bytes'] as const).filter((f) => p[f] === null)
        if (missing.length > 0) problems.push(`${what}: held, but no ${missing.join(', ')}`)
        else name(p.content_hash!, p.bytes!, what)
      } else if (p.status === 'none' || p.status === 'not_found') {
        if (p.content_hash !== null) problems.push(`${what}: absent, but names blob ${p.content_hash}`)
      } else {
        problems.push(`${what}: unknown status`)
      }
    }
    for (const d of derivatives) {
      const what = `derivative ${d.type}/${d.public_id} v${d.version} ${d.key}`
      const picture = byId.get(`${d.type}/${d.public_id}`)
      if (picture?.status !== 'ok') problems.push(`${what}: its picture is not held (${picture?.status ?? 'no row'})`)
      else if (picture.version !== d.version)
        problems.push(`${what}: of a superseded version (now v${picture.version})`)
      name(d.content_hash, d.bytes, what)
    }

    // Every named blob is in the bucket, whole: its size is the rows' and its SHA-256 its key.
    for (const [hash, { bytes, by }] of named) {
      const file = bucket.file(blobKey(settings, hash))
      if (!(await file.exists())) {
        problems.push(`${by}: blob ${hash} is not in the bucket`)
        continue
      }
      const content = new Uint8Array(await file.arrayBuffer())
      const actual = createHash('sha256').update(content).digest('hex')
      if (actual !== hash) problems.push(`${by}: object ${hash} holds bytes hashing to ${actual}`)
      if (content.byteLength !== bytes)
        problems.push(`${by}: object ${hash} is ${content.byteLength} bytes, not ${bytes}`)
    }

    // The reference counts the triggers keep agree with the rows, and so do the totals.
    const refs = (await sql.unsafe('SELECT content_hash, bytes, refs FROM blob_refs')) as Array<{
      content_hash: string
      bytes: string
      refs: number
    }>
    const counted = new Map(refs.map((r) => [r.content_hash, r]))
    for (const [hash, { refs: n }] of named) {
      if (counted.get(hash)?.refs !== n)
        problems.push(`blob_refs of ${hash}: ${counted.get(hash)?.refs ?? 0}, rows: ${n}`)
    }
    for (const hash of counted.keys()) if (!named.has(hash)) problems.push(`blob_refs names ${hash}, no row does`)
    const [totals] = (await sql.unsafe('SELECT bytes, blobs FROM store_totals WHERE id = 1')) as Array<{
      bytes: string
      blobs: string
    }>
    const sum = [...named.values()].reduce((total, blob) => total + blob.bytes, 0)
    if (Number(totals?.blobs) !== named.size || Number(totals?.bytes) !== sum) {
      problems.push(`store_totals ${totals?.blobs} blobs / ${totals?.bytes} bytes; rows: ${named.size} / ${sum}`)
    }

    const orphans = (await blobKeys(settings)).filter((key) => !named.has(key.split('/').pop()!))
    return { problems, pictures: pictures.length, derivatives: derivatives.length, orphans }
  } finally {
    await sql.close()
  }
}
