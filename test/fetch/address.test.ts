import { describe, expect, test } from 'bun:test'
import {
  checkAddress,
  formatAddress,
  formatIPv6,
  isPublicAddress,
  parseIP,
  parseIPv4,
  parseIPv6,
} from '../../src/fetch/address.ts'

describe('parseIPv4 accepts every form inet_aton / the URL parser does', () => {
  test.each([
    ['127.0.0.1', 0x7f000001],
    ['127.1', 0x7f000001],
    ['127.0.1', 0x7f000001],
    ['0x7f.1', 0x7f000001],
    ['0x7F.0.0.0x1', 0x7f000001],
    ['0177.0.0.1', 0x7f000001],
    ['2130706433', 0x7f000001],
    ['0x7f000001', 0x7f000001],
    ['017700000001', 0x7f000001],
    ['127.0.0.1.', 0x7f000001],
    ['255.255.255.255', 0xffffffff],
    ['0', 0],
  ])('%s', (text, value) => {
    expect(parseIPv4(text)).toBe(value)
  })

  test.each([
    '',
    '1.2.3.4.5',
    '256.1.1.1',
    '1.2.3.256',
    '1.2.65536',
    '4294967296',
    '08.1.1.1',
    '1..2',
    'a.b.c.d',
    '1.2.3.4x',
    '-1',
    'example.com',
  ])('rejects %p', (text) => {
    expect(parseIPv4(text)).toBeUndefined()
  })
})

describe('parseIPv6', () => {
  const hex = (bytes: Uint8Array | undefined): string | undefined => (bytes ? formatIPv6(bytes) : undefined)

  test.each([
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['::', '::'],
    ['::ffff:127.0.0.1', '::ffff:7f00:1'],
    ['::FFFF:7F00:1', '::ffff:7f00:1'],
    ['[::ffff:7f00:1]', '::ffff:7f00:1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['fe80::1%25eth0', 'fe80::1'],
    ['[fe80::1%eth0]', 'fe80::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['2606:4700:4700::1111', '2606:4700:4700::1111'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ['::127.0.0.1', '::7f00:1'],
    ['64:ff9b::10.0.0.1', '64:ff9b::a00:1'],
  ])('%s → %s', (text, canonical) => {
    expect(hex(parseIPv6(text))).toBe(canonical)
  })

  test.each([
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    ':::1',
    '12345::1',
    '::1.2.3',
    '::256.1.1.1',
    '::1.2.3.4.5',
    'g::1',
    '1:2:3:4:5:6:7::8',
    '127.0.0.1',
    'example.com',
  ])('rejects %p', (text) => {
    expect(parseIPv6(text)).toBeUndefined()
  })
})

describe('isPublicAddress', () => {
  // Every row is [address, public?]. Refused rows name the block they fall into.
  const refused: string[] = [
    // IPv4 special-purpose blocks
    '0.0.0.0',
    '0.255.255.255',
    '10.0.0.1',
    '10.255.255.255',
    '100.64.0.1',
    '100.127.255.254',
    '127.0.0.1',
    '127.255.255.254',
    '169.254.169.254',
    '172.16.0.1',
    '172.31.255.255',
    '192.0.0.1',
    '192.0.2.1',
    '192.88.99.1',
    '192.168.1.1',
    '198.18.0.1',
    '198.19.255.255',
    '198.51.100.7',
    '203.0.113.9',
    '224.0.0.1',
    '239.255.255.250',
    '240.0.0.1',
    '255.255.255.255',
    // The same, in the shorthand forms the OS would also accept
    '127.1',
    '0x7f.1',
    '2130706433',
    '0177.0.0.1',
    '0',
    '0xa9.0xfe.0xa9.0xfe',
    // IPv6
    '::',
    '::1',
    '[::1]',
    '0:0:0:0:0:0:0:1',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'fe80::1%eth0',
    '[fe80::1%25eth0]',
    'febf::1',
    'fec0::1',
    'ff02::1',
    'ff0e::1',
    '100::1',
    '2001:db8::1',
    '2001::1',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    '2001:2::1',
    '2001:10::1',
    '2002:c000:0204::1',
    '2002:7f00:1::1',
    '3fff::1',
    '5f00::1',
    // IPv4-mapped and other embedded forms of private IPv4
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '[::ffff:127.0.0.1]',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '::ffff:0.0.0.0',
    '::127.0.0.1',
    '::7f00:1',
    '::8.8.8.8',
    '::ffff:0:8.8.8.8',
    '64:ff9b::127.0.0.1',
    '64:ff9b::a9fe:a9fe',
    '64:ff9b::10.1.2.3',
    '64:ff9b:1::8.8.8.8',
    '2607:f8b0::5efe:10.0.0.1',
    '2607:f8b0::200:5efe:192.168.0.1',
    '2607:f8b0::5efe:7f00:1',
    'fe80::5efe:8.8.8.8',
    // Unallocated IPv6 (outside 2000::/3)
    '4000::1',
    'e000::1',
    '1::1',
    // Not addresses at all
    '',
    'localhost',
    'example.com',
    '1.2.3.4.5',
    '[::1',
    'not-an-ip',
  ]
  const allowed: string[] = [
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.0.1.255',
    '192.169.0.1',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '11.0.0.1',
    '126.255.255.255',
    '2606:4700:4700::1111',
    '[2a03:2880:f12f:83:face:b00c:0:25de]',
    '2001:4860:4860::8888',
    '2c0f:fb50::1',
    '::ffff:8.8.8.8',
    '::ffff:808:808',
    '64:ff9b::8.8.8.8',
    '2607:f8b0::5efe:8.8.8.8',
    '2001:200::1',
  ]

  test.each(refused)('refuses %p', (ip) => {
    expect(isPublicAddress(ip)).toBe(false)
    const verdict = checkAddress(ip)
    expect(verdict.public).toBe(false)
    if (!verdict.public) expect(verdict.reason.length).toBeGreaterThan(0)
  })

  test.each(allowed)('allows %p', (ip) => {
    expect(isPublicAddress(ip)).toBe(true)
  })

  test('reasons name the block', () => {
    expect(checkAddress('169.254.169.254')).toEqual({ public: false, reason: 'link-local (169.254.0.0/16)' })
    expect(checkAddress('100.64.0.1')).toEqual({ public: false, reason: 'carrier-grade NAT (100.64.0.0/10)' })
    expect(checkAddress('::ffff:127.0.0.1')).toEqual({ public: false, reason: 'IPv4-mapped loopback (127.0.0.0/8)' })
    expect(checkAddress('2002:808:808::1')).toEqual({ public: false, reason: '6to4 (2002::/16)' })
    expect(checkAddress('2607:f8b0::5efe:a00:1')).toEqual({ public: false, reason: 'ISATAP to private (10.0.0.0/8)' })
  })

  test('a public verdict carries the parsed address in canonical form', () => {
    const verdict = checkAddress('[2606:4700:4700:0:0:0:0:1111]')
    expect(verdict.public && formatAddress(verdict.address)).toBe('2606:4700:4700::1111')
    const v4 = checkAddress('0x8.0x8.0x8.0x8')
    expect(v4.public && formatAddress(v4.address)).toBe('8.8.8.8')
  })
})

describe('what reaches us through Bun’s URL parser', () => {
  // The client classifies `new URL(...).hostname`; these rows document that every obfuscated spelling is
  // normalised first, and that the normalised host is still refused.
  test.each([
    ['http://127.1/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://2130706433/', '127.0.0.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://%31%32%37.0.0.1/', '127.0.0.1'],
    ['http://127.0.0.1./', '127.0.0.1'],
    ['http://[::ffff:127.0.0.1]/', '[::ffff:7f00:1]'],
    ['http://[0:0:0:0:0:0:0:1]/', '[::1]'],
    ['http://[::127.0.0.1]/', '[::7f00:1]'],
  ])('%s has host %s, which is refused', (url, host) => {
    const hostname = new URL(url).hostname
    expect(hostname).toBe(host)
    expect(parseIP(hostname)).toBeDefined()
    expect(isPublicAddress(hostname)).toBe(false)
  })

  test('zone ids are not valid in URLs at all', () => {
    expect(() => new URL('http://[fe80::1%25eth0]/')).toThrow()
  })
})
