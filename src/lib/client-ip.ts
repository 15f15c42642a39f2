/**
 * Who the client is, for per-client limits: the socket peer, unless the peer is a proxy we were told
 * to trust (HEADSHOT_TRUSTED_PROXIES); only then is `X-Forwarded-For` read, from the right, skipping
 * trusted proxies, and the first address that is not one of them is the client. Anything to the left
 * of it was written by the client itself and could say anything, so it is never looked at: rotating
 * a forged `X-Forwarded-For` changes nothing. Pure: addresses in, addresses out.
 *
 * Clients are then bucketed by address: an IPv4 address is one client, an IPv6 client is its /64
 * (the smallest block a network hands a subscriber, so one household or one server cannot get a
 * fresh bucket per address). IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) count as IPv4.
 */
import { formatAddress, type IpAddress, parseIPv6 } from '../fetch/address.ts'

/** An address block: an IPv4 one as a 32-bit value and a prefix length, an IPv6 one as 16 bytes. */
export type Cidr = { family: 4; value: number; prefix: number } | { family: 6; bytes: Uint8Array; prefix: number }

/** A mapped IPv4 address (`::ffff:a.b.c.d`) as the IPv4 address it is; anything else unchanged. */
function unmapped(address: IpAddress): IpAddress {
  if (address.family === 4) return address
  const b = address.bytes
  const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff
  return mapped ? { family: 4, value: ((b[12]! << 24) | (b[13]! << 16) | (b[14]! << 8) | b[15]!) >>> 0 } : address
}

/**
 * An address as written in a header or by the socket layer: IPv4 as four decimal numbers, IPv6 as
 * RFC 4291 text (brackets and a zone id allowed); IPv4-mapped IPv6 becomes IPv4. Nothing else (host
 * names, ports, the inet_aton shorthands the SSRF guard has to understand) is an address here.
 */
export function readAddress(text: string): IpAddress | undefined {
  const trimmed = text.trim()
  if (trimmed.length > 64) return undefined
  if (trimmed.includes(':')) {
    const bytes = parseIPv6(trimmed)
    return bytes && unmapped({ family: 6, bytes })
  }
  const parts = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(trimmed)?.slice(1).map(Number)
  if (!parts || parts.some((n) => n > 255)) return undefined
  return { family: 4, value: parts.reduce((value, n) => value * 256 + n, 0) }
}

/**
 * `HEADSHOT_TRUSTED_PROXIES`: comma-separated addresses or blocks (`10.0.0.0/8`, `fd00::/8`,
 * `192.0.2.7`). Throws with the entry that is not one.
 */
export function parseCidrList(text: string): Cidr[] {
  const list: Cidr[] = []
  for (const entry of text.split(',').map((e) => e.trim())) {
    if (entry === '') continue
    const slash = entry.indexOf('/')
    const address = readAddress(slash < 0 ? entry : entry.slice(0, slash))
    const bits = address?.family === 4 ? 32 : 128
    const prefixText = slash < 0 ? String(bits) : entry.slice(slash + 1)
    const prefix = /^[0-9]{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN
    if (!address || !(prefix >= 0 && prefix <= bits)) throw new Error(`"${entry}" is not an IP address or block`)
    list.push(address.family === 4 ? { family: 4, value: address.value, prefix } : { ...address, prefix })
  }
  return list
}

function within(address: IpAddress, block: Cidr): boolean {
  if (address.family !== block.family) return false
  if (address.family === 4 && block.family === 4) {
    if (block.prefix === 0) return true
    const shift = 32 - block.prefix
    return address.value >>> shift === block.value >>> shift
  }
  const a = (address as { bytes: Uint8Array }).bytes
  const b = (block as { bytes: Uint8Array }).bytes
  const whole = Math.floor(block.prefix / 8)
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false
  const rest = block.prefix % 8
  if (rest === 0) return true
  const mask = (0xff << (8 - rest)) & 0xff
  return (a[whole]! & mask) === (b[whole]! & mask)
}

export const isTrusted = (address: IpAddress, trusted: readonly Cidr[]): boolean =>
  trusted.some((block) => within(address, block))

/**
 * The client's address: the peer's, or, when the peer is a trusted proxy, the right-most
 * `X-Forwarded-For` entry that is not a trusted proxy. When every entry is trusted, the left-most
 * one. An entry that is not an address stops the walk at the trusted hop that passed it on (a
 * proxy we trust never writes one, so only a misconfiguration gets there, and then nothing the
 * client wrote becomes its identity). Undefined when the peer is unknown.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | null,
  trusted: readonly Cidr[],
): IpAddress | undefined {
  let client = peer === undefined ? undefined : readAddress(peer)
  if (!client || !isTrusted(client, trusted) || !forwardedFor) return client
  // Several X-Forwarded-For headers arrive joined by ", " (Headers.get), which is the same list.
  const hops = forwardedFor.split(',')
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = readAddress(hops[i]!)
    if (!hop) return client
    client = hop
    if (!isTrusted(hop, trusted)) return hop
  }
  return client
}

/** The bucket a client address falls in: the IPv4 address itself, or the IPv6 /64 (`2001:db8:1:2::/64`). */
export function clientKey(address: IpAddress): string {
  if (address.family === 4) return formatAddress(address)
  const bytes = new Uint8Array(16)
  bytes.set(address.bytes.subarray(0, 8))
  return `${formatAddress({ family: 6, bytes })}/64`
}
