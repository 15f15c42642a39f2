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

/**
 * What the server's own log may keep of a text: everything (hosts, paths, statuses, addresses are
 * what an operator needs), except what grants access. Query strings and user info of URLs go (API
 * tokens, `access_token`, signed-URL parameters), so do credentials after an authorization scheme,
 * `name=value` pairs whose name says secret, and any of the `secrets` the server knows of.
 */
const URL_CREDENTIALS = /^([a-z][a-z0-9+.-]*:\/\/)[^/@?#]*@/i
const AUTH_SCHEME = /\b(Bearer|OAuth|Basic|Token)\s+[A-Za-z0-9._~+/=|:-]+/gi
// Not `api_key`: a Cloudinary API key is public (it travels in upload URLs); the secret is what signs.
const SECRET_PAIR = /\b([A-Za-z_]*(?:secret|token|password|passwd|signature|credential)[A-Za-z_]*)=[^\s&"',;)]+/gi

// Every pattern below needs one of these: most texts (paths, methods, addresses) have none and cost one test.
const MAY_HOLD_CREDENTIALS = /:\/\/|=|bearer|basic|oauth|token/i

export function redactForLog(text: string, secrets: readonly string[] = []): string {
  let out = text
  // Known values first: a secret may sit anywhere, not only in a URL or after a name.
  for (const secret of secrets) if (out.includes(secret)) out = out.replaceAll(secret, '<redacted>')
  if (!MAY_HOLD_CREDENTIALS.test(out)) return out
  return out
    .replace(URL_PATTERN, (url) => {
      const bare = url.replace(URL_CREDENTIALS, '$1<redacted>@')
      const query = bare.search(/[?#]/)
      return query < 0 ? bare : `${bare.slice(0, query)}?<redacted>`
    })
    .replace(AUTH_SCHEME, '$1 <redacted>')
    .replace(SECRET_PAIR, '$1=<redacted>')
}
