/**
 * Where the absolute URLs of API answers (`url`, `secure_url`, eager URLs) point. With
 * HEADSHOT_PUBLIC_URL set, there and nowhere else: the `Host` a caller sends is ignored. Without
 * it, the caller's `Host` is used only when it is a plain host[:port] (what the official SDK tests
 * and a same-host deployment need), so a forged one cannot put a path, quotes or markup into the
 * answer; a missing or refused one gives `localhost` (a URL that at least names nobody else).
 */
import type { UrlBase } from './resource-json.ts'

export interface PublicUrl {
  /** host[:port] */
  host: string
  /** `''` or a path starting with `/`, without a trailing `/`. */
  pathPrefix: string
}

const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?'
/** A DNS name (underscores allowed, as in container names) or an IPv4 address, or a bracketed IPv6 literal; then an optional port. */
const HOST = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*\\.?|\\[[0-9A-Fa-f:.]{2,45}\\])(?::([0-9]{1,5}))?$`)

/** The Host header when it is safe to write into a URL as it is; undefined otherwise. */
export function reflectableHost(header: string | null): string | undefined {
  if (header === null || header.length > 255) return undefined
  const match = HOST.exec(header)
  if (!match || (match[1] !== undefined && Number(match[1]) > 65535)) return undefined
  return header
}

export function urlBaseOf(request: Request, options: { cloudName: string; publicUrl?: PublicUrl }): UrlBase {
  const { cloudName, publicUrl } = options
  if (publicUrl) return { cloudName, host: publicUrl.host, pathPrefix: publicUrl.pathPrefix }
  return { cloudName, host: reflectableHost(request.headers.get('host')) ?? 'localhost', pathPrefix: '' }
}
