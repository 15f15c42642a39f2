/**
 * What a fake upstream was asked, per named route. Single-flight and caching tests elsewhere assert
 * on these counters ("two concurrent deliveries → one `picture` request"), so every fake logs every
 * request, including the ones it refuses.
 */
export interface LoggedRequest {
  /** The fake's route name, e.g. `picture`, `cdn`, `users/id`, `pbs`, `avatar`, or `unknown`. */
  route: string
  method: string
  /** Path as received (still percent-encoded). */
  path: string
  query: URLSearchParams
  headers: Headers
  /** Status the fake answered with. */
  status: number
}

export class RequestLog {
  readonly entries: LoggedRequest[] = []

  record(entry: LoggedRequest): void {
    this.entries.push(entry)
  }

  /** Requests to `route` (all routes when omitted). */
  count(route?: string): number {
    return route === undefined ? this.entries.length : this.entries.filter((entry) => entry.route === route).length
  }

  /** Requests to `route`, oldest first. */
  to(route: string): LoggedRequest[] {
    return this.entries.filter((entry) => entry.route === route)
  }

  /** The most recent request (to `route`, when given). */
  last(route?: string): LoggedRequest | undefined {
    const matching = route === undefined ? this.entries : this.to(route)
    return matching[matching.length - 1]
  }

  reset(): void {
    this.entries.length = 0
  }
}
