/**
 * The few S3 calls Bun's `S3Client` does not make (creating a bucket, listing and aborting
 * unfinished multipart uploads), as plain `fetch` requests signed with AWS Signature Version 4
 * (header signing, path-style addressing: `<endpoint>/<bucket>/<key>`).
 */
import { createHash, createHmac } from 'node:crypto'

export interface S3Credentials {
  endpoint: string
  region: string
  accessKeyId: string
  secretAccessKey: string
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex')
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest()

/** RFC 3986 encoding as SigV4 wants it (`encodeURIComponent` leaves `!'()*` alone). */
const encode = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

/** A signed request to `<endpoint>/<bucket>[/<key>]` with a query, e.g. `{ uploads: '' }`. */
export async function signedS3Fetch(
  credentials: S3Credentials,
  request: {
    method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD'
    bucket: string
    key?: string
    query?: Record<string, string>
    body?: string
    timeoutMs?: number
  },
): Promise<Response> {
  const endpoint = new URL(credentials.endpoint)
  const base = endpoint.pathname.replace(/\/+$/, '')
  const path = `${base}/${encode(request.bucket)}${request.key === undefined ? '' : `/${request.key.split('/').map(encode).join('/')}`}`
  const query = Object.entries(request.query ?? {})
    .map(([k, v]) => [encode(k), encode(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
  const body = request.body ?? ''
  const now = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '') // 20240101T000000Z
  const day = now.slice(0, 8)
  const payloadHash = sha256(body)
  const headers: Record<string, string> = {
    host: endpoint.host,
    'x-amz-content-sha256': payloadHash,
    'x-amz-date': now,
  }
  const names = Object.keys(headers).sort()
  const canonical = [
    request.method,
    path,
    query,
    ...names.map((name) => `${name}:${headers[name]}`),
    '',
    names.join(';'),
    payloadHash,
  ].join('\n')
  const scope = `${day}/${credentials.region}/s3/aws4_request`
  const toSign = ['AWS4-HMAC-SHA256', now, scope, sha256(canonical)].join('\n')
  let key = hmac(`AWS4${credentials.secretAccessKey}`, day)
  for (const part of [credentials.region, 's3', 'aws4_request']) key = hmac(key, part)
  const signature = createHmac('sha256', key).update(toSign).digest('hex')
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`
  delete headers.host // fetch sets it from the URL
  return fetch(`${endpoint.origin}${path}${query ? `?${query}` : ''}`, {
    method: request.method,
    headers,
    body: body === '' ? undefined : body,
    signal: AbortSignal.timeout(request.timeoutMs ?? 10_000),
  })
}

/** The `<Code>` of an S3 XML error body, if any. */
export function s3ErrorCode(xml: string): string | undefined {
  return /<Code>([^<]{1,100})<\/Code>/.exec(xml)?.[1]
}

/**
 * CreateBucket; a bucket that already exists and is ours counts as created. Returns whether it
 * was made now. Used by the tests and the benchmark (headshot itself never creates its bucket).
 */
export async function createBucket(credentials: S3Credentials, bucket: string): Promise<boolean> {
  // Outside us-east-1, S3 wants the region named in the body.
  const body =
    credentials.region === 'us-east-1'
      ? undefined
      : `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${credentials.region}</LocationConstraint></CreateBucketConfiguration>`
  const response = await signedS3Fetch(credentials, { method: 'PUT', bucket, body })
  const text = await response.text()
  if (response.ok) return true
  if (s3ErrorCode(text) === 'BucketAlreadyOwnedByYou') return false
  throw new Error(`S3 CreateBucket ${bucket} failed: HTTP ${response.status} ${s3ErrorCode(text) ?? ''}`.trim())
}

export interface MultipartUpload {
  key: string
  uploadId: string
  initiated: number
}

const xmlText = (text: string) =>
  text
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&amp;', '&')

/** Unfinished multipart uploads of keys under `prefix` (ListMultipartUploads, every page). */
export async function listMultipartUploads(
  credentials: S3Credentials,
  bucket: string,
  prefix: string,
): Promise<MultipartUpload[]> {
  const uploads: MultipartUpload[] = []
  let marker: Record<string, string> = {}
  for (let page = 0; page < 1000; page++) {
    const response = await signedS3Fetch(credentials, {
      method: 'GET',
      bucket,
      query: { uploads: '', prefix, ...marker },
    })
    const text = await response.text()
    if (!response.ok)
      throw new Error(`S3 ListMultipartUploads failed: HTTP ${response.status} ${s3ErrorCode(text) ?? ''}`.trim())
    for (const [, block] of text.matchAll(/<Upload>([\s\S]*?)<\/Upload>/g)) {
      const field = (name: string) => xmlText(new RegExp(`<${name}>([^<]*)</${name}>`).exec(block!)?.[1] ?? '')
      uploads.push({ key: field('Key'), uploadId: field('UploadId'), initiated: Date.parse(field('Initiated')) })
    }
    if (!/<IsTruncated>true<\/IsTruncated>/.test(text)) break
    const nextKey = /<NextKeyMarker>([^<]*)<\/NextKeyMarker>/.exec(text)?.[1]
    const nextId = /<NextUploadIdMarker>([^<]*)<\/NextUploadIdMarker>/.exec(text)?.[1]
    if (!nextKey) break
    marker = { 'key-marker': xmlText(nextKey), 'upload-id-marker': xmlText(nextId ?? '') }
  }
  return uploads
}

/** AbortMultipartUpload (its parts are deleted); an upload already gone counts as aborted. */
export async function abortMultipartUpload(credentials: S3Credentials, bucket: string, upload: MultipartUpload) {
  const response = await signedS3Fetch(credentials, {
    method: 'DELETE',
    bucket,
    key: upload.key,
    query: { uploadId: upload.uploadId },
  })
  const text = await response.text()
  if (response.ok || s3ErrorCode(text) === 'NoSuchUpload') return
  throw new Error(`S3 AbortMultipartUpload failed: HTTP ${response.status} ${s3ErrorCode(text) ?? ''}`.trim())
}
