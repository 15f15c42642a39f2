/**
 * One cache tag per picture, shared by every variant of it (sizes, formats, versions), so that a
 * CDN can drop them all with one purge-by-tag call when the picture changes or is deleted.
 *
 * Public ids may hold any character, but tags travel in headers where Cloudflare splits on commas
 * and Fastly on spaces: the id is percent-encoded, which leaves neither.
 */
export const CACHE_TAG_PREFIX = 'headshot:'

export function cacheTagOf(type: string, publicId: string): string {
  return `${CACHE_TAG_PREFIX}${type}/${encodeURIComponent(publicId)}`
}

/**
 * Cache-Control for URLs without a version. Browsers cannot be purged, so they keep a copy no
 * longer than the refresh TTL (at most Cloudinary's 30 days). A CDN that is purged through the
 * purge hook may keep it the full 30 days (`s-maxage`): a change reaches it as a purge instead.
 */
export function unversionedCacheControl(refreshTtlMs: number, purgeHook: boolean): string {
  const thirtyDays = 2_592_000
  const maxAge = Math.max(60, Math.min(thirtyDays, Math.floor(refreshTtlMs / 1000)))
  return purgeHook && maxAge < thirtyDays
    ? `public, max-age=${maxAge}, s-maxage=${thirtyDays}`
    : `public, max-age=${maxAge}`
}
