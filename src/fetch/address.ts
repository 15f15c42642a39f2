/**
 * Pure IPv4/IPv6 parsing and classification for the SSRF guard.
 *
 * The guard is an allow-list at heart: an address is public only if it is outside every special-purpose
 * block we know of. For IPv6 anything outside 2000::/3 (global unicast) is refused, except the two
 * forms that carry an IPv4 address whose own classification decides (IPv4-mapped, NAT64 well-known prefix).
 *
 * Parsing is deliberately lenient about *text* (brackets, zone ids, inet_aton-style IPv4 such as `127.1`,
 * `0x7f.1`, `2130706433`): whatever the OS would turn into a loopback connection must classify as
 * loopback here too. WHATWG `new URL` already normalises IPv4 hosts (`http://0x7f.1/` → `127.0.0.1`) and
 * IPv6 hosts (`[::ffff:127.0.0.1]` → `[::ffff:7f00:1]`), and rejects zone ids, but resolver answers and
 * direct callers do not go through URL parsing.
 */

export type IpAddress =
  | { readonly family: 4; readonly value: number } // unsigned 32-bit
  | { readonly family: 6; readonly bytes: Uint8Array } // 16 bytes, network order

export type AddressVerdict =
  | { readonly public: true; readonly address: IpAddress }
  | { readonly public: false; readonly reason: string }

// ---------------------------------------------------------------------------------------------------------
// Parsing

/**
 * IPv4 in any form `inet_aton` / the WHATWG host parser accept: 1–4 dot-separated parts, each decimal,
 * octal (leading 0) or hex (0x); the last part fills the remaining bytes. One trailing dot is allowed.
 */
export function parseIPv4(text: string): number | undefined {
  let s = text
  if (s.endsWith('.')) s = s.slice(0, -1)
  if (s === '') return undefined
  const parts = s.split('.')
  if (parts.length > 4) return undefined
  const nums: number[] = []
  for (const part of parts) {
    const n = parseIPv4Part(part)
    if (n === undefined) return undefined
    nums.push(n)
  }
  const last = nums.pop() ?? 0
  let value = 0
  for (const [i, n] of nums.entries()) {
    if (n > 255) return undefined
    value += n * 2 ** (8 * (3 - i))
  }
  if (last >= 2 ** (8 * (4 - nums.length))) return undefined
  return value + last
}

function parseIPv4Part(part: string): number | undefined {
  let digits = part
  let radix = 10
  if (/^0[xX]/.test(digits)) {
    digits = digits.slice(2)
    radix = 16
    if (digits === '') return 0 // "0x" alone is 0, as in WHATWG
  } else if (digits.length > 1 && digits.startsWith('0')) {
    digits = digits.slice(1)
    radix = 8
  }
  const valid = radix === 16 ? /^[0-9a-fA-F]+$/ : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/
  if (!valid.test(digits)) return undefined
  // Long digit strings would lose precision; anything that big is out of range anyway.
  if (digits.replace(/^0+/, '').length > 12) return undefined
  return parseInt(digits, radix)
}

/** IPv6 text to 16 bytes. Accepts brackets, a `%zone` suffix, `::` compression and a dotted IPv4 tail. */
export function parseIPv6(text: string): Uint8Array | undefined {
  let s = text
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1)
  const zone = s.indexOf('%')
  if (zone !== -1) s = s.slice(0, zone)
  if (!s.includes(':')) return undefined

  // A dotted IPv4 tail stands for the last two groups (strict dotted-quad, as in inet_pton): rewrite it as
  // two hex groups and parse the rest uniformly.
  const lastColon = s.lastIndexOf(':')
  const maybeV4 = s.slice(lastColon + 1)
  if (maybeV4.includes('.')) {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(maybeV4)
    if (!m) return undefined
    const [a = 0, b = 0, c = 0, d = 0] = m.slice(1).map(Number)
    if (a > 255 || b > 255 || c > 255 || d > 255) return undefined
    s = `${s.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }

  const halves = s.split('::')
  if (halves.length > 2) return undefined
  const parseGroups = (h: string): number[] | undefined => {
    if (h === '') return []
    const out: number[] = []
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined
      out.push(parseInt(g, 16))
    }
    return out
  }
  const head = parseGroups(halves[0] ?? '')
  const rest = halves.length === 2 ? parseGroups(halves[1] ?? '') : []
  if (!head || !rest) return undefined
  const explicit = head.length + rest.length
  let groups: number[]
  if (halves.length === 2) {
    if (explicit > 7) return undefined // "::" must stand for at least one group
    groups = [...head, ...new Array<number>(8 - explicit).fill(0), ...rest]
  } else {
    if (explicit !== 8) return undefined
    groups = head
  }
  const bytes = new Uint8Array(16)
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8
    bytes[2 * i + 1] = g & 0xff
  })
  return bytes
}

export function parseIP(text: string): IpAddress | undefined {
  const v6 = parseIPv6(text)
  if (v6) return { family: 6, bytes: v6 }
  const v4 = parseIPv4(text)
  if (v4 !== undefined) return { family: 4, value: v4 }
  return undefined
}

// ---------------------------------------------------------------------------------------------------------
// Formatting

export function formatIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.')
}

/** RFC 5952 text (lower case, longest zero run compressed), no brackets, no zone. */
export function formatIPv6(bytes: Uint8Array): string {
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0))
  let bestStart = -1
  let bestLen = 0
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (bestStart === -1) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`
}

export function formatAddress(address: IpAddress): string {
  return address.family === 4 ? formatIPv4(address.value) : formatIPv6(address.bytes)
}

/** The address as a URL host: IPv6 in brackets. */
export function addressToUrlHost(address: IpAddress): string {
  return address.family === 4 ? formatIPv4(address.value) : `[${formatIPv6(address.bytes)}]`
}

// ---------------------------------------------------------------------------------------------------------
// Classification

interface Block4 {
  base: number
  bits: number
  reason: string
}

const cidr4 = (text: string, reason: string): Block4 => {
  const [ip = '', bits = '32'] = text.split('/')
  const base = parseIPv4(ip)
  if (base === undefined) throw new Error(`bad CIDR ${text}`)
  return { base, bits: Number(bits), reason }
}

/** IANA special-purpose IPv4 blocks that must never be reached from a fetched URL. */
const BLOCKED_V4: readonly Block4[] = [
  cidr4('0.0.0.0/8', '"this network" (0.0.0.0/8)'),
  cidr4('10.0.0.0/8', 'private (10.0.0.0/8)'),
  cidr4('100.64.0.0/10', 'carrier-grade NAT (100.64.0.0/10)'),
  cidr4('127.0.0.0/8', 'loopback (127.0.0.0/8)'),
  cidr4('169.254.0.0/16', 'link-local (169.254.0.0/16)'),
  cidr4('172.16.0.0/12', 'private (172.16.0.0/12)'),
  cidr4('192.0.0.0/24', 'IETF protocol assignments (192.0.0.0/24)'),
  cidr4('192.0.2.0/24', 'documentation (192.0.2.0/24)'),
  cidr4('192.88.99.0/24', '6to4 relay anycast (192.88.99.0/24)'),
  cidr4('192.168.0.0/16', 'private (192.168.0.0/16)'),
  cidr4('198.18.0.0/15', 'benchmarking (198.18.0.0/15)'),
  cidr4('198.51.100.0/24', 'documentation (198.51.100.0/24)'),
  cidr4('203.0.113.0/24', 'documentation (203.0.113.0/24)'),
  cidr4('224.0.0.0/4', 'multicast (224.0.0.0/4)'),
  cidr4('255.255.255.255/32', 'broadcast (255.255.255.255)'),
  cidr4('240.0.0.0/4', 'reserved (240.0.0.0/4)'),
]

function inBlock4(value: number, block: Block4): boolean {
  if (block.bits === 0) return true
  const size = 2 ** (32 - block.bits)
  return Math.floor(value / size) === Math.floor(block.base / size)
}

export function classifyIPv4(value: number): { public: true } | { public: false; reason: string } {
  const hit = BLOCKED_V4.find((b) => inBlock4(value, b))
  return hit ? { public: false, reason: hit.reason } : { public: true }
}

interface Block6 {
  prefix: Uint8Array
  bits: number
  reason: string
}

const cidr6 = (text: string, reason: string): Block6 => {
  const [ip = '', bits = '128'] = text.split('/')
  const prefix = parseIPv6(ip)
  if (!prefix) throw new Error(`bad CIDR ${text}`)
  return { prefix, bits: Number(bits), reason }
}

function inBlock6(bytes: Uint8Array, block: Block6): boolean {
  const full = block.bits >> 3
  for (let i = 0; i < full; i++) if (bytes[i] !== block.prefix[i]) return false
  const rem = block.bits & 7
  if (rem === 0) return true
  const mask = (0xff << (8 - rem)) & 0xff
  return ((bytes[full] ?? 0) & mask) === ((block.prefix[full] ?? 0) & mask)
}

const v4At = (bytes: Uint8Array, offset: number): number =>
  (bytes[offset] ?? 0) * 2 ** 24 +
  (((bytes[offset + 1] ?? 0) << 16) | ((bytes[offset + 2] ?? 0) << 8) | (bytes[offset + 3] ?? 0))

/** Blocks whose embedded IPv4 (last 32 bits) decides: the IPv6 form is just another way to reach it. */
const EMBEDDING_V6: readonly Block6[] = [
  cidr6('::ffff:0:0/96', 'IPv4-mapped'),
  // RFC 6052 well-known NAT64 prefix: a DNS64 resolver answers with it for IPv4-only hosts, so refusing it
  // outright would break IPv6-only deployments; the NAT64 gateway forwards to the embedded address.
  cidr6('64:ff9b::/96', 'NAT64'),
]

/** Refused outright, whatever they embed. Order matters only for the reason text. */
const BLOCKED_V6: readonly Block6[] = [
  cidr6('::/128', 'unspecified (::)'),
  cidr6('::1/128', 'loopback (::1)'),
  // ::/8 is IETF-reserved: IPv4-compatible (::/96), IPv4-translated (::ffff:0:0:0/96) and friends.
  cidr6('::/96', 'IPv4-compatible (::/96)'),
  cidr6('::/8', 'reserved (::/8)'),
  cidr6('64:ff9b:1::/48', 'local-use NAT64 (64:ff9b:1::/48)'),
  cidr6('100::/64', 'discard-only (100::/64)'),
  cidr6('2001:db8::/32', 'documentation (2001:db8::/32)'),
  cidr6('2001::/32', 'Teredo (2001::/32)'),
  // The rest of 2001::/23 is IETF protocol assignments (benchmarking, ORCHID, …): nothing we fetch from.
  cidr6('2001::/23', 'IETF protocol assignments (2001::/23)'),
  // 6to4 is deprecated (RFC 7526); a relay would forward to the embedded IPv4, which we could judge, but
  // no real image host lives behind 6to4 any more, so refusing the whole block is simpler and safer.
  cidr6('2002::/16', '6to4 (2002::/16)'),
  cidr6('3fff::/20', 'documentation (3fff::/20)'),
  cidr6('5f00::/16', 'SRv6 SIDs (5f00::/16)'),
  cidr6('fc00::/7', 'unique local (fc00::/7)'),
  cidr6('fe80::/10', 'link-local (fe80::/10)'),
  cidr6('fec0::/10', 'site-local (fec0::/10)'),
  cidr6('ff00::/8', 'multicast (ff00::/8)'),
]

const GLOBAL_UNICAST = cidr6('2000::/3', 'global unicast')

/**
 * ISATAP (RFC 5214) interface identifiers `0000:5efe:a.b.c.d` / `0200:5efe:a.b.c.d` (the u/l and g bits
 * may vary) tunnel to the embedded IPv4 whatever the prefix.
 */
function isatapEmbedded(bytes: Uint8Array): number | undefined {
  if (((bytes[8] ?? 0) & 0xfc) !== 0 || bytes[9] !== 0 || bytes[10] !== 0x5e || bytes[11] !== 0xfe) return undefined
  return v4At(bytes, 12)
}

export function classifyIPv6(bytes: Uint8Array): { public: true } | { public: false; reason: string } {
  for (const block of EMBEDDING_V6) {
    if (!inBlock6(bytes, block)) continue
    const v4 = classifyIPv4(v4At(bytes, 12))
    return v4.public ? v4 : { public: false, reason: `${block.reason} ${v4.reason}` }
  }
  const blocked = BLOCKED_V6.find((b) => inBlock6(bytes, b))
  if (blocked) return { public: false, reason: blocked.reason }
  if (!inBlock6(bytes, GLOBAL_UNICAST)) return { public: false, reason: 'not global unicast (outside 2000::/3)' }
  const isatap = isatapEmbedded(bytes)
  if (isatap !== undefined) {
    const v4 = classifyIPv4(isatap)
    if (!v4.public) return { public: false, reason: `ISATAP to ${v4.reason}` }
  }
  return { public: true }
}

/** Parse and classify. Text that is not an IP address is never public. */
export function checkAddress(text: string): AddressVerdict {
  const address = parseIP(text)
  if (!address) return { public: false, reason: `not an IP address: ${JSON.stringify(text)}` }
  const verdict = address.family === 4 ? classifyIPv4(address.value) : classifyIPv6(address.bytes)
  return verdict.public ? { public: true, address } : verdict
}

export function isPublicAddress(ip: string): boolean {
  return checkAddress(ip).public
}
