import { describe, expect, test } from 'bun:test'
import { formatAddress } from '../../src/fetch/address.ts'
import { clientAddress, clientKey, isTrusted, parseCidrList, readAddress } from '../../src/lib/client-ip.ts'

const trusted = parseCidrList('10.0.0.0/8, 192.0.2.7, fd00::/8')
const client = (peer: string | undefined, xff: string | null, list = trusted) => {
  const address = clientAddress(peer, xff, list)
  return address && formatAddress(address)
}

describe('reading addresses', () => {
  test('IPv4 as four decimal numbers, IPv6 as text; mapped IPv4 is IPv4', () => {
    expect(formatAddress(readAddress(' 203.0.113.9 ')!)).toBe('203.0.113.9')
    expect(formatAddress(readAddress('2001:DB8::1')!)).toBe('2001:db8::1')
    expect(formatAddress(readAddress('[2001:db8::1]')!)).toBe('2001:db8::1')
    expect(formatAddress(readAddress('::ffff:198.51.100.4')!)).toBe('198.51.100.4')
    expect(formatAddress(readAddress('::ffff:c633:6404')!)).toBe('198.51.100.4')
  })

  test('host names, ports, shorthands and junk are not addresses', () => {
    for (const text of ['', 'localhost', '1.2.3.4:80', '127.1', '0x7f.0.0.1', '2130706433', '1.2.3.256', 'unknown'])
      expect(readAddress(text)).toBeUndefined()
    expect(readAddress(`1.2.3.4${' '.repeat(80)}x`)).toBeUndefined()
  })
})

describe('HEADSHOT_TRUSTED_PROXIES', () => {
  test('addresses and blocks of both families; empty is none', () => {
    expect(parseCidrList('')).toEqual([])
    expect(parseCidrList(' , ')).toEqual([])
    const list = parseCidrList('10.0.0.0/8,::1, 2001:db8:abcd::/48,192.0.2.7/32')
    expect(list.map((c) => c.prefix)).toEqual([8, 128, 48, 32])
    expect(isTrusted(readAddress('10.255.1.2')!, list)).toBe(true)
    expect(isTrusted(readAddress('11.0.0.1')!, list)).toBe(false)
    expect(isTrusted(readAddress('::1')!, list)).toBe(true)
    expect(isTrusted(readAddress('2001:db8:abcd:ffff::9')!, list)).toBe(true)
    expect(isTrusted(readAddress('2001:db8:abce::9')!, list)).toBe(false)
    // An IPv4 block never matches an IPv6 address that is not a mapped one, and the reverse.
    expect(isTrusted(readAddress('::a00:1')!, list)).toBe(false)
    expect(isTrusted(readAddress('::ffff:10.0.0.1')!, list)).toBe(true)
  })

  test('odd prefix lengths cut inside a byte', () => {
    const list = parseCidrList('192.0.2.64/26, 2001:db8:8000::/33')
    expect(isTrusted(readAddress('192.0.2.127')!, list)).toBe(true)
    expect(isTrusted(readAddress('192.0.2.128')!, list)).toBe(false)
    expect(isTrusted(readAddress('2001:db8:ffff::1')!, list)).toBe(true)
    expect(isTrusted(readAddress('2001:db8:7fff::1')!, list)).toBe(false)
    expect(isTrusted(readAddress('203.0.113.1')!, parseCidrList('0.0.0.0/0'))).toBe(true)
  })

  test('anything else is refused, naming the entry', () => {
    for (const bad of ['10.0.0.0/33', '::/129', 'proxy.internal', '10.0.0.0/', '10.0.0.0/8/8', '10.0.0.0/-1', '1.2.3'])
      expect(() => parseCidrList(`192.0.2.1, ${bad}`)).toThrow(`"${bad}"`)
  })
})

describe('who the client is', () => {
  test('without trusted proxies the peer is the client, whatever X-Forwarded-For says', () => {
    expect(client('203.0.113.9', '198.51.100.1', [])).toBe('203.0.113.9')
  })

  test('X-Forwarded-For from a peer that is not a trusted proxy is ignored', () => {
    expect(client('203.0.113.9', '198.51.100.1')).toBe('203.0.113.9')
    expect(client('203.0.113.9', '10.0.0.1')).toBe('203.0.113.9')
  })

  test('behind a trusted proxy: the right-most entry that is not a trusted proxy', () => {
    expect(client('10.0.0.5', '198.51.100.1')).toBe('198.51.100.1')
    // The client wrote the left part itself; the proxy appended what it saw.
    expect(client('10.0.0.5', '1.1.1.1, 2.2.2.2, 198.51.100.1')).toBe('198.51.100.1')
    // Two proxies of ours in a row (a load balancer, then nginx).
    expect(client('10.0.0.5', '6.6.6.6, 198.51.100.1, 192.0.2.7, 10.1.1.1')).toBe('198.51.100.1')
    // Several X-Forwarded-For headers arrive joined by ", ".
    expect(client('fd00::1', '6.6.6.6, 2001:db8::9, fd12::3')).toBe('2001:db8::9')
  })

  test('a client forging trusted addresses on the left gets nowhere', () => {
    expect(client('10.0.0.5', '10.9.9.9, 198.51.100.1')).toBe('198.51.100.1')
  })

  test('every entry trusted: the left-most; no header: the proxy itself', () => {
    expect(client('10.0.0.5', '10.0.0.9, 10.0.0.8')).toBe('10.0.0.9')
    expect(client('10.0.0.5', null)).toBe('10.0.0.5')
    expect(client('10.0.0.5', '')).toBe('10.0.0.5')
  })

  test('an entry that is not an address stops at the trusted hop that passed it on', () => {
    expect(client('10.0.0.5', 'unknown')).toBe('10.0.0.5')
    expect(client('10.0.0.5', 'junk, 10.0.0.9')).toBe('10.0.0.9')
  })

  test('an unknown or unreadable peer is no client at all', () => {
    expect(client(undefined, '198.51.100.1')).toBeUndefined()
    expect(client('not-an-address', null)).toBeUndefined()
  })
})

describe('buckets', () => {
  test('an IPv4 address is its own bucket; an IPv6 client is its /64', () => {
    expect(clientKey(readAddress('203.0.113.9')!)).toBe('203.0.113.9')
    expect(clientKey(readAddress('::ffff:203.0.113.9')!)).toBe('203.0.113.9')
    expect(clientKey(readAddress('2001:db8:1:2:aaaa:bbbb:cccc:dddd')!)).toBe('2001:db8:1:2::/64')
    expect(clientKey(readAddress('2001:db8:1:2::1')!)).toBe(clientKey(readAddress('2001:db8:1:2:ffff::2')!))
    expect(clientKey(readAddress('2001:db8:1:3::1')!)).not.toBe(clientKey(readAddress('2001:db8:1:2::1')!))
  })
})
