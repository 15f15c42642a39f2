/**
 * Counting the upstream requests one piece of work really made. The registry wraps every plugin's
 * HTTP client in `countingHttpClient`; work run through `countUpstreamCalls` sees, at the end, how many
 * requests were started on its behalf (API calls, image downloads, alternates tried after a 404),
 * whatever the plugin does inside. Requests made by other work at the same time (a delivery on
 * another request) are not counted, because the count follows the async context, not the client.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { HttpClient } from '../fetch/types.ts'

interface Tally {
  calls: number
}

const current = new AsyncLocalStorage<Tally>()

/** The same client, counting each request it starts into the tally of the work that started it. */
export function countingHttpClient(http: HttpClient): HttpClient {
  const count = () => {
    const tally = current.getStore()
    if (tally) tally.calls++
  }
  return {
    request(url, options) {
      count()
      return http.request(url, options)
    },
    getImage(url, options) {
      count()
      return http.getImage(url, options)
    },
  }
}

export type Counted<T> = { ok: true; value: T; calls: number } | { ok: false; error: unknown; calls: number }

/**
 * Run `work` and report how many upstream requests it started, whether it succeeded or threw (a
 * failed request was still made and still counts against a budget). Work joining a single-flight
 * started elsewhere counts nothing: it spent nothing.
 */
export async function countUpstreamCalls<T>(work: () => Promise<T>): Promise<Counted<T>> {
  const tally: Tally = { calls: 0 }
  try {
    const value = await current.run(tally, work)
    return { ok: true, value, calls: tally.calls }
  } catch (error) {
    return { ok: false, error, calls: tally.calls }
  }
}
