/**
 * What a client may be told about an upstream failure. Upstream messages can carry URLs (whose
 * query strings may hold tokens, and whose hosts may be internal) and resolved IP addresses (an
 * oracle for internal DNS): both are replaced, the rest (network name, status, reason) stays.
 * The full text goes to the server's log only.
 */
const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>,;)]+/gi
const IPV4_PATTERN = /\b\d{1,3}(?:\.\d{1,3}){3}\b/g
// At least two colons among hex digits: IPv6 in any spelling, with or without brackets.
const IPV6_PATTERN = /\[?\b(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}\b\]?/gi

export function redactForClient(text: string): string {
  return text
    .replace(URL_PATTERN, '<url>')
    .replace(IPV4_PATTERN, '<address>')
    .replace(IPV6_PATTERN, (match) =>
      // Times such as 12:30:00 are not addresses.
      /^[\d:]+$/.test(match) && !match.includes('::') ? match : '<address>',
    )
}
