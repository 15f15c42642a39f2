/**
 * Every request a network's plugin makes (API calls and image downloads, through its SSRF-safe
 * client), timed and classed by outcome for /metrics. The outcome classes are few and fixed, so a
 * series per network and class is cheap and declared at start.
 */
import { FetchError, type HttpClient } from '../fetch/types.ts'

export const UPSTREAM_OUTCOMES = [
  'ok', // a 1xx–3xx answer (304 Not Modified included: the stored copy is current)
  'not_found', // 404, 410: routine, the network has no such account or picture
  'rate_limited', // 429
  'refused', // any other 4xx (credentials, bad request)
  'server_error', // 5xx
  'timeout',
  'failed', // no answer: network error, SSRF refusal, too large, not an image, too many redirects
] as const
export type UpstreamOutcome = (typeof UPSTREAM_OUTCOMES)[number]

/** The class of an HTTP status or of what the client threw. */
export function upstreamOutcome(result: number | unknown): UpstreamOutcome {
  const status =
    typeof result === 'number'
      ? result
      : result instanceof FetchError && result.code === 'http_status'
        ? result.status
        : undefined
  if (status === undefined) return result instanceof FetchError && result.code === 'timeout' ? 'timeout' : 'failed'
  if (status < 400) return 'ok'
  if (status === 404 || status === 410) return 'not_found'
  if (status === 429) return 'rate_limited'
  return status < 500 ? 'refused' : 'server_error'
}

/** The same client, telling `record` how long each request took and how it ended. */
export function measuredHttpClient(
  http: HttpClient,
  record: (seconds: number, outcome: UpstreamOutcome) => void,
): HttpClient {
  const measure = async <T>(work: () => Promise<T>, statusOf: (value: T) => number): Promise<T> => {
    const started = performance.now()
    try {
      const value = await work()
      record((performance.now() - started) / 1000, upstreamOutcome(statusOf(value)))
      return value
    } catch (error) {
      record((performance.now() - started) / 1000, upstreamOutcome(error))
      throw error
    }
  }
  return {
    request: (url, options) =>
      measure(
        () => http.request(url, options),
        (response) => response.status,
      ),
    getImage: (url, options) =>
      measure(
        () => http.getImage(url, options),
        () => 200,
      ),
  }
}
