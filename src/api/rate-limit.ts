/**
 * The API's hourly allowance, reported the way Cloudinary does (`X-FeatureRateLimit-Limit`,
 * `-Remaining`, `-Reset`), which the SDKs expose as `rate_limit_allowed`, `rate_limit_remaining`
 * and `rate_limit_reset_at`. One fixed window per hour, counted for authenticated calls.
 */
import { HttpError } from '../lib/http-error.ts'

export interface RateLimiter {
  /** Count one call; throws 429 when the hour's allowance is spent. Returns the headers to send. */
  take(): Record<string, string>
}

const HOUR_MS = 3_600_000

export function createRateLimiter(limitPerHour: number, now: () => number = Date.now): RateLimiter {
  let windowStart = Math.floor(now() / HOUR_MS) * HOUR_MS
  let used = 0

  const headers = (): Record<string, string> => ({
    'X-FeatureRateLimit-Limit': String(limitPerHour),
    'X-FeatureRateLimit-Remaining': String(Math.max(0, limitPerHour - used)),
    'X-FeatureRateLimit-Reset': new Date(windowStart + HOUR_MS).toUTCString(),
  })

  return {
    take() {
      const current = Math.floor(now() / HOUR_MS) * HOUR_MS
      if (current !== windowStart) {
        windowStart = current
        used = 0
      }
      if (used >= limitPerHour) {
        const retryAfter = Math.max(1, Math.ceil((windowStart + HOUR_MS - now()) / 1000))
        throw new HttpError(429, 'Rate Limit Exceeded', { ...headers(), 'Retry-After': String(retryAfter) })
      }
      used++
      return headers()
    },
  }
}
