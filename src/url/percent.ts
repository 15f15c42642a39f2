/** Percent-decoding helpers shared by the parser (strict) and the signature verifier (lenient). */

/**
 * Strict UTF-8 percent-decoding, as needed for public ids and parameter values.
 * Returns undefined for a malformed escape (`%zz`, a trailing `%`) or bytes that are not UTF-8.
 * `+` stays `+`: in a path it never meant a space.
 */
export function decodePercentStrict(text: string): string | undefined {
  if (!text.includes('%')) return text
  try {
    return decodeURIComponent(text)
  } catch {
    return undefined
  }
}

/** Cloudinary's Ruby SDK stops unescaping after 10 rounds (`Utils.fully_unescape`); so do we. */
const MAX_UNESCAPE_ROUNDS = 10

const hexValue = (byte: number): number => {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30 // 0-9
  const lower = byte | 0x20
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10 // a-f
  return -1
}

/** One round of byte-wise `%HH` decoding; invalid escapes are kept literally (like Ruby's CGI.unescape). */
function unescapeOnce(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length)
  let length = 0
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] ?? 0
    if (byte === 0x25 /* % */ && i + 2 < bytes.length) {
      const high = hexValue(bytes[i + 1] ?? 0)
      const low = hexValue(bytes[i + 2] ?? 0)
      if (high >= 0 && low >= 0) {
        out[length++] = high * 16 + low
        i += 2
        continue
      }
    }
    out[length++] = byte
  }
  return out.subarray(0, length)
}

/**
 * The Ruby SDK signs the fully unescaped text (repeat decoding until stable, `+` kept as `+`).
 * Works on bytes, because the unescaped text need not be valid UTF-8 and Ruby hashes bytes.
 */
export function fullyUnescapeBytes(bytes: Uint8Array): Uint8Array {
  let current = bytes
  for (let round = 0; round < MAX_UNESCAPE_ROUNDS; round++) {
    const next = unescapeOnce(current)
    if (next.length === current.length) return current // nothing decoded: stable
    current = next
  }
  return current
}
