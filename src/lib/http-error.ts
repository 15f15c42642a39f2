/**
 * The one error type that carries an HTTP status. Layers below HTTP (store, ingest, manage) throw it
 * when a failure has an obvious status (404 unknown picture, 400 bad parameter); the routes turn
 * it into their own error shape: `X-Cld-Error` for delivery, `{"error":{"message"}}` for the API.
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
