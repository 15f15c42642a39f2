/**
 * Error values of the URL layer. Every message ends up verbatim in the `X-Cld-Error` response
 * header, so anything taken from the request is passed through `shown()` first.
 */
import { HttpError } from '../lib/http-error.ts'
import { err, type Err } from '../result.ts'
import type { DeliveryError } from './types.ts'

/** Longest piece of request text echoed back in a message (keeps headers and logs small). */
const MAX_SHOWN_CHARS = 100

/**
 * Makes request text safe to echo in a header: printable ASCII passes through, anything else
 * (control characters, raw non-ASCII) is percent-encoded, and long text is cut.
 * A raw CR/LF reaching a header would be response splitting; raw UTF-8 is not a valid header byte.
 */
export function shown(text: string): string {
  const cut = text.length > MAX_SHOWN_CHARS ? text.slice(0, MAX_SHOWN_CHARS) : text
  let out = ''
  for (const ch of cut) {
    const code = ch.codePointAt(0) ?? 0
    if (code >= 0x20 && code < 0x7f) out += ch
    // A lone surrogate has no UTF-8 form (encodeURIComponent would throw): show a placeholder.
    else if (code >= 0xd800 && code <= 0xdfff) out += '?'
    else out += encodeURIComponent(ch)
  }
  return text.length > MAX_SHOWN_CHARS ? `${out}...` : out
}

export const badRequest = (message: string): Err<DeliveryError> => err(new HttpError(400, message))
export const notFound = (message: string): Err<DeliveryError> => err(new HttpError(404, message))
