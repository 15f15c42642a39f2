/**
 * The one error type that carries an HTTP status. Layers below HTTP throw it when a failure has an
 * obvious status (400 bad transformation, 404 unknown picture, 429 full queue, 502 undecodable
 * upstream image); the layers whose errors are data for their callers (the fetch client's
 * FetchError, a plugin's UpstreamError) say how they map to it with `toHttpError()`. The routes turn
 * the result into their own shape: `X-Cld-Error` for delivery, `{"error":{"message"}}` for the API.
 */
export class HttpError extends Error {
  override name = 'HttpError'
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message)
  }
}

/** An error of another layer that knows which HttpError it stands for. */
export interface MapsToHttpError {
  toHttpError(): HttpError
}

const mapsToHttpError = (error: unknown): error is MapsToHttpError =>
  typeof (error as Partial<MapsToHttpError> | null)?.toHttpError === 'function'

/** Any thrown value as the HttpError to answer with; anything unknown is a 500 that names nothing. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error
  if (mapsToHttpError(error)) return error.toHttpError()
  return new HttpError(500, 'Internal error')
}
