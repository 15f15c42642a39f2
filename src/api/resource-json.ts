/**
 * The JSON shapes of Cloudinary's Upload and Admin APIs for a stored picture: what the SDKs parse
 * (`UploadApiResponse`, `ResourceApiResponse`). URLs are built unsigned, as Cloudinary's are, with
 * the cloud name in the path so that they also work without `private_cdn`.
 */
import { escapePublicId } from '../manage/service.ts'
import type { Rect } from '../image/types.ts'
import type { Derivative, Picture } from '../store/types.ts'

export interface UrlBase {
  cloudName: string
  /** Host (and port) clients reach us on (src/api/url-base.ts decides which). */
  host: string
  /** Path before `/<cloud>/image/…` when we are served below one (HEADSHOT_PUBLIC_URL); `''` otherwise. */
  pathPrefix?: string
}

/** `/<cloud>/image/<type>/[<transformation>/]v<version>/<id>.<ext>` */
export function resourcePath(base: UrlBase, picture: Picture, transformation: string, format: string | null): string {
  const parts = ['', base.cloudName, 'image', picture.type]
  if (transformation !== '') parts.push(transformation)
  parts.push(`v${picture.version}`)
  return `${parts.join('/')}/${escapePublicId(picture.publicId)}${format ? `.${format}` : ''}`
}

/** Face boxes as Cloudinary writes them: `[x, y, w, h]` in whole original pixels. */
export function faceTuples(faces: readonly Rect[]): number[][] {
  return faces.map(({ x, y, w, h }) => [x, y, w, h].map(Math.round))
}

export const urlsOf = (base: UrlBase, path: string) => ({
  url: `http://${base.host}${base.pathPrefix ?? ''}${path}`,
  secure_url: `https://${base.host}${base.pathPrefix ?? ''}${path}`,
})

const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')

export function resourceJson(picture: Picture, base: UrlBase): Record<string, unknown> {
  const held = picture.status === 'ok'
  return {
    public_id: picture.publicId,
    format: picture.format,
    version: picture.version,
    resource_type: 'image',
    type: picture.type,
    created_at: isoSeconds(picture.createdAt),
    bytes: picture.bytes ?? 0,
    width: picture.width,
    height: picture.height,
    placeholder: !held,
    access_mode: 'public',
    etag: picture.contentHash?.slice(0, 32),
    ...urlsOf(base, resourcePath(base, picture, '', picture.format)),
  }
}

/** The transformation part of a derivative key (`c_fill,w_80/jpg` → `c_fill,w_80`). */
export function transformationOf(derivative: Derivative): string {
  const slash = derivative.key.lastIndexOf('/')
  return slash < 0 ? '' : derivative.key.slice(0, slash)
}

export function derivedJson(derivative: Derivative, picture: Picture, base: UrlBase): Record<string, unknown> {
  const transformation = transformationOf(derivative)
  return {
    transformation,
    format: derivative.format,
    bytes: derivative.bytes,
    width: derivative.width,
    height: derivative.height,
    id: derivative.contentHash.slice(0, 32),
    ...urlsOf(base, resourcePath(base, { ...picture, version: derivative.version }, transformation, derivative.format)),
  }
}
